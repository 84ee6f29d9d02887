"""Turn what a user hands in (a folder, a ``.zip``, a notebook) into a :class:`Submission`.

Zips are unpacked into a private temporary folder with safe names only (no
absolute paths, no ``..``, no drive letters, no links), at most 2,000 members and 64 MB in
all; notebooks are read, never run (``grader.notebooks``). The temporary
folder lives as long as the ``with`` block.
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from grader.submission import SubmissionError, found, locate

__all__ = ["open_submission", "unpack_zip", "MAX_ZIP_BYTES", "MAX_ZIP_MEMBERS"]

MAX_ZIP_BYTES = 64 * 1024 * 1024
MAX_ZIP_MEMBERS = 2000


def unpack_zip(archive: Path, into: Path) -> None:
    """Extract ``archive`` into ``into``, refusing unsafe or oversized content."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise SubmissionError(f"{archive.name} holds {len(members)} files (more than "
                                      f"{MAX_ZIP_MEMBERS})")
            if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
                raise SubmissionError(f"{archive.name} unpacks to more than "
                                      f"{MAX_ZIP_BYTES // 2**20} MB")
            for m in members:
                name = PurePosixPath(m.filename.replace("\\", "/"))
                if (m.is_dir() or not name.parts or name.is_absolute() or ".." in name.parts
                        or any(":" in part for part in name.parts)):  # "C:" escapes on Windows
                    continue
                if (m.external_attr >> 16) & 0o170000 == 0o120000:  # a symbolic link
                    continue
                target = into.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(m) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{archive.name} is not a readable zip file: {exc}") from None


@contextlib.contextmanager
def open_submission(path: str, unpack_in: str | None = None):
    """The submission at ``path``: a folder, a ``.zip`` or an ``.ipynb`` notebook (unpacked
    in a new folder inside ``unpack_in``, by default the system's temporary folder)."""
    p = Path(path)
    if p.is_file() and p.suffix.lower() == ".zip":
        with tempfile.TemporaryDirectory(prefix="grader-zip-", dir=unpack_in) as tmp:
            unpack_zip(p, Path(tmp))
            submission = found(Path(tmp), path)
            if submission is None:
                raise SubmissionError(f"{path} holds none of the five modules (directly, under "
                                      "assignment/, or one or two folders deep)")
            yield submission
        return
    if p.is_file() and p.suffix.lower() == ".ipynb":
        from grader import notebooks

        with tempfile.TemporaryDirectory(prefix="grader-notebook-", dir=unpack_in) as tmp:
            yield notebooks.submission(p, Path(tmp), given=path)
        return
    yield locate(path)
