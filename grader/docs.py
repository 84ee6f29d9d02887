"""``grader docs --out DIR``: the reference solutions as a static HTML site that reads offline.

An instructor publishes it after the deadline. pdoc renders the ``reference``
package: an index, one page per module (its docstring, then every public
function with its docstring and, behind "View Source", its code) and a
client-side search whose index is ``search.js``. Every style, script and
image is inlined into the pages, so the folder can be opened from disk
(``file://``) or served as is, with no network.

Math stays as the docstrings write it, in plain text and preformatted blocks:
pdoc's ``math`` option would load MathJax from a CDN. pdoc reads the function
docstrings as NumPy style (Parameters, Returns, Raises); the few
reStructuredText constructs of the docstrings that Markdown does not
know (simple tables, definition lists, ``::`` before a literal block,
underlined section titles) are converted before pdoc renders them.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

__all__ = ["add_parser"]

PACKAGE = "reference"

#: NumPy docstring sections, which pdoc renders itself (other titles become Markdown headings)
_NUMPY_SECTIONS = frozenset({
    "Parameters", "Returns", "Yields", "Receives", "Other Parameters", "Raises", "Warns",
    "Warnings", "Attributes", "Methods", "See Also", "Notes", "References", "Examples"})

_TITLE = re.compile(r"^(?P<title>\S[^\n]*)\n(?P<rule>-{3,})[ \t]*$", re.MULTILINE)
_BORDER = re.compile(r"^[ \t]*=+(?:[ \t]+=+)+[ \t]*$")
_NOT_A_TERM = re.compile(r"([*+-]|\d+[.)]|#+|\||=)(\s|$)")

# The index: a real page listing every module (pdoc's own only redirects to the package).
_INDEX_TEMPLATE = """\
{% extends "frame.html.jinja2" %}
{% block title %}{{ package }}: module index{% endblock %}
{% block style %}
    {{ super() | safe }}
    <style>
        header.pdoc input[type=search] {
            font-size: 1.25rem; width: 100%; padding-left: .5rem; margin: 1.5rem 0 .5rem;
        }
        main.pdoc dt { margin-top: 1rem; font-weight: bold; }
    </style>
{% endblock %}
{% block nav %}
    <h2>Modules</h2>
    <ul>
    {% for name in all_modules if "._" not in name and not name.startswith("_") %}
        <li><a href="{{ name.replace(".", "/") }}.html">{{ name }}</a></li>
    {% endfor %}
    </ul>
    {% if footer_text %}<footer>{{ footer_text }}</footer>{% endif %}
{% endblock %}
{% block content %}
    <header class="pdoc">
    {% if search %}
        <input type="search" placeholder="Search the reference solutions..." aria-label="search">
    {% endif %}
    </header>
    <main class="pdoc">
        <h1>{{ package }}</h1>
        <dl>
        {% for name, doc in all_modules.items()
               if "._" not in name and not name.startswith("_") %}
            <dt><a href="{{ name.replace(".", "/") }}.html">{{ name }}</a></dt>
            <dd>{{ doc.docstring.split("\\n")[0] | to_html | safe }}</dd>
        {% endfor %}
        </dl>
    </main>
    {% if search %}{% include "search.html.jinja2" %}{% endif %}
{% endblock %}
"""

# Module pages: the top page links to the index; no link to pdoc's web site.
_MODULE_TEMPLATE = """\
{% extends "default/module.html.jinja2" %}
{% block module_list_link %}
    {% set parentmodule = ".".join(module.modulename.split(".")[:-1]) %}
    {% if parentmodule and parentmodule in all_modules %}
        {{ super() }}
    {% else %}
        <a class="pdoc-button module-list-button"
           href="{{ "../" * module.modulename.count(".") }}index.html">
            {% include "resources/box-arrow-in-left.svg" %}&nbsp;Module Index</a>
    {% endif %}
{% endblock %}
{% block attribution %}
    <span class="attribution">built with pdoc {{ __version__ }}</span>
{% endblock %}
"""


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "docs", help="render the reference solutions as a static HTML site",
        description="Render the reference solutions (the reference package) as a static, "
                    "searchable HTML site that reads offline: an index, one page per "
                    "module, the source beside every docstring. Exit 0 when written, 2 when "
                    "DIR cannot be written or this copy of the grader has no reference.")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write the site into (created if missing)")
    parser.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from grader.cli import UsageError

    if not _has_package():
        raise UsageError(f"grader docs renders the reference solutions (the {PACKAGE} "
                         "package), which this copy of the grader does not have")
    out = _writable(Path(args.out))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        import pdoc
        import pdoc.render
    except ImportError:
        raise UsageError("grader docs needs pdoc: pip install pdoc") from None

    with (tempfile.TemporaryDirectory(prefix="grader-docs-") as templates,
          warnings.catch_warnings(record=True) as caught):
        warnings.simplefilter("always")
        _write_templates(Path(templates))
        pdoc.render.configure(
            docformat="numpy", include_undocumented=True, math=False, mermaid=False,
            search=True, show_source=True, template_directory=Path(templates),
            footer_text="Reference solutions of the weight-initialisation assignment")
        _convert_rst_first(pdoc.render.env)
        pdoc.render.env.globals["package"] = PACKAGE
        try:
            pdoc.pdoc(PACKAGE, output_directory=out)
        except OSError as exc:
            raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    for warning in caught:  # e.g. a module pdoc could not import, and so left out
        if not issubclass(warning.category, (DeprecationWarning, PendingDeprecationWarning)):
            print(f"grader docs: warning: {warning.message}", file=sys.stderr)
    print(f"grader docs: site written to {out} (open {out / 'index.html'})", file=sys.stderr)
    return 0


def _has_package() -> bool:
    try:
        return importlib.util.find_spec(PACKAGE) is not None
    except (ImportError, ValueError):
        return False


def _writable(out: Path) -> Path:
    """``out``, created if missing (UsageError when it cannot hold the site)."""
    from grader.cli import UsageError

    if out.exists() and not out.is_dir():
        raise UsageError(f"cannot write {out}: it is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


def _write_templates(directory: Path) -> None:
    (directory / "index.html.jinja2").write_text(_INDEX_TEMPLATE, encoding="utf-8")
    (directory / "module.html.jinja2").write_text(_MODULE_TEMPLATE, encoding="utf-8")


def _convert_rst_first(env) -> None:
    """Make pdoc's ``to_markdown`` filter convert :func:`_rst_to_markdown` first."""
    from jinja2 import pass_context
    from pdoc.render_helpers import to_markdown_with_context

    @pass_context
    def to_markdown(context, docstring: str) -> str:
        return to_markdown_with_context(context, _rst_to_markdown(docstring))

    env.filters["to_markdown"] = to_markdown


