"""Notebooks as submissions, and the notebook of the student release.

A notebook is graded by the files it would write, never by running it: a
code cell whose first line is ``%%writefile <module>.py`` (``-a`` appends)
gives that module's source, as does a cell whose first line is
``# grader: <module>``. Running the notebook top to bottom would leave the
last such cell of each module in the file, so the last one wins. Nothing
else of the notebook runs. The report says which cell each module came from,
and a module missing from the notebook is reported missing, with the
convention to use.
"""
from __future__ import annotations

import re
from pathlib import Path

from grader.contract import TASKS
from grader.submission import Submission, SubmissionError

__all__ = ["modules_of", "submission", "build", "CONVENTION"]

CONVENTION = ("Write {module}.py from a code cell that starts with `%%writefile {module}.py` "
              "(or whose first line is `# grader: {module}`).")
_WRITEFILE = re.compile(r"^%%writefile(\s+-a)?\s+(?:\./)?([A-Za-z_]\w*)\.py\s*$")
_MARKER = re.compile(r"^#\s*grader:\s*([A-Za-z_]\w*)\s*$")


def modules_of(nb) -> dict[str, tuple[str, str]]:
    """module -> (source, where it came from) for the five modules the notebook writes."""
    found: dict[str, tuple[str, str]] = {}
    for index, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        text = cell.get("source", "")
        first, _, rest = text.partition("\n")
        match = _WRITEFILE.match(first.strip())
        if match and match.group(2) in TASKS:
            module, append = match.group(2), bool(match.group(1))
            source = (found[module][0] if append and module in found else "") + rest
            found[module] = (source, f"notebook cell {index} (%%writefile)")
            continue
        match = _MARKER.match(first.strip())
        if match and match.group(1) in TASKS:
            found[match.group(1)] = (text, f"notebook cell {index} (# grader:)")
    return found


def submission(path: Path, into: Path, given: str) -> Submission:
    """The modules of the notebook at ``path`` written into ``into``, as a submission."""
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a bad file
        raise SubmissionError(f"{given} is not a readable notebook: {exc}") from None
    found = modules_of(nb)
    if not found:
        raise SubmissionError(f"{given} writes none of the five modules. "
                              + CONVENTION.format(module="<module>"))
    for module, (source, _) in found.items():
        (into / f"{module}.py").write_text(source, encoding="utf-8")
    return Submission(given=given, root=into.resolve(),
                      sources={m: where for m, (_, where) in sorted(found.items())},
                      convention=CONVENTION)


# -- the release's notebook ------------------------------------------------------------------
_SETUP = '''# Installs what is missing (and nothing else): the grader from this release
# (the folder this notebook is in, or the release's .zip uploaded next to it on
# Colab), and any library the grader needs that is not installed already.
# On Colab, torch and TensorFlow are preinstalled and are used as they are.
import glob, importlib.util, os, subprocess, sys, zipfile

def _pip(*args):
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", *args])

if importlib.util.find_spec("grader") is None:
    here = "." if os.path.isdir("grader") else None
    for archive in glob.glob("*.zip") if here is None else ():
        with zipfile.ZipFile(archive) as zf:
            zf.extractall("release")
        found = glob.glob("release/**/grader/__init__.py", recursive=True)
        if found:
            here = os.path.dirname(os.path.dirname(found[0]))
            break
    if here is None:
        raise SystemExit("Put this notebook in the release folder, or upload the release .zip")
    _pip("--no-deps", here)
_needs = {"numpy": "numpy", "scipy": "scipy", "hypothesis": "hypothesis", "rich": "rich",
          "junitparser": "junitparser", "jinja2": "jinja2", "matplotlib": "matplotlib",
          "nbformat": "nbformat", "keras": "keras", "packaging": "packaging",
          "tensorflow": "tensorflow-cpu" if sys.platform.startswith("linux") else "tensorflow"}
_missing = [pkg for mod, pkg in _needs.items() if importlib.util.find_spec(mod) is None]
if importlib.util.find_spec("torch") is None:
    _pip("torch==2.13.0", *(["--index-url", "https://download.pytorch.org/whl/cpu"]
                            if sys.platform.startswith("linux") else []))
if _missing:
    _pip(*_missing)
from grader.notebook import versions
print(versions())'''


def _handout_cells(handout: str) -> list[str]:
    """The handout as Markdown cells, one per top-level section."""
    parts = re.split(r"(?m)^(?=## )", handout)
    return [p.strip() for p in parts if p.strip()]


def build(path: Path, assignment: Path, handout: str) -> None:
    """Write the release's notebook: the handout, then per module its stub and a check cell."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = [new_markdown_cell(text) for text in _handout_cells(handout)]
    cells.append(new_markdown_cell(
        "## Set up\n\nRun this cell first. It installs only what is missing and says which "
        "versions the grader uses."))
    cells.append(new_code_cell(_SETUP))
    for task in TASKS:
        cells.append(new_markdown_cell(
            f"## `{task}.py`\n\nFill in the functions below (their docstrings say how), run "
            f"the cell to write `{task}.py`, then run the check cell after it. The check grades "
            "the file in separate processes, never in this notebook's kernel: what passes "
            "here passes in the grader."))
        stub = (assignment / f"{task}.py").read_text(encoding="utf-8")
        cells.append(new_code_cell(f"%%writefile {task}.py\n{stub}"))
        cells.append(new_code_cell(f"from grader.notebook import check\ncheck({task!r})"))
    cells.append(new_markdown_cell("## Everything\n\nThe whole assignment at once:"))
    cells.append(new_code_cell("from grader.notebook import check\ncheck()"))
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.write(nb, str(path))
