"""A student's module read as a tree, never run: the one place the grader parses source.

Its text is read as Python reads it (:func:`read_source`): a file saved with a
byte-order mark (Windows' Notepad) or an encoding declaration parses as it
imports.

CPython 3.11 keeps the AST constructor's recursion depth in state shared by
threads, so an ``ast.parse`` that overlaps another AST construction (ours or a
library's) can fail with "SystemError: AST constructor recursion depth
mismatch" (python/cpython#106905). The grader parses from several threads
(checks, and the choice of a worker's server): parsing is serialised, and a
parse that still hits the bug is simply done again.
"""
from __future__ import annotations

import ast
import io
import threading
import tokenize
from functools import lru_cache
from pathlib import Path

__all__ = ["parse", "read_source"]

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


def read_source(path: Path) -> str:
    """The text of the module at ``path`` as the import system decodes it: in the encoding
    its declaration or byte-order mark names (UTF-8 otherwise), the mark dropped, newlines
    universal. Bytes that encoding cannot decode (Python may still import the module: it
    checks comments loosely) are replaced. Raises OSError when the file cannot be read."""
    data = path.read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:  # an unknown or contradictory declaration: import fails as well
        encoding = "utf-8"
    text = data.decode(encoding, errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")
