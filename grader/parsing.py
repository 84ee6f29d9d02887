"""A student's module read as a tree, never run: the one place the grader parses source.

CPython 3.11 keeps the AST constructor's recursion depth in state shared by
threads, so an ``ast.parse`` that overlaps another AST construction (ours or a
library's) can fail with "SystemError: AST constructor recursion depth
mismatch" (python/cpython#106905). The grader parses from several threads
(checks, and the choice of a worker's server): parsing is serialised, and a
parse that still hits the bug is simply done again.
"""
from __future__ import annotations

import ast
import threading
from functools import lru_cache

__all__ = ["parse"]

_PARSE_LOCK = threading.Lock()


@lru_cache(maxsize=16)
def parse(source: str) -> ast.Module:
    """The module's tree, parsed once for all its uses (a pure function of the text; the
    tree is only read). Raises SyntaxError (or ValueError) as ``ast.parse`` does."""
    with _PARSE_LOCK:
        try:
            return ast.parse(source)
        except SystemError:  # the race above, with another thread's AST work
            return ast.parse(source)
