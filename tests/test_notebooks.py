"""Notebooks: the release's notebook run by a real Jupyter kernel, and notebooks as submissions."""
from __future__ import annotations

import json
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import REFERENCE, ROOT, STUBS, TASKS, run_cli
from grader import notebooks
from grader.checks import has_quiz_key
from grader.notebook import unsupported

POINTS = {"initializers": 35, "batchnorm": 20, "diagnostics": 20, "frameworks": 10, "quiz": 15}


def _execute(nb, where, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(where)}}).execute()
    return nb


def _check_cells(nb) -> dict[str, str]:
    """task -> the text of the check cell's inline result (its first line: the task's score)."""
    shown = {}
    for cell in nb.cells:
        match = re.search(r"check\((?:'(\w+)')?\)$", cell.source)
        if cell.cell_type == "code" and match:
            results = [o for o in cell.outputs if o.output_type == "execute_result"]
            assert len(results) == 1, cell.outputs
            assert "text/html" in results[0].data, "the result shows as HTML in a notebook"
            shown[match.group(1) or "all"] = results[0].data["text/plain"]
    return shown


@pytest.fixture(scope="module")
def release_notebook(tmp_path_factory):
    where = tmp_path_factory.mktemp("nb")
    notebooks.build(where / "assignment.ipynb", STUBS,
                    (ROOT / "handout" / "HANDOUT.md").read_text(encoding="utf-8"))
    return where / "assignment.ipynb"


def test_the_notebook_holds_the_handout_the_stubs_and_a_check_per_task(release_notebook):
    nb = nbformat.read(str(release_notebook), as_version=4)
    writes = [c.source.splitlines()[0] for c in nb.cells if c.source.startswith("%%writefile")]
    assert writes == [f"%%writefile {t}.py" for t in TASKS]
    assert nb.cells[0].cell_type == "markdown"
    for task in TASKS:
        cell = next(c for c in nb.cells if c.source.startswith(f"%%writefile {task}.py"))
        stub = (STUBS / f"{task}.py").read_text(encoding="utf-8")
        assert cell.source.split("\n", 1)[1] == stub


def test_the_stub_notebook_run_top_to_bottom_shows_zero(release_notebook, monkeypatch):
    nb = nbformat.read(str(release_notebook), as_version=4)
    _execute(nb, release_notebook.parent, monkeypatch)
    setup = next(c for c in nb.cells if "from grader.notebook import versions" in c.source)
    said = "".join(o.get("text", "") for o in setup.outputs)
    assert re.search(r"torch \d", said) and "numpy" in said, said
    shown = _check_cells(nb)
    assert set(shown) == set(TASKS) | {"all"}
    for task in TASKS:
        assert shown[task].splitlines()[0].split() == [task, "0", "/", str(POINTS[task])]
    assert "Score: 0 / 100" in shown["all"] and "Traceback" not in shown["all"]


def test_the_reference_pasted_in_gets_full_marks_and_equals_the_folder(
        release_notebook, tmp_path, monkeypatch):
    nb = nbformat.read(str(release_notebook), as_version=4)
    for cell in nb.cells:
        for task in TASKS:
            if cell.source.startswith(f"%%writefile {task}.py"):
                cell.source = (f"%%writefile {task}.py\n"
                               + (REFERENCE / f"{task}.py").read_text(encoding="utf-8"))
    _execute(nb, tmp_path, monkeypatch)
    shown = _check_cells(nb)
    for task in TASKS:
        first = shown[task].splitlines()[0].split()
        # the quiz is graded where its key is (here, the instructor's grader; not a release)
        expected = "0" if task == "quiz" and not has_quiz_key() else str(POINTS[task])
        assert first == [task, expected, "/", str(POINTS[task])], shown[task]
    saved = tmp_path / "hw.ipynb"
    nbformat.write(nb, str(saved))
    from_notebook = _report(saved, "--task", "diagnostics", "--task", "quiz")
    from_folder = _report(tmp_path, "--task", "diagnostics", "--task", "quiz")
    assert _scores(from_notebook) == _scores(from_folder)
    assert from_notebook["score"] == from_folder["score"] >= 20
    assert from_notebook["sources"]["diagnostics"].startswith("notebook cell ")


