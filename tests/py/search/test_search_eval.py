"""The search harness (collab search eval) on a small real fixture: the functions of two
modules of the Debian python3.11 standard library, queried by their docstring summaries.

Checks that the metrics the harness writes equal trec_eval's (pytrec_eval) on the same runs to
1e-9, for Collab's ranking and the BM25 baseline, under both protocols; that the CLI writes a
report with the fields docs/search.md lists; and the leakage guard of the sets.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytrec_eval
from click.testing import CliRunner

from collab import search_eval, search_sets
from collab.cli import main
from collab.client import Client

MODULES = ("configparser.py", "shlex.py")


@pytest.fixture(scope="module")
def fixture_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root, files = search_sets._stdlib_files()
    found = [
        fn
        for f in files
        if f.name in MODULES and f.parent == root
        for fn in search_sets._functions(root, f)
    ]
    functions = list({fn.doc_id: fn for fn in reversed(found)}.values())[::-1]  # one per name
    assert len(functions) > 40, "the fixture modules are installed (python3.11 stdlib)"
    corpus = [
        {"_id": fn.doc_id, "title": fn.title, "path": fn.path, "text": fn.text} for fn in functions
    ]
    chosen = [fn for fn in functions if len(fn.summary.split()) >= 3 and fn.lines >= 3][:25]
    queries = [{"_id": f"q-{fn.doc_id}", "text": fn.summary} for fn in chosen]
    out = tmp_path_factory.mktemp("beir")
    search_sets.EvalSet(
        name="fixture",
        package="libpython3.11-stdlib",
        version="test",
        corpus=corpus,
        queries=queries,
        qrels=[(q["_id"], q["_id"][2:], 1) for q in queries],
    ).write(out)
    return out


def _trec(report: dict[str, object], field: str) -> dict[str, dict[str, float]]:
    rows = report["per_query"]
    assert isinstance(rows, list)
    return {r["id"]: {d: float(10 - i) for i, d in enumerate(r[field])} for r in rows}


@pytest.mark.parametrize("protocol", ["full", "batch1000"])
def test_metrics_equal_trec_eval(db_url: str, fixture_set: Path, protocol: str) -> None:
    data = search_eval.load(
        fixture_set / "corpus.jsonl", fixture_set / "queries.jsonl", fixture_set / "qrels.tsv"
    )
    with Client(db_url, max_size=2) as client:
        report = search_eval.run(client, data, protocol=protocol, seed=7)
        # the collections were dropped afterwards
        with client.pool.connection() as conn:
            left = conn.execute(
                "select count(*) from collab.search_collections where name like 'eval-%'"
            ).fetchone()
        assert left == (0,)
    assert report["n_queries"] == 25
    qrels = {qid: dict(rel) for qid, rel in data.qrels.items()}
    evaluator = pytrec_eval.RelevanceEvaluator(
        qrels, {"success.1,3,10", "recip_rank", "ndcg_cut.10"}
    )
    for engine, field in (("collab", "top10"), ("bm25", "bm25_top10")):
        per_query = evaluator.evaluate(_trec(report, field))
        expected = {
            "hit@1": "success_1",
            "hit@3": "success_3",
            "hit@10": "success_10",
            "mrr@10": "recip_rank",
            "ndcg@10": "ndcg_cut_10",
        }
        for metric, trec_name in expected.items():
            want = sum(q[trec_name] for q in per_query.values()) / len(per_query)
            assert report[engine][metric] == pytest.approx(want, abs=1e-9), (engine, metric)
    # on code, Collab's ranking is not below the baseline on this fixture either
    assert report["collab"]["mrr@10"] >= report["bm25"]["mrr@10"]


def test_ties_count_against_the_gold() -> None:
    ranked = search_eval.pessimistic(
        [("a", 2.0), ("gold", 1.0), ("b", 1.0), ("c", 0.5)], {"gold": 1}
    )
    assert ranked == ["a", "b", "gold", "c"]
    assert search_eval.gold_rank(ranked, {"gold": 1}) == 3
    m = search_eval.query_metrics(ranked, {"gold": 1})
    assert (m["hit@1"], m["hit@3"]) == (0.0, 1.0)
    assert m["mrr@10"] == pytest.approx(1 / 3)


def test_cli_writes_the_report(
    db_url: str, fixture_set: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLAB_DATABASE_URL", db_url)
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        main,
        [
            "search",
            "eval",
            "--corpus",
            str(fixture_set / "corpus.jsonl"),
            "--queries",
            str(fixture_set / "queries.jsonl"),
            "--qrels",
            str(fixture_set / "qrels.tsv"),
            "--protocol",
            "batch1000",
            "--seed",
            "3",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    for key in (
        "set",
        "package",
        "package_version",
        "corpus_sha256",
        "n_docs",
        "n_queries",
        "seed",
        "protocol",
        "collab",
        "bm25",
        "per_query",
    ):
        assert key in report, key
    assert report["set"] == "fixture" and report["seed"] == 3 and report["protocol"] == "batch1000"
    assert {"id", "rank", "bm25_rank", "gold"} <= set(report["per_query"][0])
    assert "hit@3" in result.output


def test_manual_pages_lose_their_name_purpose_and_navigation() -> None:
    page = search_sets._ManualPage()
    page.feed(
        "<html><head><title>CREATE INDEX</title></head><body>"
        '<div class="navheader">CREATE LANGUAGE Next</div>'
        '<div class="refnamediv"><h2>CREATE INDEX</h2><p>CREATE INDEX — define a new index</p></div>'
        '<div class="refsect1"><h2>Description</h2><p>CREATE INDEX constructs an index.</p></div>'
        '<div class="navfooter">Prev Home</div></body></html>'
    )
    page.close()
    assert page.purpose == "define a new index"
    assert page.text() == "Description\nCREATE INDEX constructs an index."
