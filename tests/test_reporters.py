"""Reporters only format: every format renders the same frozen Report."""
from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest

from grader.reporters import FILES, FORMATS, render
from grader.results import CheckResult, Report, TaskResult, report_from_dict


def _check(id_, status, units, max_units, message="", hint="", kind="unit", **kw):
    return CheckResult(id_, id_.split(".")[1], kind, status, units, max_units, message, hint,
                       **kw)


def _report() -> Report:
    checks = (
        _check("diagnostics.diagnose.boundaries", "passed", 15000, 15000, kind="property"),
        _check("diagnostics.diagnose.invalid_inputs", "failed", 0, 15000,
               "diagnose([1.0], ratio=100) should raise ValueError; it returned 'healthy'",
               "Check the length of grad_norms first."),
        _check("diagnostics.relative_error.formula", "error", 0, 20000,
               "relative_error(...) raised ZeroDivisionError: division by zero"),
        _check("diagnostics.clip_by_global_norm.values", "timeout", 0, 40000,
               "took longer than 20 s"),
        _check("diagnostics.numerical_gradient.centred", "not_attempted", 0, 30000,
               "numerical_gradient still raises NotImplementedError"),
        _check("diagnostics.mlp_gradient_norms.values", "skipped", 0, 50000,
               "torch is not installed", kind="parity"),
    )
    return Report("sub", 0, (TaskResult("diagnostics", checks),), 1.25,
                  {"python": "3.11", "numpy": "2", "torch": None, "tensorflow": None})


def test_results_validate_their_fields():
    with pytest.raises(ValueError):
        _check("diagnostics.diagnose.x", "great", 0, 1)
    with pytest.raises(ValueError):
        _check("diagnostics.diagnose.x", "passed", 2, 1)
    with pytest.raises(ValueError):
        _check("diagnostics.diagnose.x", "failed", 1, 1)


def test_scores_add_up_exactly():
    r = _report()
    assert r.score == 1.5 and r.max_score == 17.0
    data = json.loads(render(r, "json"))
    assert sum(c["max_score"] for t in data["tasks"] for c in t["checks"]) == 17.0


def test_json_is_the_spec_report_and_reads_back():
    data = json.loads(render(_report(), "json"))
    assert data["schema"] == "grader-report/1"
    assert data["versions"]["torch"] is None
    check = data["tasks"][0]["checks"][1]
    assert check["hint"] == "Check the length of grad_norms first."
    assert check["message"].startswith("diagnose([1.0]")
    assert set(check) >= {"id", "function", "kind", "status", "score", "max_score",
                          "message", "hint"}
    assert report_from_dict(data).to_dict() == data


def test_junit_maps_statuses_and_points():
    root = ET.fromstring(render(_report(), "junit"))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases["diagnostics.diagnose.invalid_inputs"].find("failure") is not None
    assert cases["diagnostics.relative_error.formula"].find("error") is not None
    assert cases["diagnostics.clip_by_global_norm.values"].find("error") is not None
    # a stub still raising NotImplementedError is red in CI, not skipped
    assert cases["diagnostics.numerical_gradient.centred"].find("failure") is not None
    assert cases["diagnostics.mlp_gradient_norms.values"].find("skipped") is not None
    props = {p.get("name"): p.get("value")
             for p in cases["diagnostics.diagnose.boundaries"].iter("property")}
    assert props == {"score": "1.5", "max_score": "1.5"}
    suite_props = {p.get("name"): p.get("value")
                   for p in root.find("testsuite").find("properties").findall("property")}
    assert suite_props["max_score"] == "17"


def test_csv_has_one_row_per_check():
    rows = list(csv.DictReader(io.StringIO(render(_report(), "csv"))))
    assert len(rows) == 6 and rows[1]["status"] == "failed"


def test_no_csv_cell_of_free_text_is_a_spreadsheet_formula():
    """A submission's name and the messages its code raises are the student's to choose:
    a cell beginning with = + - @ would run as a formula in a spreadsheet."""
    from grader.classbook import Outcome, canvas_csv, gradebook_csv

    report = Report("=HYPERLINK(\"http://x\")", 0, (TaskResult("diagnostics", (
        _check("diagnostics.diagnose.boundaries", "error", 0, 15000,
               "@SUM(1+1)*cmd|' /C calc'!A0"),
        _check("diagnostics.diagnose.special", "failed", 0, 15000, "-2+3"),
        _check("diagnostics.diagnose.scale_invariance", "passed", 15000, 15000)),),), 1.0,
                    {"python": "3.11"})
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert [r["message"] for r in rows] == ["'@SUM(1+1)*cmd|' /C calc'!A0", "'-2+3", ""]
    assert {r["submission"] for r in rows} == {"'=HYPERLINK(\"http://x\")"}
    outcomes = [Outcome("+alice", "internal_error", message="=1+2\nmore"),
                Outcome("bob", "not_a_submission", message="no initializers.py"),
                Outcome("carol", "timeout", roster={"Student": "@carol", "ID": "-7"})]
    book = list(csv.DictReader(io.StringIO(gradebook_csv(outcomes))))
    assert [(r["student"], r["message"]) for r in book] == [
        ("'+alice", "'=1+2"), ("bob", "no initializers.py"), ("carol", "")]
    canvas = list(csv.reader(io.StringIO(canvas_csv(outcomes, "=A1"))))
    assert canvas[0][-1] == "'=A1"
    assert [row[:2] for row in canvas[2:]] == [["'+alice", ""], ["bob", ""], ["'@carol", "'-7"]]


