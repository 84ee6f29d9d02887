"""``grader release --out DIR``: the student's project, without the solutions.

The release holds the stubs (``assignment/``), the grader with every public
check, a ``pyproject.toml``, the student README, the handout, the student's
copy of the contract, ``grade.py`` (set up and grade, on any system) and
``assignment.ipynb`` (the notebook version). It holds none of the reference
solutions, no quiz key (in the release the quiz's answers are checked for their form and
graded on submission), no hidden check, no test, and none of the
instructor's commands (``release``, ``export``, ``docs``, ``batch``).
"""
from __future__ import annotations

import shutil
from pathlib import Path

__all__ = ["add_parser", "build_release", "RELEASE_EXCLUDES", "PROJECT"]

PROJECT = Path(__file__).resolve().parent.parent
#: files of the instructor's grader that the release leaves out
RELEASE_EXCLUDES = ("quiz_key.py", "release.py", "export.py", "docs.py", "batch.py",
                    "classbook.py", "classpage.py", "autograder.py", "templates/class.html.j2")

_PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "weight-init-assignment"
version = "{version}"
description = "The weight-initialisation assignment and its grader"
readme = "README.md"
requires-python = ">=3.10"
dependencies = [
{dependencies}
]

[project.scripts]
grader = "grader.cli:console"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = ["templates/*.j2"]
'''

_GITIGNORE = ".venv/\n__pycache__/\n.grader-cache/\n*.egg-info/\nreports/\n"


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "release", help="write the student release (no solutions, no quiz key)",
        description="Write the student's project into DIR: the stubs, the grader with every "
                    "public check, the README, the handout, the contract, grade.py and "
                    "assignment.ipynb. None of the reference solutions, the quiz key or hidden checks.")
    parser.add_argument("--out", required=True, metavar="DIR")
    parser.add_argument("--force", action="store_true", help="replace DIR if it exists")
    parser.set_defaults(run=_run)


def _dependencies() -> list[str]:
    import tomllib

    data = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    return list(data["project"]["dependencies"])


def _copy_grader(target: Path) -> None:
    source = PROJECT / "grader"

    def ignore(folder, names):
        rel = Path(folder).relative_to(source)
        return [n for n in names if n in ("__pycache__", ".grader-cache")
                or (rel / n).as_posix() in RELEASE_EXCLUDES]
    shutil.copytree(source, target / "grader", ignore=ignore)


def build_release(out: Path) -> list[Path]:
    """Write the release into ``out`` (which must not exist); the files written."""
    from grader import __version__

    handout = PROJECT / "handout"
    out.mkdir(parents=True)
    shutil.copytree(PROJECT / "assignment", out / "assignment",
                    ignore=shutil.ignore_patterns("__pycache__", ".grader-cache"))
    _copy_grader(out)
    for name in ("README.md", "HANDOUT.md", "CONTRACT.md"):
        shutil.copy(handout / name, out / name)
    shutil.copy(handout / "grade.py", out / "grade.py")
    deps = ",\n".join(f'    "{d}"' for d in _dependencies())
    (out / "pyproject.toml").write_text(_PYPROJECT.format(version=__version__,
                                                          dependencies=deps), encoding="utf-8")
    (out / ".gitignore").write_text(_GITIGNORE, encoding="utf-8")
    from grader import notebooks

    notebooks.build(out / "assignment.ipynb", out / "assignment",
                    (handout / "HANDOUT.md").read_text(encoding="utf-8"))
    return sorted(p for p in out.rglob("*") if p.is_file())


def _run(args) -> int:
    import sys

    from grader.cli import UsageError

    out = Path(args.out)
    if out.exists():
        if not args.force:
            raise UsageError(f"{out} exists; remove it or pass --force")
        if not out.is_dir():
            raise UsageError(f"cannot write {out}: it is a file")
        shutil.rmtree(out)
    try:
        files = build_release(out)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"grader: the student release is in {out} ({len(files)} files)", file=sys.stderr)
    return 0
