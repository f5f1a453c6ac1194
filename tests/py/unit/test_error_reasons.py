"""docs/errors.md, the SQL sources and the pgTAP tests agree on the error reasons.

Every (SQLSTATE, reason) raised through ``collab.raise_error`` under sql/ has a row in
docs/errors.md; every row is raised somewhere; and every reason appears in a pgTAP test
(tests/sql) that raises it.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
ROW = re.compile(r"^\| (PT\d{3}) \| \d{3} \| `([a-z_]+)` \|", re.MULTILINE)
RAISED = re.compile(r"raise_error\(\s*'(PT\d{3})',\s*'([a-z_]+)'")


def documented() -> set[tuple[str, str]]:
    return set(ROW.findall((REPO / "docs" / "errors.md").read_text()))


def raised() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in (REPO / "sql").rglob("*.sql"):
        found |= set(RAISED.findall(path.read_text()))
    return found


def test_every_raised_reason_is_documented() -> None:
    assert raised() - documented() == set(), (
        "reasons raised under sql/ but missing in docs/errors.md"
    )


def test_every_documented_reason_is_raised() -> None:
    assert documented() - raised() == set(), "rows of docs/errors.md that nothing raises"


def test_every_reason_has_a_pgtap_test() -> None:
    tests = "\n".join(p.read_text() for p in sorted((REPO / "tests" / "sql").glob("*.sql")))
    missing = {reason for _, reason in documented() if not re.search(rf"\b{reason}\b", tests)}
    assert missing == set(), "reasons no pgTAP test raises"
