"""Which of its module's other SPEC functions a student's function can reach.

While one function is graded, the module's other SPEC functions are the
grader's oracles (``grader.worker.substitute_helpers``), and most of those
need torch (a battery names those that do not: ``Profile.plain_helpers``).
A worker whose function cannot reach them needs NumPy alone, and is forked
from a much smaller server (``grader.workers``), which is what makes a
worker per function cheap. The answer is read from the source, never by
running it: the function's body, and transitively the module-level names it
uses. A name spelled out anywhere in what it reaches counts, a string
included (``globals()["compute_fans"]``). Code that builds the name at run
time escapes this reading; it still gets the right helper, only later (the
worker imports torch when the helper is first called).
"""
from __future__ import annotations

import ast
import functools

from grader.parsing import parse

__all__ = ["reaches_helpers"]


def _names(node: ast.AST) -> set[str]:
    """Every name, attribute and string constant used under ``node``."""
    out: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            out.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            out.add(sub.attr)
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            out.add(sub.value)
    return out


def _definitions(tree: ast.Module) -> dict[str, list[ast.AST]]:
    """Module-level name -> the statements that define it (def, class, assignment, import)."""
    found: dict[str, list[ast.AST]] = {}
    for stmt in tree.body:
        names: list[str] = []
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [stmt.name]
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names = [(a.asname or a.name).split(".")[0] for a in stmt.names]
        for name in names:
            found.setdefault(name, []).append(stmt)
    return found


@functools.lru_cache(maxsize=64)
def reaches_helpers(source: str, target: str, helpers: frozenset[str]) -> bool:
    """Whether ``target`` of ``source`` can reach any name of ``helpers``.

    True when the source does not parse or does not define ``target`` (the
    worker will say why; the answer then only picks a server).
    """
    try:
        tree = parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    definitions = _definitions(tree)
    if target not in definitions:
        return True
    seen, todo = {target}, [target]
    while todo:
        for stmt in definitions.get(todo.pop(), ()):
            for name in _names(stmt) - seen:
                if name in helpers:
                    return True
                seen.add(name)
                if name in definitions:
                    todo.append(name)
    return False
