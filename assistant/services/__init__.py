"""The one service layer between the front doors (API, CLI) and the engines.

Every function here takes a ``Caller``, checks what it may do through ``policy``, writes the audit row
before it returns anything, and returns plain data. The API routes and the CLI commands call these and
nothing lower, so the two front doors cannot disagree about who may see what.
"""
