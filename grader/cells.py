"""Text cells of the CSV files the grader writes, made safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets read a cell that begins with ``=``, ``+``,
``-`` or ``@`` (or a tab or a carriage return before one) as a formula, which
can run commands or send the sheet's contents elsewhere: "CSV injection". A
student names their own submission and writes the messages their code raises,
so every cell of free text gets a leading apostrophe when it begins so, as
OWASP advises: the spreadsheet then shows the text as it is (the apostrophe
hidden), and Python's ``csv`` module reads it back with the apostrophe.
Numbers are written by the grader and left alone.
"""
from __future__ import annotations

__all__ = ["text_cell"]

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: object) -> str:
    """``value`` as a CSV cell that no spreadsheet runs as a formula."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