def _rst_to_markdown(text: str) -> str:
    """The reStructuredText of the docstrings that Markdown misreads, as Markdown."""
    return _tables(_definitions(_titles(_literal_markers(text))))


def _literal_markers(text: str) -> str:
    """``text::`` before a literal block reads ``text:``; a lone ``::`` goes."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.rstrip()
        if stripped.endswith("::") and (i + 1 == len(lines) or not lines[i + 1].strip()):
            before = stripped[:-2]
            lines[i] = before.rstrip() if not before[-1:].strip() else before + ":"
    return "\n".join(lines)


def _titles(text: str) -> str:
    """An underlined section title becomes a ``##`` heading (NumPy sections stay for pdoc)."""
    def heading(match: re.Match) -> str:
        title = match["title"].strip()
        if title in _NUMPY_SECTIONS or len(match["rule"]) < len(title):
            return match[0]
        return f"## {title}"

    return _TITLE.sub(heading, text)


def _definitions(text: str) -> str:
    """Definition lists (a term, its text indented below) outside NumPy sections.

    A definition of one plain paragraph becomes a bullet, the term in bold; one
    laid out in several paragraphs or indented lines (a quiz question, its
    choices and its answer) is kept as written, in a preformatted block.
    """
    lines, out, i, numpy_section = text.split("\n"), [], 0, False
    while i < len(lines):
        line, after = lines[i], lines[i + 1] if i + 1 < len(lines) else ""
        if line.startswith("## "):
            numpy_section = False
        elif line.strip() and re.fullmatch(r"-{3,}[ \t]*", after):
            numpy_section = line.strip() in _NUMPY_SECTIONS
        starts = not out or not out[-1].strip() or out[-1].startswith(("* **", "  "))
        if (numpy_section or not starts or not line.strip() or line[0].isspace()
                or _NOT_A_TERM.match(line) or not after.startswith("    ")):
            out.append(line)
            i += 1
            continue
        end = i + 1
        while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
            end += 1
        while not lines[end - 1].strip():
            end -= 1
        body = textwrap.dedent("\n".join(lines[i + 1:end])).split("\n")
        if any(not b.strip() or b[0].isspace() for b in body):
            out += ["", f"**{line.strip()}**", "", *(f"    {b}" for b in body), ""]
        else:
            out += [f"* **{line.strip()}**  ", *(f"  {b}" for b in body)]
        i = end
    return "\n".join(out)


def _tables(text: str) -> str:
    """Every reStructuredText simple table becomes a Markdown table."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        end = _table_end(lines, i)
        if end is None:
            out.append(lines[i])
            i += 1
        else:
            out += ["", *_markdown_table(lines[i:end]), ""]
            i = end
    return "\n".join(out)


def _table_end(lines: list[str], start: int) -> int | None:
    """The index after the simple table that starts at ``start``, or None if none does."""
    if not _BORDER.match(lines[start]):
        return None
    border, end, borders = lines[start].strip(), start + 1, 1
    while end < len(lines) and lines[end].strip():
        borders += lines[end].strip() == border
        end += 1
    if borders not in (2, 3) or lines[end - 1].strip() != border:
        return None
    return end


def _markdown_table(table: list[str]) -> list[str]:
    """Markdown for the lines of one simple table, borders included."""
    starts = [m.start() for m in re.finditer(r"=+", table[0])]
    groups: list[list[list[str]]] = [[]]
    for line in table[1:-1]:
        if line.strip() == table[0].strip():
            groups.append([])
            continue
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [len(line)])]
        cells += [""] * (len(starts) - len(cells))
        rows = groups[-1]
        if rows and not cells[0]:  # a continuation line: its text joins the row above
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    header = [" ".join(col).strip() for col in zip(*groups[0])] if len(groups) > 1 else []
    body = groups[-1]
    header = header or [""] * len(starts)

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return [row(header), row(["---"] * len(starts)), *(row(cells) for cells in body)]
