"""Getting data in: workspaces, the load pipeline, the sources, channel rules, unloads, remote engines, the sample data and data quality."""
