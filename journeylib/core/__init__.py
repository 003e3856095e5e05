"""The engine and what every layer needs: errors, quoting and the SQL type, the canonical schema, durations, YAML files, privacy rules."""
