"""Canvas' "Download Submissions": every student's files loose in one folder.

Canvas names each file of that download ``<student>_<user id>_<submission id>_<file>``
(``<student>_late_<user id>_...`` for a late submission), where ``<student>`` is the
student's name run together in lower case and ``<file>`` the name the student
uploaded, with ``-1``, ``-2``, ... before its extension when the student had
uploaded a file of that name before. :func:`groups` gathers them by student: the
``.py`` files, each under the name it was uploaded with (the highest number when a
name comes more than once: the latest upload), or, for a student who uploaded no
``.py`` file, their latest ``.zip`` or ``.ipynb`` (graded as any other);
:func:`copy_out` puts one student's ``.py`` files in a folder of their own. A
student is named ``<student>_<user id>``: two students of one name stay two, and
the user id is the ``ID`` column Canvas' gradebook import matches rows on.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CanvasFile", "parse", "groups", "copy_out"]

_NAME = re.compile(r"^(?P<who>[^_]+)_(?:late_)?(?P<uid>\d+)_\d+_(?P<file>.+)$",
                   re.IGNORECASE)
_AGAIN = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)(?P<ext>\.[^.]+)$")


@dataclass(frozen=True)
class CanvasFile:
    """One file of the download: where it is, whose it is, and its uploaded name."""

    path: Path
    student: str
    user_id: str
    original: str
    upload: int  # 0 for the first upload of that name, n for its "-n" copy


def parse(path: Path) -> CanvasFile | None:
    """The file as Canvas named it, or None when its name is not of that form."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    original, upload = match["file"], 0
    again = _AGAIN.match(original)
    if again is not None:
        original, upload = again["stem"] + again["ext"], int(again["n"])
    return CanvasFile(path, f"{match['who']}_{match['uid']}", match["uid"], original, upload)


def groups(paths) -> tuple[dict[str, list[CanvasFile]], list[CanvasFile]]:
    """(student name -> what is graded of theirs, the files left out) for the files of
    ``paths`` that Canvas named: their ``.py`` files (the latest upload of each name), or
    else their latest ``.zip`` or ``.ipynb`` alone. Other files are not Canvas' here."""
    latest: dict[tuple[str, str], CanvasFile] = {}
    archives: dict[str, list[CanvasFile]] = {}
    left: list[CanvasFile] = []
    for path in sorted(paths):
        suffix = path.suffix.lower()
        found = parse(path) if suffix in (".py", ".zip", ".ipynb") else None
        if found is None:
            continue
        if suffix != ".py":
            archives.setdefault(found.student, []).append(found)
            continue
        key = (found.student, found.original)
        if key in latest:
            older, found = sorted((latest[key], found), key=lambda f: f.upload)
            left.append(older)
        latest[key] = found
    out: dict[str, list[CanvasFile]] = {}
    for (student, _), found in sorted(latest.items()):
        out.setdefault(student, []).append(found)
    for student, packed in sorted(archives.items()):
        if student in out:  # the loose modules are what is graded
            left += packed
            continue
        packed.sort(key=lambda f: (f.upload, f.path.name))
        out[student] = [packed[-1]]
        left += packed[:-1]
    return out, sorted(left, key=lambda f: f.path.name)


def copy_out(files: list[CanvasFile], folder: Path) -> None:
    """``folder`` holding exactly ``files``, each under its uploaded name."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for found in files:
        shutil.copyfile(found.path, folder / found.original)