def _report(path, *args) -> dict:
    proc = run_cli("check", str(path), "--format", "json", "--no-cache", *args)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _scores(report) -> dict[str, tuple]:
    return {c["id"]: (c["status"], c["score"]) for t in report["tasks"] for c in t["checks"]}


def _notebook(path, *cells):
    nb = new_notebook(cells=[new_markdown_cell("# my homework")]
                      + [new_code_cell(c) for c in cells])
    nbformat.write(nb, str(path))
    return path


QUIZ = (REFERENCE / "quiz.py").read_text(encoding="utf-8")


def test_the_last_version_of_a_module_wins(tmp_path):
    wrong = QUIZ.replace("ANSWERS = {", "ANSWERS = {'q1': 12345, 'unused': 0, ", 1)
    path = _notebook(tmp_path / "hw.ipynb", f"%%writefile quiz.py\n{wrong}", "print('hi')",
                     f"%%writefile quiz.py\n{QUIZ}")
    report = _report(path, "--task", "quiz")
    assert report["sources"]["quiz"] == "notebook cell 4 (%%writefile)"
    assert all(s == "passed" for s, _ in _scores(report).values() if s != "skipped")


def test_a_grader_marker_cell_is_a_module(tmp_path):
    path = _notebook(tmp_path / "hw.ipynb", f"# grader: quiz\n{QUIZ}")
    report = _report(path, "--task", "quiz")
    assert report["sources"]["quiz"] == "notebook cell 2 (# grader:)"


def test_a_missing_module_is_reported_with_the_convention(tmp_path):
    path = _notebook(tmp_path / "hw.ipynb", f"%%writefile quiz.py\n{QUIZ}")
    report = _report(path, "--task", "batchnorm")
    said = {(c["message"], c["hint"]) for t in report["tasks"] for c in t["checks"]}
    assert report["score"] == 0 and len(said) == 1
    message, hint = said.pop()
    assert message == "the submission has no batchnorm.py"
    assert hint.startswith("Write batchnorm.py from a code cell that starts with "
                           "`%%writefile batchnorm.py`"), hint


def test_a_syntax_error_in_one_cell_costs_only_that_module(tmp_path):
    path = _notebook(tmp_path / "hw.ipynb", f"%%writefile quiz.py\n{QUIZ}",
                     "%%writefile batchnorm.py\ndef batchnorm_forward(x:\n    pass\n",
                     "# grader: diagnostics\n%matplotlib inline\n")
    report = _report(path, "--task", "quiz", "--task", "batchnorm", "--task", "diagnostics")
    by_task = {t["name"]: t for t in report["tasks"]}
    assert by_task["batchnorm"]["score"] == 0
    message = by_task["batchnorm"]["checks"][0]["message"]
    assert "SyntaxError" in message and "line 1" in message, message
    assert "Traceback" not in message and str(ROOT) not in message
    # no path of the grader's temporary folder, which the student does not have
    assert 'File "batchnorm.py", line 1' in message and "grader-" not in message, message
    assert by_task["batchnorm"]["checks"][0]["hint"].startswith(
        "batchnorm.py is the code of notebook cell 3 (%%writefile); fix that cell (its line 1 "
        "is the line after %%writefile).")
    hint = by_task["diagnostics"]["checks"][0]["hint"]
    assert "(its line numbers are the cell's)" in hint and "no %magics or !commands" in hint
    assert all(c["status"] != "error" for c in by_task["quiz"]["checks"])


def test_a_notebook_without_modules_says_how_to_write_one(tmp_path):
    path = _notebook(tmp_path / "hw.ipynb", "x = 1")
    proc = run_cli("check", str(path))
    assert proc.returncode == 2 and "%%writefile" in proc.stderr


def test_versions_outside_the_supported_ranges_are_named():
    assert unsupported({"torch": "2.13.0+cpu", "numpy": "2.4.0"}) == []
    named = unsupported({"torch": "1.13.1", "tensorflow": "2.12.0"})
    assert any(n.startswith("torch 1.13.1") for n in named)
    assert any(n.startswith("tensorflow 2.12.0") for n in named)
