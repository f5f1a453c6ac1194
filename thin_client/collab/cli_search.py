"""``collab search query | index | drop | eval | build-sets``: search collections (docs/search.md).

Registered by ``collab.cli`` (``main.add_command``); imports only ``collab.cli_common`` of the
CLI, so it adds no import cycle.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from collab import cli_common

_one_line = cli_common.one_line_errors


@click.group("search")
def search() -> None:
    """Search collections of the workspace (api.search, api.index_documents) and their evaluation."""


@search.command("query")
@click.argument("collection")
@click.argument("query")
@click.option("-k", "--top", "k", default=10, show_default=True, help="How many hits (1-1000).")
@click.option("--path-prefix", default=None, help="Only documents whose path starts with this.")
@click.option(
    "--metadata", default=None, help="Only documents whose metadata contains this JSON object."
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@_one_line
def search_query(
    collection: str,
    query: str,
    k: int,
    path_prefix: str | None,
    metadata: str | None,
    as_json: bool,
) -> None:
    """Search COLLECTION for QUERY: the best hits first, with score and highlight."""
    filters: dict[str, object] = {}
    if path_prefix is not None:
        filters["path_prefix"] = path_prefix
    if metadata is not None:
        filters["metadata"] = json.loads(metadata)
    with cli_common.client() as c:
        hits = c.search(collection, query, k=k, filters=filters)
    if as_json:
        cli_common.print_json(hits)
        return
    for h in hits:
        where = f" ({h['path']})" if h["path"] else ""
        click.echo(f"{h['rank']:>3}. {h['score']:.3f}  {h['key']}{where}  {h['title']}")
        if h["highlight"]:
            click.echo(f"      {' '.join(str(h['highlight']).split())}")


@search.command("index")
@click.argument("collection")
@click.argument("jsonl", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_one_line
def search_index(collection: str, jsonl: Path) -> None:
    """Index the documents of JSONL (one {key, title, path, body, metadata} a line, or BEIR's
    {_id, title, text}) into COLLECTION, 500 a call."""
    cli_common.require_schema()  # before reading a corpus that could not be stored
    docs = []
    for line in jsonl.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            docs.append(
                {
                    "key": str(d.get("key", d.get("_id"))),
                    "title": d.get("title") or "",
                    "path": d.get("path") or "",
                    "body": d.get("body", d.get("text")) or "",
                    "metadata": d.get("metadata") or {},
                }
            )
    result: dict[str, object] = {}
    with cli_common.client() as c:
        for start in range(0, len(docs), 500):
            result = c.index_documents(collection, docs[start : start + 500])
    click.echo(
        f"indexed {len(docs)} documents into {collection} ({result.get('document_count', 0)} in all)"
    )


@search.command("drop")
@click.argument("collection")
@_one_line
def search_drop(collection: str) -> None:
    """Drop COLLECTION with its documents."""
    with cli_common.client() as c:
        n = c.drop_collection(collection)
    click.echo(f"dropped {collection} ({n} documents)")


@search.command("eval")
@click.option(
    "--corpus", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--queries", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--qrels", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--protocol", type=click.Choice(["full", "batch1000"]), default="full", show_default=True
)
@click.option("--seed", default=20261130, show_default=True, help="Seed of the batch1000 shuffle.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@_one_line
def search_eval(
    corpus: Path, queries: Path, qrels: Path, protocol: str, seed: int, out: Path
) -> None:
    """Run a BEIR-format test collection through api.search and a BM25 baseline; write the report."""
    from collab import search_eval as evaluation

    cli_common.require_schema()
    with cli_common.client() as c:
        report = evaluation.evaluate(
            c,
            corpus,
            queries,
            qrels,
            protocol,
            seed,
            out,
            progress=lambda m: click.echo(m, err=True),
        )
    for engine in ("collab", "bm25"):
        m = report[engine]
        click.echo(
            f"{report['set']} {engine:>6}: hit@1 {m['hit@1']:.3f}  hit@3 {m['hit@3']:.3f}  "
            f"hit@10 {m['hit@10']:.3f}  MRR@10 {m['mrr@10']:.3f}  nDCG@10 {m['ndcg@10']:.3f}"
        )
    click.echo(f"report: {out}")


@search.command("build-sets")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@_one_line
def search_build_sets(out: Path) -> None:
    """Build the D-pg (docs) and C-stdlib (code) sets from the installed Debian packages
    (postgresql-doc-15, python3.11) into OUT/docs and OUT/code."""
    from collab import search_sets

    for name, build in (("docs", search_sets.build_docs_set), ("code", search_sets.build_code_set)):
        meta = build().write(out / name)
        click.echo(
            f"{meta['set']}: {meta['n_docs']} documents, {meta['n_queries']} queries "
            f"({meta['package']} {meta['package_version']}) -> {out / name}"
        )