def test_gradescope_results():
    data = json.loads(render(_report(), "gradescope"))
    tests = [t for t in data["tests"] if t["visibility"] != "hidden"]
    assert data["score"] == 1.5 and len(tests) == 6
    assert "**Hint:** Check the length" in tests[1]["output"]
    assert tests[1]["name"] == "diagnose: invalid inputs" and tests[1]["number"] == "1.1.2"
    assert tests[1]["tags"] == ["diagnostics", "unit"] and tests[1]["output_format"] == "md"
    assert sum(t["max_score"] for t in data["tests"]) == 17.0
    assert data["extra_data"]["seed"] == 0


def test_classroom_results():
    data = json.loads(render(_report(), "classroom"))
    assert data["version"] == 1 and data["status"] == "fail" and data["max_score"] == 17.0
    assert [t["status"] for t in data["tests"]][:3] == ["pass", "fail", "error"]


def test_markdown_summary():
    text = render(_report(), "markdown")
    assert text.startswith("## Score: 1.5 / 17")
    assert "| | `diagnose` | 1.5 / 3 |" in text
    assert "**Hint:** Check the length" in text


def test_text_report_shows_problems_and_hints():
    text = render(_report(), "text")
    assert "Details" in text and "hint: Check the length" in text
    assert "not attempted (NotImplementedError)" in text
    assert "Score: 1.5 / 17" in text


def test_points_print_with_at_most_two_decimals():
    checks = (_check("initializers.compute_fans.torch_layout", "passed", 140417, 140417),)
    report = Report("s", 0, (TaskResult("initializers", checks),), 0.1)
    assert "14.04 / 14.04" in render(report, "text")


def test_every_format_is_registered_with_a_file_name():
    assert set(FORMATS) == set(FILES) == {"text", "json", "junit", "csv", "gradescope",
                                          "markdown", "html", "classroom"}


def _html_report() -> Report:
    figure = {"kind": "curves", "title": "Q5: three initialisations", "caption": "c",
              "data": {"series": {"a": [1.0, 0.5], "b": [1.4, 1.4]}, "xlabel": "step",
                       "ylabel": "loss", "log": False}}
    checks = _report().tasks[0].checks + (
        _check("diagnostics.diagnose.picture", "passed", 0, 0, "What the picture shows.",
               kind="experiment", figure=figure),
        _check("diagnostics.relative_error.hostile", "failed", 0, 10000,
               "relative_error returned <script>alert(1)</script>"),)
    return Report("sub", 0, (TaskResult("diagnostics", checks),), 1.25)


def test_html_is_one_self_contained_page():
    from html.parser import HTMLParser

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.links, self.text = [], [], []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)
            self.links += [v for k, v in attrs if k in ("src", "href") and v]

        def handle_data(self, data):
            self.text.append(data)

    page = render(_html_report(), "html")
    parsed = Collect()
    parsed.feed(page)
    assert "script" not in parsed.tags
    images = [link for link in parsed.links if link.startswith("data:image/png;base64,")]
    assert len(images) == 1 and all(link.startswith(("data:", "#")) for link in parsed.links)
    text = " ".join(parsed.text)
    assert "<script>alert(1)</script>" in text  # shown as text, escaped in the page
    assert "Score: 1.5 / 18" in text or "1.5 / 18" in text
    assert "Check the length of grad_norms first." in text
    assert "What the picture shows." in text and "diagnose" in text


