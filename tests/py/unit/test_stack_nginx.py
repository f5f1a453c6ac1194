"""collab.stack_nginx without a stack: the rendered configuration is complete, nginx accepts it
(``nginx -t``), as root and as another user, and its refusals are the gateway's own bodies."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from collab import stack, stack_nginx
from collab.errors import SetupError
from collab.gateway_errors import invalid_api_key, no_api_key

KEYS = {
    "anon_key": stack.mint_token("s" * 40, "anon"),
    "service_role_key": stack.mint_token("s" * 40, "service_role"),
}


def _render(directory: Path, root: bool) -> str:
    return stack_nginx.render(
        directory=directory,
        api_port=54321,
        gateway_port=40001,
        postgrest_port=40002,
        root=root,
        **KEYS,
    )


@pytest.mark.parametrize("root", [True, False])
def test_the_configuration_is_complete_and_nginx_accepts_it(tmp_path: Path, root: bool) -> None:
    text = _render(tmp_path, root)
    assert "@@" not in text
    assert ("user root root;" in text) is root
    assert "listen 127.0.0.1:54321;" in text and "server 127.0.0.1:40001;" in text
    # the keys as case-sensitive, anchored patterns (a JWT's dots escaped)
    assert f'"~^{KEYS["anon_key"].replace(".", chr(92) + ".")}$"' in text
    stack_nginx.prepare(tmp_path)
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    argv = stack_nginx.argv(stack_nginx.find_nginx(), tmp_path, conf)
    checked = subprocess.run([*argv, "-t"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr


def test_the_refusals_are_the_gateways_bodies(tmp_path: Path) -> None:
    text = _render(tmp_path, root=False)
    for body in (no_api_key().body, invalid_api_key().body):
        quoted = bytes(body).decode().replace("\\", "\\\\").replace("'", "\\'")
        assert f"return 401 '{quoted}';" in text


def test_a_key_that_is_not_a_jwt_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="must be JWTs"):
        stack_nginx.render(
            directory=tmp_path,
            api_port=1,
            gateway_port=2,
            postgrest_port=3,
            anon_key='x" ; }',
            service_role_key="y",
        )


def test_a_missing_nginx_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLAB_NGINX", "/nonexistent/nginx")
    with pytest.raises(SetupError) as refused:
        stack_nginx.find_nginx()
    assert str(refused.value) == "COLLAB_NGINX='/nonexistent/nginx' is not an executable file"
