"""Reporters only format: every format renders the same frozen Report."""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from grader.reporters import FORMATS, render
from grader.results import CheckResult, Report, TaskResult


def _report() -> Report:
    checks = (
        CheckResult("diagnostics.diagnose.verdicts", "diagnose", "property", "passed", 1.5, 1.5),
        CheckResult("diagnostics.diagnose.invalid_input", "diagnose", "unit", "failed", 0.0, 1.5,
                    "diagnose([1.0], ratio=100) should raise ValueError; it returned 'healthy'",
                    "Check the length of grad_norms first."),
        CheckResult("diagnostics.relative_error.values", "relative_error", "unit", "error",
                    0.0, 2.0, "relative_error(...) raised ZeroDivisionError: division by zero"),
        CheckResult("diagnostics.clip_by_global_norm.values", "clip_by_global_norm", "unit",
                    "timeout", 0.0, 4.0, "took longer than 20 s"),
        CheckResult("diagnostics.numerical_gradient.values", "numerical_gradient", "unit",
                    "not_attempted", 0.0, 3.0, "numerical_gradient still raises "
                    "NotImplementedError"),
        CheckResult("diagnostics.mlp_gradient_norms.torch_parity", "mlp_gradient_norms",
                    "parity", "skipped", 0.0, 5.0, "torch is not installed"),
    )
    return Report("sub", 0, (TaskResult("diagnostics", checks),), 1.25,
                  {"python": "3.11", "numpy": "2", "torch": None, "tensorflow": None})


def test_results_validate_their_fields():
    with pytest.raises(ValueError):
        CheckResult("a.b.c", "b", "unit", "great", 0, 1)
    with pytest.raises(ValueError):
        CheckResult("a.b.c", "b", "unit", "passed", 2, 1)


def test_scores_add_up():
    r = _report()
    assert r.score == 1.5 and r.max_score == 17.0


def test_json_is_the_spec_report():
    data = json.loads(render(_report(), "json"))
    assert data["schema"] == "grader-report/1"
    assert data["versions"]["torch"] is None
    check = data["tasks"][0]["checks"][1]
    assert check["hint"] == "Check the length of grad_norms first."
    assert check["message"].startswith("diagnose([1.0]")


def test_junit_maps_statuses():
    root = ET.fromstring(render(_report(), "junit"))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["diagnostics.diagnose.invalid_input"].find("failure") is not None
    assert cases["diagnostics.relative_error.values"].find("error") is not None
    assert cases["diagnostics.clip_by_global_norm.values"].find("error") is not None
    assert cases["diagnostics.numerical_gradient.values"].find("skipped") is not None


def test_csv_has_one_row_per_check():
    rows = list(csv.DictReader(io.StringIO(render(_report(), "csv"))))
    assert len(rows) == 6 and rows[1]["status"] == "failed"


def test_gradescope_results():
    data = json.loads(render(_report(), "gradescope"))
    assert data["score"] == 1.5 and len(data["tests"]) == 6
    assert "Hint: Check the length" in data["tests"][1]["output"]


def test_text_report_shows_problems_and_hints():
    text = render(_report(), "text")
    assert "What to look at" in text and "hint: Check the length" in text
    assert "still raises NotImplementedError" in text
    assert "Score: 1.5 / 17" in text


def test_every_format_is_registered():
    assert set(FORMATS) == {"text", "json", "junit", "csv", "gradescope"}
