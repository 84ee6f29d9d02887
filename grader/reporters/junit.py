"""JUnit XML (one test suite per task, one test case per check), via junitparser."""
from __future__ import annotations

__all__ = ["render"]


def render(report) -> str:
    from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

    xml = JUnitXml("grader")
    for task in report.tasks:
        suite = TestSuite(task.name)
        for check in task.checks:
            case = TestCase(check.id, classname=f"{task.name}.{check.function}",
                            time=round(check.duration_s, 3))
            text = check.message + (f"\nHint: {check.hint}" if check.hint else "")
            first = check.message.splitlines()[0] if check.message else check.status
            if check.status == "failed":
                case.result = [Failure(first, type_="failed")]
            elif check.status in ("error", "timeout"):
                case.result = [Error(first, type_=check.status)]
            elif check.status in ("not_attempted", "skipped"):
                case.result = [Skipped(first or check.status)]
            if text:
                case.system_out = text
            suite.add_testcase(case)
        suite.update_statistics()
        xml.add_testsuite(suite)
    xml.update_statistics()
    return xml.tostring().decode("utf-8")