def test_html_says_a_stub_once_and_names_the_waiting_checks_in_one_line():
    stub = tuple(_check(f"batchnorm.batchnorm_forward.{p}", "not_attempted", 0, 10000,
                        "batchnorm_forward still raises NotImplementedError",
                        "Implement batchnorm_forward in batchnorm.py.")
                 for p in ("values", "shape_dtype", "no_mutation"))
    picture = _check("batchnorm.batchnorm_forward.learning_curve", "not_attempted", 0, 0,
                     "batchnorm_forward still raises NotImplementedError", kind="experiment")
    waiting = "waits for correct basic values: this property earns points once ..."
    backward = (
        _check("batchnorm.batchnorm_backward.values", "failed", 0, 10000, "dx is wrong"),
        _check("batchnorm.batchnorm_backward.no_mutation", "failed", 0, 10000, waiting),
        _check("batchnorm.batchnorm_backward.shape_dtype", "failed", 0, 10000, waiting))
    report = Report("sub", 0, (TaskResult("batchnorm", stub + (picture,) + backward),), 1.0)
    page = render(report, "html")
    assert page.count("still raises NotImplementedError") == 1
    assert page.count("Implement batchnorm_forward in batchnorm.py.") == 1
    assert "No picture" not in page
    assert "waits for correct basic values" not in page
    assert ("2 more checks earn points once the basic values are right: no_mutation, "
            "shape_dtype.") in page
    assert "dx is wrong" in page


def test_the_text_summary_shows_the_first_sentence_and_fits_the_width():
    long_name = "x" * 70
    checks = (_check("initializers.xavier_normal.variance", "failed", 0, 30000,
                     "xavier_normal should draw weights of variance σ0². Then the details: "
                     + long_name),
              _check("initializers.he_normal.variance", "not_attempted", 0, 30000,
                     "he_normal still raises NotImplementedError " + long_name))
    text = render(Report("s", 0, (TaskResult("initializers", checks),), 0.1), "text")
    summary = text.split("Details")[0]
    assert "✗ variance: xavier_normal should draw weights of variance σ0².\n" in summary
    assert all(len(line) <= 100 for line in summary.splitlines())
    assert long_name in text.split("Details")[1]


def test_the_text_report_says_a_problem_several_checks_share_once():
    missing = "diagnostics.py defines no 'relative_error'"
    checks = tuple(_check(f"diagnostics.relative_error.{p}", "error", 0, 5000, missing,
                          "Keep the name.") for p in ("formula", "special_cases", "numpy_only")
                   ) + (_check("diagnostics.relative_error.shape_dtype", "error", 0, 5000,
                               "relative_error(a, b) raised TypeError"),)
    text = render(Report("s", 0, (TaskResult("diagnostics", checks),), 0.1), "text")
    summary, details = text.split("Details")
    assert summary.count(missing) == 1 and f"! {missing} (3 checks)\n" in summary
    assert "! shape_dtype: relative_error(a, b) raised TypeError" in summary
    assert details.count(missing) == 1 and details.count("hint: Keep the name.") == 1
    assert "diagnostics.relative_error.{formula, special_cases, numpy_only} (error)" in details
    assert "diagnostics.relative_error.shape_dtype (error)" in details


def test_every_format_adds_up_to_the_printed_total_as_floats(reference_report):
    """SPEC: a reader summing the JSON, a Gradescope page or a JUnit file gets the total.

    The reference's real shares, every third check failed: summed as floats,
    in the order the file gives them, the checks give each task's score and
    the tasks the report's.
    """
    import dataclasses

    tasks = tuple(dataclasses.replace(t, checks=tuple(
        dataclasses.replace(c, status="failed", units=0) if i % 3 == 0 else c
        for i, c in enumerate(t.checks))) for t in reference_report.tasks)
    report = dataclasses.replace(reference_report, tasks=tasks)
    assert 0 < report.units < report.max_units
    data = json.loads(render(report, "json"))
    for task in data["tasks"]:
        assert sum(c["score"] for c in task["checks"]) == task["score"]
        assert sum(c["max_score"] for c in task["checks"]) == task["max_score"]
    assert sum(t["score"] for t in data["tasks"]) == data["score"] == report.score
    assert sum(c["score"] for t in data["tasks"] for c in t["checks"]) == data["score"]
    page = json.loads(render(report, "gradescope"))
    assert sum(t["score"] for t in page["tests"]) == page["score"] == report.score
    root = ET.fromstring(render(report, "junit"))
    total = 0.0
    for suite in root.iter("testsuite"):
        own = {p.get("name"): float(p.get("value"))
               for p in suite.find("properties").findall("property")}
        cases = [float(p.get("value")) for case in suite.iter("testcase")
                 for p in case.iter("property") if p.get("name") == "score"]
        assert sum(cases) == own["score"]
        total += own["score"]
    assert total == report.score


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path, monkeypatch):
    import errno
    import os

    from grader.atomic import write_text

    target = tmp_path / "report.json"
    write_text(target, "old\n")

    def full(*args):  # what the rename meets when the disk filled up meanwhile
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError) as caught:
        write_text(target, "new\n")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    monkeypatch.undo()
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    with pytest.raises(UnicodeEncodeError):  # a failure that is not the disk's
        write_text(target, "\udc80")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
