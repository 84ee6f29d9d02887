"""The Gradescope bundle, run here as Gradescope runs it.

The bundle is unzipped into a temporary root (``AUTOGRADER_ROOT``), a
submission goes into ``submission/``, and ``run_autograder`` writes
``results/results.json``, which must follow Gradescope's format for every
submission: correct, broken, nested, zipped, empty. As root with the sandbox
off, a submission that attacks the results, the grader and the grader's
process achieves nothing, and its grade is its own.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, make_submission, run_cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the bundle is for Gradescope's Linux images")

SEED = 424242


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    proc = run_cli("export", "gradescope", "--out", str(out), "--seed", str(SEED),
                   "--extra-checks", str(ROOT / "examples" / "hidden_checks"))
    assert proc.returncode == 0, proc.stderr
    return out


def _run(bundle: Path, root: Path, fill, env: dict | None = None) -> dict:
    root.mkdir(parents=True)
    os.chmod(root, 0o755)
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(root / "source")
    os.chmod(root / "source" / "run_autograder", 0o755)
    (root / "submission").mkdir()
    fill(root / "submission")
    full_env = {"PATH": "/usr/bin:/bin", "AUTOGRADER_ROOT": str(root),
                "AUTOGRADER_PYTHON": sys.executable, **(env or {})}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=full_env,
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text())


def _valid(results: dict, total: float | None = None) -> None:
    """Gradescope's results.json format, strictly."""
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["output"], str) and results["output"]
    assert results.get("visibility", "visible") in ("visible", "hidden", "after_due_date",
                                                    "after_published")
    assert isinstance(results.get("execution_time", 0), (int, float))
    assert results.get("output_format", "text") in ("text", "html", "simple_format", "md",
                                                    "ansi")
    for t in results["tests"]:
        assert set(t) <= {"score", "max_score", "status", "name", "name_format", "number",
                          "output", "output_format", "tags", "visibility", "extra_data"}
        assert isinstance(t["name"], str) and t["name"]
        assert t["status"] in ("passed", "failed")
        assert 0 <= t["score"] <= t["max_score"]
        assert abs(t["score"] * 10000 - round(t["score"] * 10000)) < 1e-6
        assert t["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert isinstance(t.get("tags", []), list)
    units = sum(round(t["score"] * 10000) for t in results["tests"])
    assert units == round(results["score"] * 10000)
    if total is not None:
        assert sum(round(t["max_score"] * 10000) for t in results["tests"]) == total * 10000


def test_bundle_layout(bundle):
    names = set(zipfile.ZipFile(bundle).namelist())
    assert {"setup.sh", "run_autograder", "autograder.json", "pyproject.toml",
            "grader/quiz_key.py", "grader/autograder.py"} <= names
    assert any(n.startswith("hidden_checks/") for n in names)
    assert not any(n.startswith(("reference/", "tests/")) for n in names)
    config = json.loads(zipfile.ZipFile(bundle).read("autograder.json"))
    assert config["seed"] == SEED
    setup = zipfile.ZipFile(bundle).read("setup.sh").decode()
    assert "torch==2.13.0" in setup and "download.pytorch.org/whl/cpu" in setup
    assert setup.index("torch==2.13.0") < setup.index("tensorflow-cpu==2.21.0")
    assert "useradd" in setup


def test_a_correct_submission_gets_full_marks(tmp_path, bundle):
    results = _run(bundle, tmp_path / "ag", lambda s: make_submission(s))
    _valid(results, total=100)
    assert results["score"] == 100
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    assert visible[0]["name"] == "compute_fans: torch layout"
    assert {"initializers", "unit"} <= set(visible[0]["tags"])
    assert results["extra_data"]["seed"] == SEED
    hidden = {t["name"]: t for t in results["tests"]}
    assert hidden["he_normal: wide convolution"]["visibility"] == "after_due_date"
    assert hidden["grading details (instructors)"]["visibility"] == "hidden"
    assert str(SEED) in hidden["grading details (instructors)"]["output"]


@pytest.mark.parametrize("layout", ["broken", "nested", "zipped", "empty", "notebook"])
def test_every_kind_of_submission_gets_results(tmp_path, bundle, layout):
    def fill(folder: Path):
        if layout == "broken":
            make_submission(folder, overrides={"quiz": "ANSWERS = dict(ANSWERS)\n"
                                                       "ANSWERS['q1'] = 'a'\n"})
        elif layout == "nested":
            make_submission(folder / "my_submission" / "hw3")
        elif layout == "zipped":
            sub = make_submission(tmp_path / "z")
            with zipfile.ZipFile(folder / "hw3.zip", "w") as zf:
                for p in sub.glob("*.py"):
                    zf.write(p, f"hw3/{p.name}")
        elif layout == "notebook":
            import nbformat
            from nbformat.v4 import new_code_cell, new_notebook

            quiz = (ROOT / "reference" / "quiz.py").read_text()
            nb = new_notebook(cells=[new_code_cell(f"%%writefile quiz.py\n{quiz}")])
            nbformat.write(nb, str(folder / "hw.ipynb"))
        else:
            (folder / "README.txt").write_text("I forgot to upload")
    results = _run(bundle, tmp_path / "ag", fill, env={"AUTOGRADER_TASKS": "quiz"})
    _valid(results)
    if layout == "empty":
        assert results["score"] == 0 and results["tests"] == []
        assert "README.txt" in results["output"] and "quiz.py" in results["output"]
    elif layout == "broken":
        assert results["score"] == 13
    else:
        assert results["score"] == 15


@pytest.mark.skipif(os.geteuid() != 0, reason="Gradescope runs the bundle as root")
def test_as_root_without_the_sandbox_an_attack_achieves_nothing(bundle):
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="autograder-"))  # traversable by the workers' uids
    os.chmod(home, 0o755)
    root = home / "ag"
    attack = f'''
import os, signal
_root = {str(root)!r}
def _attack():
    for path in (os.path.join(_root, "results", "results.json"),
                 os.path.join(_root, "source", "grader", "runner.py")):
        try:
            with open(path, "w") as fh:
                fh.write("{{}}")
        except OSError:
            pass
    for pid in os.listdir("/proc"):
        try:
            if b"grader" in open(f"/proc/{{pid}}/cmdline", "rb").read():
                os.kill(int(pid), signal.SIGKILL)
        except (OSError, ValueError):
            pass
_ref_diagnose = diagnose
def diagnose(grad_norms, ratio=100.0):
    _attack()
    return _ref_diagnose(grad_norms, ratio)
'''
    before = (ROOT / "grader" / "runner.py").read_text()
    results = _run(bundle, root, lambda s: make_submission(s, overrides={"diagnostics": attack}),
                   env={"GRADER_SANDBOX": "off", "GRADER_WORKER_USER": "nobody",
                        "AUTOGRADER_TASKS": "diagnostics,quiz"})
    _valid(results)
    lost = {t["name"].split(":")[0] for t in results["tests"] if t["status"] != "passed"}
    assert lost == {"diagnose"}, [(t["name"], t["output"][:200]) for t in results["tests"]
                                  if t["status"] != "passed"][:6]  # the attacker's own function, and nothing else
    assert results["score"] == 32
    assert "seed" in json.dumps(results["extra_data"])
    assert "{}" != (root / "source" / "grader" / "runner.py").read_text()
    assert (ROOT / "grader" / "runner.py").read_text() == before
    shutil.rmtree(home, ignore_errors=True)
