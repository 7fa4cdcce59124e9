"""Seed data and the code that turns sources into rows."""
