"""Statements that change rows, one per function; the caller owns the transaction."""
