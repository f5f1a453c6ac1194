"""The two search evaluation sets, built from installed Debian packages (``make search-eval``).

Both are written in BEIR's file formats (``corpus.jsonl``, ``queries.jsonl``, ``qrels.tsv``)
plus a ``set.json`` that records where they come from; no query is written by us.

* **D-pg (docs)**: the PostgreSQL 15 manual of ``postgresql-doc-15``. Queries are the one-line
  purpose of every reference page ("define a new index"), one query per distinct purpose; the
  gold is that page (every page, when several share the purpose, as "move a cursor" does),
  with its name and purpose (the ``refnamediv``) cut out. Every page is stripped of ``<head>``, the
  navigation header and footer and the tables of contents (they carry neighbouring titles);
  table-of-contents pages (``sql-commands``, ``reference*``, ``bookindex``, ``index``) and
  the release notes are left out of the corpus.
* **C-stdlib (code)**: every function and method of the Python 3.11 standard library of
  ``libpython3.11-minimal`` and ``libpython3.11-stdlib`` (tests and site-packages left out). A document is the function's
  source with its docstring cut out (name, signature and comments stay). A query is the first
  paragraph of a docstring (CodeSearchNet's ``docstring_summary``); eligible are summaries of
  at least 3 tokens, of functions of at least 3 lines, whose names hold no ``test`` and are no
  dunders, and which no other function shares; 1000 are drawn with the seed.

Leakage guards: a query whose gold document contains the query text verbatim
(case-insensitively, whitespace normalized) is dropped and counted; the query list is frozen
by its sha256 in ``set.json``; the package versions are recorded.
"""

from __future__ import annotations

import ast
import hashlib
import json
import random
import re
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

CODE_SEED = 20261130
CODE_SAMPLE = 1000
DOCS_PACKAGE = "postgresql-doc-15"
# Debian's python3.11 standard library is split between these two packages.
CODE_PACKAGES = ("libpython3.11-minimal", "libpython3.11-stdlib")

