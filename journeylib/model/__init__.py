"""The journey model: events, rules, stages, and the building blocks the analyses share."""
