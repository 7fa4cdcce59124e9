"""Persistence: SQLModel tables, the async engine, queries and migrations.

Nothing here imports the rest of the project; every other layer imports this one.
"""
