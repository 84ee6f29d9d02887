"""Reporters: each turns a :class:`grader.results.Report` into text or bytes.

A reporter is a function ``render(report) -> str``; it only formats.
"""
from __future__ import annotations

from grader.reporters import csv_report, gradescope, json_report, junit, text

__all__ = ["FORMATS", "render"]

FORMATS = {
    "text": text.render,
    "json": json_report.render,
    "junit": junit.render,
    "csv": csv_report.render,
    "gradescope": gradescope.render,
}


def render(report, fmt: str) -> str:
    return FORMATS[fmt](report)
