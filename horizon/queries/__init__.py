"""The query layer: what the operations commands (and the web panel) read from the store.

Every function takes a `Store` (and the loaded fleet where it needs names, numbers and
budgets) and returns plain rows; the commands in `horizon.cli` only print them.
"""
