"""Comparisons: whole analyses run once per segment, and the differences tested.

They are the only modules that call an analysis.
"""
