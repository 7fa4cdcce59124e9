"""What the mutations do: check the input, then write it in one transaction, or nothing.

One module per family (papers, citations, researchers, merge, imports);
`validation` holds the checks that need no database, `transactions` the one
way a write is run. Functions here return rows and problems, never schema types.
"""
