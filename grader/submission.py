"""Where a submission's modules are: SPEC's definition of a submission."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from grader.contract import TASKS

__all__ = ["Submission", "SubmissionError", "locate"]


class SubmissionError(Exception):
    """The path is not something the grader can grade (exit code 2)."""


@dataclass(frozen=True)
class Submission:
    given: str  # the path as the user typed it
    root: Path  # the directory that holds the modules

    def module_path(self, task: str) -> Path:
        return self.root / f"{task}.py"

    def has_module(self, task: str) -> bool:
        return self.module_path(task).is_file()


def locate(path: str) -> Submission:
    """A directory with the five modules directly, or under ``assignment/``."""
    p = Path(path)
    if not p.exists():
        raise SubmissionError(f"no such file or directory: {path}")
    if not p.is_dir():
        raise SubmissionError(f"{path} is not a directory; give the folder that holds "
                              f"{', '.join(t + '.py' for t in TASKS)}")
    for candidate in (p, p / "assignment"):
        if any((candidate / f"{t}.py").is_file() for t in TASKS):
            return Submission(given=path, root=candidate.resolve())
    raise SubmissionError(
        f"{path} is not a submission: it holds none of "
        f"{', '.join(t + '.py' for t in TASKS)} (directly or under assignment/)")
