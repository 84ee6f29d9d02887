"""A guard on the grader's own files and the reference.

The grader hashes every file of its own package (and of ``reference/`` where
it exists, in the instructor's repository) before a submission is graded and
again after; any difference (a file written, added or removed, bytecode
planted in a cache) means the grade cannot be trusted, and the command says
so loudly and exits with code 3.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["GUARDED", "snapshot", "changes", "compile_own"]

_ROOT = Path(__file__).resolve().parent.parent
GUARDED = tuple(p for p in (_ROOT / "grader", _ROOT / "reference") if p.is_dir())


def compile_own(root: Path = _ROOT / "grader") -> None:
    """Bring the bytecode of the grader's own modules up to date, before a snapshot.

    A grading writes no bytecode (``sys.dont_write_bytecode``: any new bytecode
    below ``grader/`` is then someone else's), so a module without an up-to-date
    cache would be compiled from its source by every run. Where the package is
    read-only this does nothing.
    """
    import compileall

    compileall.compile_dir(str(root), quiet=2)


def snapshot(roots=GUARDED) -> dict[str, str]:
    """path -> sha256 of every file below ``roots`` (bytecode caches included; the
    grader's own result cache, ``.grader-cache/``, left out)."""
    out = {}
    for root in roots:
        for path in sorted(Path(root).rglob("*")):
            if path.is_file() and ".grader-cache" not in path.parts:
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Readable lines for every file added, removed or modified."""
    lines = [f"modified: {p}" for p in before if p in after and before[p] != after[p]]
    lines += [f"removed: {p}" for p in before if p not in after]
    lines += [f"added: {p}" for p in after if p not in before]
    return sorted(lines)
