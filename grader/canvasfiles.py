"""Canvas' "Download Submissions": every student's files loose in one folder.

Canvas names each file of that download ``<student>_<user id>_<submission id>_<file>``
(``<student>_late_<user id>_...`` for a late submission), where ``<student>`` is the
student's name run together in lower case and ``<file>`` the name the student
uploaded, with ``-1``, ``-2``, ... before its extension when the student had
uploaded a file of that name before. :func:`groups` gathers the ``.py`` files so
named by student, each under the name it was uploaded with (the highest number
when a name comes more than once: the latest upload); :func:`copy_out` puts one
student's files in a folder of their own, which is then graded like any other.
A student is named ``<student>_<user id>``: two students of one name stay two, and
the user id is the ``ID`` column Canvas' gradebook import matches rows on.
"""
from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CanvasFile", "parse", "groups", "copy_out"]

_NAME = re.compile(r"^(?P<who>[^_]+)_(?:late_)?(?P<uid>\d+)_\d+_(?P<file>.+)$", re.IGNORECASE)
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


def groups(paths) -> dict[str, list[CanvasFile]]:
    """Student name -> their files (the latest upload of each name), for the ``.py``
    files of ``paths`` that Canvas named; other files are left out."""
    latest: dict[tuple[str, str], CanvasFile] = {}
    for path in sorted(paths):
        if path.suffix.lower() != ".py":
            continue
        found = parse(path)
        if found is None:
            continue
        key = (found.student, found.original)
        if key not in latest or found.upload > latest[key].upload:
            latest[key] = found
    out: dict[str, list[CanvasFile]] = {}
    for (student, _), found in sorted(latest.items()):
        out.setdefault(student, []).append(found)
    return out


def copy_out(files: list[CanvasFile], folder: Path) -> None:
    """``folder`` holding exactly ``files``, each under its uploaded name."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for found in files:
        shutil.copyfile(found.path, folder / found.original)
