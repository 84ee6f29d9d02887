"""Where a submission's modules are.

A submission is a folder holding the five modules, directly or under an
``assignment/`` folder inside it (the student API's definition), or one or
two folders deeper (a zip's ``hw3/`` or ``my_submission/hw3/``), or a
``.zip`` of such a folder, or a notebook whose cells write the modules
(``grader.notebooks``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from grader.contract import TASKS

__all__ = ["Submission", "SubmissionError", "locate", "find_root", "found", "MODULE_FILES"]

MODULE_FILES = tuple(f"{t}.py" for t in TASKS)


class SubmissionError(Exception):
    """The path is not something the grader can grade (exit code 2)."""


@dataclass(frozen=True)
class Submission:
    given: str  # the path as the user typed it
    root: Path  # the directory that holds the modules
    #: module -> where it came from, when that is not a plain file (a notebook cell)
    sources: dict = field(default_factory=dict)
    #: how a missing module should be provided (a notebook names its convention)
    convention: str = ""
    #: what the report should say about where the modules were found (``found``)
    notes: tuple[str, ...] = ()

    def module_path(self, task: str) -> Path:
        return self.root / f"{task}.py"

    def has_module(self, task: str) -> bool:
        return self.module_path(task).is_file()

    def missing_message(self, task: str) -> str:
        return f"the submission has no {task}.py"

    def missing_hint(self, task: str) -> str:
        return self.convention.format(module=task) or (
            f"Copy {task}.py from the assignment you were given into your submission folder.")


def _holds(folder: Path) -> bool:
    return any((folder / name).is_file() for name in MODULE_FILES)


def _places(folder: Path, depth: int) -> list[tuple[Path, int]]:
    """(folder, how many modules it holds) of every folder that holds some: ``folder`` and
    its ``assignment/`` (nothing deeper is looked at when they hold one), then up to
    ``depth`` levels below, shallowest first, each level by name."""
    out: list[tuple[Path, int]] = []
    frontier = [folder]
    for level in range(depth + 1):
        found = []
        for candidate in frontier:
            for place in (candidate, candidate / "assignment"):
                if place.is_dir() and _holds(place):
                    found.append(place)
        out += [(place, sum((place / n).is_file() for n in MODULE_FILES))
                for place in sorted(found)]
        if out and level == 0:
            return out
        frontier = sorted(p for c in frontier if c.is_dir() for p in c.iterdir()
                          if p.is_dir() and not p.name.startswith((".", "__")))
    return out


def _best(places: list[tuple[Path, int]]) -> Path | None:
    best, best_count = None, 0
    for place, count in places:
        if count > best_count:
            best, best_count = place, count
    return best


def find_root(folder: Path, depth: int = 2) -> Path | None:
    """The folder holding the modules: ``folder``, its ``assignment/``, or up to ``depth``
    levels below (the one with the most modules; ties to the shallowest, then by name)."""
    return _best(_places(folder, depth))


def found(folder: Path, given: str) -> Submission | None:
    """The submission in ``folder`` (:func:`find_root`), or None. When another folder in it
    holds as many modules (``draft/`` and ``final/``), the grader cannot know which one the
    student meant: the submission's notes say which was graded, and which were not."""
    places = _places(folder, 2)
    root = _best(places)
    if root is None:
        return None
    most = max(count for _, count in places)
    rivals = [place for place, count in places if count == most and place != root]
    notes: tuple[str, ...] = ()
    if rivals:
        def shown(place: Path) -> str:
            return (place.relative_to(folder).as_posix() or ".") + "/"

        notes = (f"the modules are in more than one folder: graded {shown(root)}, not "
                 f"{', '.join(shown(p) for p in rivals)} (keep one copy in a submission)",)
    return Submission(given=given, root=root.resolve(), notes=notes + _links_out(root))


def _links_out(root: Path) -> tuple[str, ...]:
    """A note for each module that is a link to a file outside the submission: a batch or
    Gradescope grades the submission's own files only (the link then finds nothing)."""
    inside = os.path.realpath(root)
    notes = []
    for name in MODULE_FILES:
        path = root / name
        if path.is_symlink() and not os.path.realpath(path).startswith(inside + os.sep):
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            notes.append(f"{name} is a link to {target}, outside the submission: a batch or "
                         f"Gradescope grades only the submission's own files, so copy the "
                         f"file itself in")
    return tuple(notes)


def _suggest(base: Path) -> str:
    """Where the modules probably are, for the 'not a submission' messages."""
    if _holds(Path.cwd()) and not _holds(base):
        return " They are in this folder: run `grader check .`"
    root = find_root(base, depth=3) if base.is_dir() else None
    if root is not None and root.resolve() != base.resolve():
        return f" Found them in {root}: run `grader check {root}`"
    return (" Run grader check with the folder that holds them (the assignment folder you "
            "were given).")


def locate(path: str) -> Submission:
    """The submission at ``path`` (a folder; zips and notebooks are unpacked by the caller)."""
    p = Path(path)
    if not p.exists():
        raise SubmissionError(f"no such file or directory: {path}; give the folder that "
                              f"holds {', '.join(MODULE_FILES)}.{_suggest(p)}")
    if not p.is_dir():
        raise SubmissionError(f"{path} is not a folder; give the folder that holds "
                              f"{', '.join(MODULE_FILES)}")
    submission = found(p, path)
    if submission is None:
        raise SubmissionError(
            f"{path} is not a submission: it holds none of {', '.join(MODULE_FILES)} "
            f"(directly, under assignment/, or one or two folders deep).{_suggest(p)}")
    return submission
