"""What people use: the command line, the widgets and the scheduled report."""
