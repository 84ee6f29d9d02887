"""``grader docs``: the reference solutions as a static site that reads offline.

The site is rendered once (``python -m grader docs --out DIR`` in a
subprocess) and read with the standard library's HTML parser: a page per
module, every public function documented beside its source, an index that
links every page, a search index, and nothing loaded from the network.
"""
from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import ROOT, run_cli

MODULES = ("initializers", "batchnorm", "diagnostics", "frameworks", "quiz")
#: elements whose URL attribute the browser loads by itself when the page is read
LOADED = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src",
          "video": "src", "audio": "src", "embed": "src", "object": "data"}
MODULE = "<module>"  # the key of a page's module docstring and source
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Page(HTMLParser):
    """One page: its links, the URLs it loads, its ids, and per member the text of its
    docstring and of its source code."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.loaded: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.docstrings: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.scripts: list[str] = []  # the text of inline scripts
        self._open: list[tuple[str, str | None, str | None]] = []  # (tag, member, part)
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in attr:
            self.links.append(attr["href"])
        if tag in LOADED and attr.get(LOADED[tag]):
            self.loaded.append((tag, attr[LOADED[tag]]))
        if "id" in attr:
            self.ids.add(attr["id"])
        if tag in VOID:
            return
        member, part = self._open[-1][1:] if self._open else (None, None)
        classes = attr.get("class", "").split()
        if tag == "section" and "id" in attr:
            member, part = attr["id"], None
        elif tag == "section" and "module-info" in classes:
            member, part = MODULE, None
        elif tag == "div" and part is None and "docstring" in classes:
            part = "docstring"
        elif tag == "div" and part is None and "pdoc-code" in classes:
            part = "source"
        self._open.append((tag, member, part))

    def handle_endtag(self, tag: str) -> None:
        for k in range(len(self._open) - 1, -1, -1):
            if self._open[k][0] == tag:
                del self._open[k:]
                return

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1][0] == "script":
            self.scripts.append(data)
        if self._open and self._open[-1][1] is not None and self._open[-1][2]:
            _, member, part = self._open[-1]
            into = self.docstrings if part == "docstring" else self.sources
            into[member] = into.get(member, "") + data


def plain(text: str) -> str:
    """Text without reStructuredText/Markdown inline markup, whitespace collapsed."""
    return " ".join(re.sub(r"[`*]", "", text).split())


def public_names(module) -> list[str]:
    """The names in ``__all__`` and the module's own functions not starting with ``_``."""
    functions = [n for n, v in vars(module).items() if inspect.isfunction(v)
                 and v.__module__ == module.__name__ and not n.startswith("_")]
    return list(dict.fromkeys([*getattr(module, "__all__", ()), *functions]))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("docs") / "site"
    return out, run_cli("docs", "--out", str(out))


@pytest.fixture(scope="module")
def out(site) -> Path:
    path, proc = site
    assert proc.returncode == 0, proc.stderr[-3000:]
    return path


@pytest.fixture(scope="module")
def pages(out) -> dict[Path, Page]:
    return {p: Page(p.read_text(encoding="utf-8")) for p in sorted(out.rglob("*.html"))}


def test_exits_0_and_says_where_in_one_line(site):
    path, proc = site
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert str(path) in proc.stderr and "Traceback" not in proc.stderr


def test_one_page_per_module_and_an_index(out):
    for name in MODULES:
        assert (out / "reference" / f"{name}.html").is_file(), name
    assert (out / "reference.html").is_file() and (out / "index.html").is_file()


@pytest.mark.parametrize("name", MODULES)
def test_every_public_name_is_documented_beside_its_source(pages, out, name):
    module = importlib.import_module(f"reference.{name}")
    page = pages[out / "reference" / f"{name}.html"]
    assert plain(inspect.getdoc(module).splitlines()[0]) in plain(page.docstrings[MODULE])
    assert "def " in page.sources[MODULE] or "QUESTIONS" in page.sources[MODULE]
    names = public_names(module)
    assert names, name
    for public in names:
        assert public in page.ids, f"{name}.{public} has no entry on its page"
        obj = getattr(module, public)
        if inspect.isfunction(obj) or inspect.isclass(obj):
            first = plain(inspect.getdoc(obj).splitlines()[0])
            assert first in plain(page.docstrings.get(public, "")), (name, public, first)
            assert f"def {public}(" in page.sources.get(public, ""), (name, public)


def test_module_docstrings_render_as_documentation(pages, out):
    """Derivations in preformatted blocks, tables as tables, no reST residue."""
    batchnorm = (out / "reference" / "batchnorm.html").read_text(encoding="utf-8")
    assert "<table>" in batchnorm and "<pre><code>" in batchnorm
    assert "View Source" in batchnorm
    assert "MathJax" not in batchnorm and "mathjax" not in batchnorm
    for path, page in pages.items():
        for member, text in page.docstrings.items():
            assert "=====" not in text and "::\n" not in text, (path.name, member)


def test_the_index_links_every_module_page(pages, out):
    links = {link.split("#")[0] for link in pages[out / "index.html"].links}
    for name in MODULES:
        assert f"reference/{name}.html" in links, name
    assert "reference.html" in links


def test_every_local_link_resolves(pages, out):
    for path, page in pages.items():
        for link in page.links:
            target = link.split("#")[0].split("?")[0]
            if not target or re.match(r"[a-z][a-z0-9+.-]*:|//", target):
                continue
            assert (path.parent / target).resolve().is_file(), (path.relative_to(out), link)
    module_page = pages[out / "reference" / "batchnorm.html"]
    assert "../reference.html" in module_page.links
    assert "index.html" in pages[out / "reference.html"].links


def test_search_works_offline(pages, out):
    search = out / "search.js"
    assert search.is_file() and search.stat().st_size > 1000
    text = search.read_text(encoding="utf-8")
    assert "window.pdocSearch" in text and "elasticlunr" in text
    for name in MODULES:
        assert f"reference.{name}" in text, name
    for path in (out / "index.html", out / "reference" / "quiz.html"):
        html = path.read_text(encoding="utf-8")
        assert 'type="search"' in html and "search.js" in html, path.name


def test_no_page_loads_anything_from_the_network(pages, out):
    assert len(pages) == len(MODULES) + 2
    for path, page in pages.items():
        for tag, url in page.loaded:
            assert not url.startswith(("http://", "https://", "//")), (path.name, tag, url)
        for script in page.scripts:  # e.g. pdoc's mermaid option imports from a CDN
            assert not re.search(r"https?://|[\"'`]//", script), (path.name, script[:200])
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", html), path.name
        assert "@import" not in html, path.name


def test_an_existing_file_as_out_exits_2(tmp_path):
    target = tmp_path / "taken.txt"
    target.write_text("keep me", encoding="utf-8")
    proc = run_cli("docs", "--out", str(target))
    assert proc.returncode == 2, proc.stderr
    assert "cannot write" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert target.read_text(encoding="utf-8") == "keep me"


def test_out_under_a_file_exits_2(tmp_path):
    (tmp_path / "file").write_text("", encoding="utf-8")
    proc = run_cli("docs", "--out", str(tmp_path / "file" / "site"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr, proc.stderr


def test_out_is_required():
    proc = run_cli("docs")
    assert proc.returncode == 2 and "--out" in proc.stderr


def test_a_grader_without_the_reference_says_so(tmp_path):
    """The student release has no reference package: one sentence, exit 2."""
    code = ("import sys; sys.modules['reference'] = None; from grader.cli import main; "
            f"sys.exit(main(['docs', '--out', {str(tmp_path / 'site')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "this copy of the grader does not have" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "site").exists()
