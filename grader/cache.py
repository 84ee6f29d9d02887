"""Results of unchanged functions, kept under the submission for a fast re-check.

Grading is deterministic for a seed, so a function's results depend only on
its module's source, the seed, the grader's own files (its checks and their
points), any extra check files, and the versions of Python and the
frameworks. :func:`key` hashes all of these; ``.grader-cache/<task>.<function>.json``
keeps the results under that key. An entry is used only if its key matches
and its contents pass the same validation as a report read back
(``grader.results``): statuses, kinds and points that add up to the
function's points. Anything else is ignored and overwritten.

The cache is a convenience for the submission's author only: ``grader
batch``, the Gradescope bundle and ``--no-cache`` never read one, so a
planted cache cannot earn anyone a point. Entries are written atomically;
a submission folder that cannot be written to simply goes uncached.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from grader.contract import POINTS
from grader.scoring import to_units

__all__ = ["CACHE_DIR", "Cache", "fingerprint"]

CACHE_DIR = ".grader-cache"
_FORMAT = 1
_GRADER_DIR = Path(__file__).resolve().parent


def fingerprint(extra_files=()) -> str:
    """A hash of the grader's own source files and of any extra check files."""
    h = hashlib.sha256()
    files = sorted(p for p in _GRADER_DIR.rglob("*.py") if "__pycache__" not in p.parts)
    for path in [*files, *sorted(Path(f).resolve() for f in extra_files)]:
        h.update(str(path.relative_to(_GRADER_DIR) if path.is_relative_to(_GRADER_DIR)
                     else path.name).encode())
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


class Cache:
    """The cache of one submission, for one seed, grader and set of versions."""

    def __init__(self, submission, grader_fingerprint: str, seed: int, versions: dict) -> None:
        self.submission = submission
        self.dir = Path(submission.root) / CACHE_DIR
        self.base = json.dumps({"grader": grader_fingerprint, "seed": seed,
                                "versions": versions}, sort_keys=True)
        self.used: list[str] = []

    def key(self, task: str, function: str) -> str:
        try:
            source = self.submission.module_path(task).read_bytes()
        except OSError:
            source = b"<missing>"
        h = hashlib.sha256(self.base.encode())
        h.update(f"|{task}.{function}|".encode())
        h.update(hashlib.sha256(source).digest())
        return h.hexdigest()

    def _path(self, task: str, function: str) -> Path:
        return self.dir / f"{task}.{function}.json"

    def lookup(self, task: str, function: str, checks=None, units=None):
        """The cached results of ``function``, or None; validated before use."""
        from grader.results import check_from_dict

        try:
            data = json.loads(self._path(task, function).read_text(encoding="utf-8"))
            if data.get("format") != _FORMAT or data.get("key") != self.key(task, function):
                return None
            results = [check_from_dict(r) for r in data["results"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not results or any(r.task != task or r.function != function for r in results):
            return None
        if sum(r.max_units for r in results) != to_units(POINTS[task][function]):
            return None
        if checks is not None:
            if [r.id for r in results] != [c.id for c in checks]:
                return None
            if units is not None and any(r.max_units != units[r.id] for r in results):
                return None
            import dataclasses

            results = [dataclasses.replace(r, visibility=c.visibility, gated=c.gated)
                       for r, c in zip(results, checks)]
        import dataclasses

        self.used.append(f"{task}.{function}")
        return [dataclasses.replace(r, cached=True) for r in results]

    def store(self, task: str, function: str, results) -> None:
        """Keep ``results``; timeouts and crashes are not kept (they may be the machine's)."""
        if any(r.status == "timeout" for r in results):
            return
        data = {"format": _FORMAT, "key": self.key(task, function),
                "results": [r.to_dict() for r in results]}
        try:
            self.dir.mkdir(exist_ok=True)
            ignore = self.dir / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n", encoding="utf-8")
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, self._path(task, function))
        except OSError:
            pass
