"""Statements, one per function, named for what they fetch or write."""