_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def package_version(package: str) -> str:
    """The installed version of a Debian package (``dpkg-query``)."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", package],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def package_files(package: str) -> list[Path]:
    """The files a Debian package installed (``dpkg-query -L``)."""
    out = subprocess.run(["dpkg-query", "-L", package], check=True, capture_output=True, text=True)
    return [Path(line) for line in out.stdout.splitlines() if line.strip()]


@dataclass
class EvalSet:
    """A set in BEIR's shape, with its provenance."""

    name: str
    package: str
    version: str
    corpus: list[dict[str, str]]
    queries: list[dict[str, str]]
    qrels: list[tuple[str, str, int]]
    notes: dict[str, Any] = field(default_factory=dict)

    def write(self, directory: Path) -> dict[str, Any]:
        """Write corpus.jsonl, queries.jsonl, qrels.tsv and set.json; return set.json's data."""
        directory.mkdir(parents=True, exist_ok=True)
        corpus_text = "".join(
            json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n" for d in self.corpus
        )
        queries_text = "".join(
            json.dumps(q, ensure_ascii=False, sort_keys=True) + "\n" for q in self.queries
        )
        qrels_text = "query-id\tcorpus-id\tscore\n" + "".join(
            f"{q}\t{d}\t{s}\n" for q, d, s in self.qrels
        )
        (directory / "corpus.jsonl").write_text(corpus_text, encoding="utf-8")
        (directory / "queries.jsonl").write_text(queries_text, encoding="utf-8")
        (directory / "qrels.tsv").write_text(qrels_text, encoding="utf-8")
        meta = {
            "set": self.name,
            "package": self.package,
            "package_version": self.version,
            "corpus_sha256": hashlib.sha256(corpus_text.encode()).hexdigest(),
            "queries_sha256": hashlib.sha256(queries_text.encode()).hexdigest(),
            "qrels_sha256": hashlib.sha256(qrels_text.encode()).hexdigest(),
            "n_docs": len(self.corpus),
            "n_queries": len(self.queries),
            **self.notes,
        }
        (directory / "set.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return meta


# -- D-pg ---------------------------------------------------------------------------------------
_SKIPPED_CLASSES = {"navheader", "navfooter", "toc", "refnamediv"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr"}
_BLOCK = {"p", "div", "pre", "li", "dt", "dd", "tr", "h1", "h2", "h3", "h4", "h5", "table", "br"}


class _ManualPage(HTMLParser):
    """The text of a manual page without head, navigation, tables of contents, refnamediv."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.skip_depth = 0  # >0 inside a skipped element
        self.stack: list[bool] = []  # per open element: does it start a skipped region
        self.parts: list[str] = []
        self.heading: list[str] | None = None
        self.title = ""
        self.purpose = ""
        self.refname_text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            if tag == "br" and not self.skip_depth:
                self.parts.append("\n")
            return
        classes = set((dict(attrs).get("class") or "").split())
        skipped = tag == "head" or bool(classes & _SKIPPED_CLASSES)
        if "refnamediv" in classes:
            self.refname_text = []
        self.stack.append(skipped)
        if skipped:
            self.skip_depth += 1
        if not self.skip_depth and tag in {"h1", "h2", "h3"} and not self.title:
            self.heading = []
        if tag in _BLOCK and not self.skip_depth:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self.stack:
            return
        if self.heading is not None and tag in {"h1", "h2", "h3"}:
            self.title = _norm("".join(self.heading))
            self.heading = None
        skipped = self.stack.pop()
        if skipped:
            self.skip_depth -= 1
            if self.refname_text is not None and self.skip_depth == 0:
                text = _norm("".join(self.refname_text))
                if " — " in text:
                    self.purpose = text.split(" — ", 1)[1].strip()
                self.refname_text = None

    def handle_data(self, data: str) -> None:
        if self.refname_text is not None:
            self.refname_text.append(data)
        if self.skip_depth:
            return
        self.parts.append(data)
        if self.heading is not None:
            self.heading.append(data)

    def text(self) -> str:
        lines = (_norm(line) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


def _excluded_page(name: str) -> bool:
    return (
        name in {"sql-commands.html", "bookindex.html", "index.html"}
        or name.startswith("reference")
        or name.startswith("release")
    )


def build_docs_set() -> EvalSet:
    """D-pg from the installed postgresql-doc-15."""
    pages = sorted(
        p for p in package_files(DOCS_PACKAGE) if p.suffix == ".html" and p.parent.name == "html"
    )
    if not pages:
        raise RuntimeError(f"{DOCS_PACKAGE} installed no HTML pages")
    corpus: list[dict[str, str]] = []
    candidates: list[tuple[str, str]] = []  # (purpose, page id)
    for page in pages:
        if _excluded_page(page.name):
            continue
        parser = _ManualPage()
        parser.feed(page.read_text(encoding="utf-8"))
        parser.close()
        doc_id = page.stem
        # No title: the gold pages lost theirs with the refnamediv, so a title on the other pages
        # only would tilt the set against the golds. Each page's headings stay in its text.
        corpus.append({"_id": doc_id, "title": "", "text": parser.text()})
        if parser.purpose:
            candidates.append((parser.purpose, doc_id))
    texts = {d["_id"]: d["text"].lower() for d in corpus}
    purposes: dict[str, list[str]] = {}
    for purpose, doc_id in candidates:
        purposes.setdefault(purpose.lower(), []).append(doc_id)
    queries: list[dict[str, str]] = []
    qrels: list[tuple[str, str, int]] = []
    shared = leaked = 0
    done: set[str] = set()
    for purpose, _doc_id in candidates:
        key = purpose.lower()
        if key in done:
            continue
        done.add(key)
        golds = purposes[key]
        shared += len(golds) > 1
        if any(_norm(key) in _norm(texts[g]) for g in golds):
            leaked += 1
            continue
        qid = f"purpose-{golds[0]}"
        queries.append({"_id": qid, "text": purpose})
        qrels.extend((qid, g, 1) for g in golds)
    return EvalSet(
        name="D-pg",
        package=DOCS_PACKAGE,
        version=package_version(DOCS_PACKAGE),
        corpus=corpus,
        queries=queries,
        qrels=qrels,
        notes={
            "queries_from": "refpurpose of each reference page -> that page (refnamediv removed)",
            "queries_with_several_pages": shared,
            "dropped_verbatim_in_gold": leaked,
        },
    )


# -- C-stdlib -----------------------------------------------------------------------------------
@dataclass
class _Function:
    doc_id: str
    title: str
    path: str
    text: str
    summary: str
    name: str
    lines: int


def _stdlib_files() -> tuple[Path, list[Path]]:
    installed = [p for package in CODE_PACKAGES for p in package_files(package)]
    roots = [p.parent for p in installed if p.name == "os.py"]
    if not roots:
        raise RuntimeError(f"{CODE_PACKAGES[0]} installed no os.py")
    root = roots[0].resolve()
    files = []
    for path in installed:
        if path.suffix != ".py" or not path.is_file():
            continue
        try:
            rel = path.resolve().relative_to(root)
        except ValueError:
            continue
        parts = rel.parts
        if any(
            p in {"test", "tests", "idle_test", "site-packages", "dist-packages"} for p in parts
        ):
            continue
        files.append(path)
    return root, sorted(set(files))


def _summary(docstring: str) -> str:
    first = re.split(r"\n\s*\n", docstring.strip(), maxsplit=1)[0]
    return _norm(first)


def _functions(root: Path, path: Path) -> list[_Function]:
    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.splitlines(keepends=True)
    rel = path.resolve().relative_to(root).as_posix()
    module = rel[:-3].replace("/", ".").removesuffix(".__init__")
    found: list[_Function] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                qualname = f"{prefix}{child.name}"
                start = (
                    child.decorator_list[0].lineno if child.decorator_list else child.lineno
                ) - 1
                end = child.end_lineno or child.lineno
                body_lines = lines[start:end]
                summary = ""
                doc = ast.get_docstring(child, clean=True)
                first = child.body[0] if child.body else None
                if (
                    doc
                    and isinstance(first, ast.Expr)
                    and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)
                ):
                    summary = _summary(doc)
                    d_start = first.lineno - 1 - start
                    d_end = (first.end_lineno or first.lineno) - start
                    body_lines = body_lines[:d_start] + body_lines[d_end:]
                text = "".join(body_lines)
                found.append(
                    _Function(
                        doc_id=f"{module}.{qualname}",
                        title=qualname,
                        path=rel,
                        text=text,
                        summary=summary,
                        name=child.name,
                        lines=sum(1 for line in text.splitlines() if line.strip()),
                    )
                )
                visit(child, f"{qualname}.<locals>.")

    visit(tree, "")
    return found


def build_code_set(seed: int = CODE_SEED, sample: int = CODE_SAMPLE) -> EvalSet:
    """C-stdlib from the installed libpython3.11-stdlib."""
    root, files = _stdlib_files()
    functions: list[_Function] = []
    for path in files:
        functions.extend(_functions(root, path))
    seen: dict[str, int] = {}
    corpus: list[dict[str, str]] = []
    for fn in functions:
        n = seen.get(fn.doc_id, 0)
        seen[fn.doc_id] = n + 1
        if n:
            fn.doc_id = f"{fn.doc_id}#{n + 1}"  # a redefinition (property setter, platform branch)
        corpus.append({"_id": fn.doc_id, "title": fn.title, "path": fn.path, "text": fn.text})
    by_summary: dict[str, int] = {}
    for fn in functions:
        if fn.summary:
            key = fn.summary.lower()
            by_summary[key] = by_summary.get(key, 0) + 1
    eligible: list[_Function] = []
    leaked = 0
    for fn in functions:
        if not fn.summary or len(fn.summary.split()) < 3 or fn.lines < 3:
            continue
        if "test" in fn.name.lower() or (fn.name.startswith("__") and fn.name.endswith("__")):
            continue
        if by_summary[fn.summary.lower()] > 1:
            continue
        if fn.summary.lower() in _norm(fn.text.lower()):
            leaked += 1
            continue
        eligible.append(fn)
    eligible.sort(key=lambda f: f.doc_id)
    chosen = sorted(
        random.Random(seed).sample(eligible, min(sample, len(eligible))), key=lambda f: f.doc_id
    )
    queries = [{"_id": f"doc-{fn.doc_id}", "text": fn.summary} for fn in chosen]
    qrels = [(f"doc-{fn.doc_id}", fn.doc_id, 1) for fn in chosen]
    return EvalSet(
        name="C-stdlib",
        package=" ".join(CODE_PACKAGES),
        version=package_version(CODE_PACKAGES[1]),
        corpus=corpus,
        queries=queries,
        qrels=qrels,
        notes={
            "queries_from": "docstring summary -> the function with its docstring removed",
            "eligible_queries": len(eligible),
            "sample_seed": seed,
            "dropped_verbatim_in_gold": leaked,
        },
    )
