"""The README's supabase-js example of the Edge Functions and signed URLs, run by Deno against
the artifacts suite's stack, as tests/py/rest/test_supabase_js.py runs the REST example (the
pinned Deno of tests/js and its offline module cache, ``make setup``)."""

from __future__ import annotations

import re
from pathlib import Path

from rest.conftest import RestStack
from rest.test_supabase_js import README, deno, deno_env

from artifacts.conftest import User


def test_the_readme_functions_example(
    artifacts_stack: RestStack, owner_a: User, tmp_path: Path
) -> None:
    found = re.search(
        r"<!-- readme-test: supabase-js-functions -->\n```ts\n(.*?)\n```", README.read_text(), re.S
    )
    assert found is not None, "README has no supabase-js example of the Edge Functions"
    data = b"# weekly report\n" * 64
    owner_a.put("reports/readme-example.md", data, "text/markdown")
    script = tmp_path / "readme_functions.ts"
    script.write_text(found.group(1))
    env = {**deno_env(artifacts_stack), "TOKEN": owner_a.token}
    output = deno(artifacts_stack, "run", "--config", "rest/deno.json", str(script), env=env)
    lines = output.splitlines()
    assert re.fullmatch(r"queues \d+ dlq \d+", lines[0]), output
    assert lines[1] == f"downloaded reports/readme-example.md {len(data)} bytes", output
