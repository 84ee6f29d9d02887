"""Evidence for the grader's design, run with ``python -m bench`` (not part of the tests).

``python -m bench`` runs every study; ``python -m bench initializers`` one of
them. Each study prints a table and its own wall time.
"""
