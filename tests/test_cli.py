"""The command line: options, formats and exit codes, run as a user would."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from conftest import REFERENCE, ROOT, STUBS, make_submission


def grader(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=600)


def test_help_documents_exit_codes():
    out = grader("check", "--help")
    assert out.returncode == 0
    for code in ("0  graded", "1  graded", "2  could not grade", "3  internal error"):
        assert code in out.stdout


def test_missing_path_exits_2_without_traceback(tmp_path):
    out = grader("check", str(tmp_path / "nope"))
    assert out.returncode == 2
    assert "no such file or directory" in out.stderr and "Traceback" not in out.stderr


def test_not_a_submission_exits_2(tmp_path):
    (tmp_path / "readme.txt").write_text("hello")
    out = grader("check", str(tmp_path))
    assert out.returncode == 2 and "not a submission" in out.stderr


def test_a_file_is_not_a_submission(tmp_path):
    f = tmp_path / "initializers.py"
    f.write_text("")
    out = grader("check", str(f))
    assert out.returncode == 2 and "is not a directory" in out.stderr


def test_bad_option_exits_2():
    assert grader("check", "--task", "nope").returncode == 2
    assert grader("check", "--jobs", "0", str(REFERENCE)).returncode == 2


def test_default_grades_the_shipped_stubs_to_zero():
    out = grader("check", "--task", "diagnostics", "--format", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["submission"] == "assignment" and report["score"] == 0
    statuses = {c["status"] for t in report["tasks"] for c in t["checks"]}
    assert statuses == {"not_attempted"}


def test_json_report_follows_the_schema(tmp_path):
    out = grader("check", str(REFERENCE), "--task", "diagnostics", "--task", "quiz",
                 "--format", "json", "--seed", "5")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["schema"] == "grader-report/1" and report["seed"] == 5
    assert set(report) >= {"submission", "score", "max_score", "duration_s", "versions", "tasks"}
    assert set(report["versions"]) == {"python", "numpy", "torch", "tensorflow"}
    assert [t["name"] for t in report["tasks"]] == ["diagnostics", "quiz"]
    for task in report["tasks"]:
        assert task["score"] == pytest.approx(sum(c["score"] for c in task["checks"]))
        for c in task["checks"]:
            assert set(c) == {"id", "function", "kind", "status", "score", "max_score",
                              "message", "hint"}
            assert c["id"].startswith(f"{task['name']}.{c['function']}.")
            assert c["kind"] in ("statistical", "property", "parity", "unit", "experiment")


def test_fail_under_and_output_file(tmp_path):
    target = tmp_path / "report.json"
    out = grader("check", str(STUBS), "--task", "diagnostics", "--format", "json",
                 "--output", str(target), "--fail-under", "1")
    assert out.returncode == 1
    assert json.loads(target.read_text())["score"] == 0
    assert grader("check", str(REFERENCE), "--task", "diagnostics",
                  "--fail-under", "1", "--quiet").returncode == 0


def test_unwritable_output_exits_2(tmp_path):
    out = grader("check", str(REFERENCE), "--task", "quiz", "--output",
                 str(tmp_path / "missing-dir" / "r.json"))
    assert out.returncode == 2 and "cannot write" in out.stderr


def test_text_report_names_functions_and_score():
    out = grader("check", str(STUBS), "--task", "diagnostics")
    assert out.returncode == 0
    assert "still raises NotImplementedError" in out.stdout and "diagnose" in out.stdout
    assert "Score: 0 / 20" in out.stdout and "Traceback" not in out.stdout + out.stderr


@pytest.mark.parametrize("fmt", ["junit", "csv", "gradescope"])
def test_other_formats(tmp_path, fmt):
    sub = make_submission(tmp_path / "s", overrides={
        "diagnostics": "def diagnose(grad_norms, ratio=100.0):\n    return 'healthy'\n"})
    out = grader("check", str(sub), "--task", "diagnostics", "--format", fmt)
    assert out.returncode == 0, out.stderr
    if fmt == "junit":
        root = ET.fromstring(out.stdout)
        cases = root.findall(".//testcase")
        assert cases and any(c.find("failure") is not None for c in cases)
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(out.stdout)))
        assert rows and {r["status"] for r in rows} >= {"passed", "failed"}
    else:
        data = json.loads(out.stdout)
        assert data["score"] < 20 and all("max_score" in t for t in data["tests"])


def test_python_dash_m_and_console_script_agree():
    exe = ROOT / ".venv" / "bin" / "grader"
    if not exe.exists():
        pytest.skip("console script not installed in .venv")
    out = subprocess.run([str(exe), "check", str(REFERENCE), "--task", "quiz", "--format",
                          "json"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0 and json.loads(out.stdout)["schema"] == "grader-report/1"


def test_batch_grades_every_submission_folder(tmp_path):
    import shutil
    cls = tmp_path / "class"
    shutil.copytree(REFERENCE, cls / "alice")
    shutil.copytree(STUBS, cls / "bob" / "assignment")
    (cls / "carol").mkdir()
    out = grader("batch", str(cls), "--output-dir", str(tmp_path / "out"), "--task", "quiz")
    assert out.returncode == 0, out.stderr
    rows = {r["submission"]: r for r in csv.DictReader(open(tmp_path / "out" / "summary.csv"))}
    assert float(rows["alice"]["score"]) == 15 and float(rows["bob"]["score"]) == 0
    assert rows["carol"]["status"] == "not a submission"
    assert json.loads((tmp_path / "out" / "alice.json").read_text())["score"] == 15
