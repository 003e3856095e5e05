"""Comparisons run whole analyses once per segment and test the differences between them;
they are the only modules that call an analysis."""
