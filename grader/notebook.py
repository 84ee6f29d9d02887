"""Checking from inside a Jupyter or Colab notebook: ``check("initializers")``.

The notebook's cells write the modules (``%%writefile initializers.py``);
:func:`check` grades those files with the grader's usual worker processes,
started by a separate ``python -m grader check`` process, never in the
kernel: nothing the kernel holds (an earlier definition, a patched module,
cell execution order) can leak into the grade, so what passes here passes in
the grader. The result shows as the HTML report (pictures included) in a
notebook, and as the text report in a plain console.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["check", "versions", "unsupported", "Result"]


def unsupported(found: dict) -> list[str]:
    """The libraries found here outside the ranges the grader's package declares.

    The ranges are read from the installed package's metadata (its
    ``pyproject.toml``); a library that is missing is not listed here (the
    check that needs it says so).
    """
    from importlib import metadata

    try:
        from packaging.requirements import Requirement
        requires = metadata.requires("weight-init-grader") or []
    except (ImportError, metadata.PackageNotFoundError):
        return []
    out = []
    for line in requires:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = "tensorflow" if req.name == "tensorflow-cpu" else req.name
        version = found.get(name)
        if version and not req.specifier.contains(version.split("+")[0], prereleases=True):
            out.append(f"{name} {version} (supported: {req.specifier})")
    return out


def versions() -> str:
    """One line: the versions the grader uses here (Colab's preinstalled ones included)."""
    from grader.runner import versions as found

    v = found()
    line = ("grader " + v.get("grader", "?") + " using " + ", ".join(
        f"{name} {v[name]}" for name in ("python", "numpy", "torch", "tensorflow", "keras")
        if v.get(name)))
    outside = unsupported(v)
    if outside:
        line += ("\nOutside the supported range: " + "; ".join(outside)
                 + ". Checks may differ from the final grade; install a supported version.")
    return line


class Result:
    """A grading report that shows itself: HTML in a notebook, text elsewhere."""

    def __init__(self, report, problem: str = "") -> None:
        self.report = report
        self.problem = problem

    @property
    def score(self) -> float:
        return self.report.score if self.report is not None else 0.0

    def _repr_html_(self) -> str:
        if self.report is None:
            from html import escape

            return f"<pre>{escape(self.problem)}</pre>"
        from grader.reporters import render

        return render(self.report, "html")

    def __repr__(self) -> str:
        if self.report is None:
            return self.problem
        from grader.reporters import render

        return render(self.report, "text")


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    try:
        return shell is not None and shell.get_ipython() is not None and \
            type(shell.get_ipython()).__name__ != "TerminalInteractiveShell"
    except Exception:  # noqa: BLE001
        return False


def check(task: str | None = None, path: str = ".", *options: str, seed: int = 0,
          pictures: bool = True) -> Result | None:
    """Grade ``task`` (or everything) of the modules in ``path`` in separate processes.

    Extra ``options`` go to ``grader check`` (e.g. ``"--function", "he_normal"``).
    In a notebook the returned :class:`Result` shows as the HTML report; in a
    console the text report is printed and nothing is returned.
    """
    from grader.results import report_from_dict

    args = [sys.executable, "-m", "grader", "check", str(Path(path).resolve()),
            "--format", "json", "--seed", str(seed), *options]
    if task:
        args += ["--task", task]
    if pictures:
        args.append("--pictures")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("MPLBACKEND", None)
    proc = subprocess.run(args, capture_output=True, text=True, env=env)
    if proc.returncode not in (0, 1) or not proc.stdout.strip():
        result = Result(None, proc.stderr.strip() or f"grader check exited with "
                                                     f"{proc.returncode}")
    else:
        result = Result(report_from_dict(json.loads(proc.stdout)))
    if not _in_notebook():
        print(repr(result))
        return None  # the console has printed it; nothing more to show
    return result
