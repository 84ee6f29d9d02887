"""JUnit XML: one test suite per task, one test case per check, points in properties.

The points are exact (up to four decimals), so that a reader summing the
cases' ``score`` properties gets the suite's and the report's.

A function that still raises ``NotImplementedError`` is a failure (a CI job on
the untouched stubs is red); only checks the grader could not run here are
``skipped``.
"""
from __future__ import annotations

__all__ = ["render"]


def render(report) -> str:
    from junitparser import Error, Failure, JUnitXml, Properties, Property, Skipped, TestCase
    from junitparser import TestSuite

    from grader.reporters.text import fmt_points

    xml = JUnitXml("grader")
    for task in report.tasks:
        suite = TestSuite(task.name)
        suite.add_property("score", fmt_points(task.units, 4))
        suite.add_property("max_score", fmt_points(task.max_units, 4))
        for check in task.checks:
            case = TestCase(check.id, classname=f"{task.name}.{check.function}",
                            time=round(check.duration_s, 3))
            props = Properties()
            props.add_property(Property("score", fmt_points(check.units, 4)))
            props.add_property(Property("max_score", fmt_points(check.max_units, 4)))
            case.append(props)
            text = "\n".join(part for part in (check.message, check.evidence and
                                               f"Evidence: {check.evidence}", check.hint and
                                               f"Hint: {check.hint}") if part)
            first = check.message.splitlines()[0] if check.message else check.status
            if check.status in ("failed", "not_attempted"):
                case.result = [Failure(first, type_=check.status)]
            elif check.status in ("error", "timeout"):
                case.result = [Error(first, type_=check.status)]
            elif check.status == "skipped":
                case.result = [Skipped(first or check.status)]
            if text:
                case.system_out = text
            suite.add_testcase(case)
        suite.update_statistics()
        xml.add_testsuite(suite)
    xml.update_statistics()
    return xml.tostring().decode("utf-8")
