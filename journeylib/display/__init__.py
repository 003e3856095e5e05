"""Showing results: the Result type, its tables and its charts."""
