"""Starts the local stack (the README's command, without demo data) on free ports and stops it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests

from healthcode_local.demo_data import declared_identity
from tests.stack import running_stack, wait_until_settled


class Api:
    """A plain HTTP client playing the mobile app, the scanner app and the health authority."""

    def __init__(self, base: str, aws: str = "") -> None:
        self.base = base
        self.aws = aws  # the stack's moto server (what a test may tamper with, as an insider could)
        self.http = requests.Session()
        # the tests read the answers' words in English; the default (zh-CN) has tests of its own
        self.http.headers["Accept-Language"] = "en"
        self._tokens: dict[tuple, str] = {}

    def token(
        self, sub: str, *roles: str, identity: tuple[str, str] | None = None, checkpoints: tuple[str, ...] = ()
    ) -> str:
        key = (sub, roles, identity, checkpoints)
        if key not in self._tokens:
            body: dict = {"sub": sub, "roles": list(roles)}
            if identity:
                body["identity"] = {"id_type": identity[0], "id_number": identity[1]}
            if checkpoints:
                body["checkpoints"] = list(checkpoints)
            r = self.http.post(f"{self.base}/dev/tokens", json=body, timeout=10)
            r.raise_for_status()
            self._tokens[key] = r.json()["token"]
        return self._tokens[key]

    def call(
        self,
        method: str,
        path: str,
        body=None,
        *,
        sub: str | None = None,
        roles: tuple[str, ...] = (),
        identity: tuple[str, str] | None = None,
        headers=None,
    ):
        """Without ``identity``, a resident is honest: verified as the person a declaration names; a
        checkpoint account is assigned the checkpoint its scan names."""
        h = dict(headers or {})
        if sub:
            body_ = body if isinstance(body, dict) else {}
            identity = identity or declared_identity(body_)
            checkpoints = (body_["checkpoint_id"],) if "checkpoint" in roles and "checkpoint_id" in body_ else ()
            h["authorization"] = f"Bearer {self.token(sub, *roles, identity=identity, checkpoints=checkpoints)}"
        return self.http.request(method, f"{self.base}{path}", json=body, headers=h, timeout=30)

    def set_clock(self, iso: str) -> list[str]:
        """Move the dev clock and wait for what it fired to be done; returns the schedules that fired."""
        r = self.http.put(f"{self.base}/dev/clock", json={"now": iso}, timeout=30)
        assert r.status_code == 200, r.text
        self.settle()
        return r.json()["fired"]

    def settle(self, seconds: float = 600) -> None:
        """Wait until the stack has run and delivered everything set off so far (polling: a loaded machine
        only makes this slower)."""
        wait_until_settled(self.http, self.base, seconds)


@pytest.fixture(scope="session", autouse=True)
def english_operator():
    """The CLI runs in the operator's locale: here an English one (the answers' words the tests read)."""
    with pytest.MonkeyPatch.context() as m:
        m.delenv("LC_ALL", raising=False)
        m.delenv("LC_MESSAGES", raising=False)
        m.setenv("LANG", "en_GB.UTF-8")
        yield


@pytest.fixture(scope="session")
def stack():
    with running_stack() as (base, aws):
        yield Api(base, aws)


@pytest.fixture(scope="session")
def api_client(tmp_path_factory):
    """A Python client generated from the committed openapi.json by openapi-python-client, as an
    integrator would generate one: the package ``healthcode_api_client``."""
    from pathlib import Path

    out = tmp_path_factory.mktemp("generated")
    openapi = Path(__file__).resolve().parents[2] / "openapi.json"
    bin_dir = Path(sys.executable).parent  # its formatter (ruff) comes from the same environment
    config = out / "generator.yaml"  # the map's picture is a file to this generator (it reads no SVG)
    config.write_text(
        "content_type_overrides:\n  image/svg+xml: application/octet-stream\n  image/png: application/octet-stream\n",
        encoding="utf-8",
    )
    r = subprocess.run(
        [str(bin_dir / "openapi-python-client"), "generate", "--path", str(openapi), "--meta", "none"]
        + ["--config", str(config), "--output-path", str(out / "healthcode_api_client")],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    assert r.returncode == 0 and "Warning" not in r.stdout + r.stderr, r.stdout + r.stderr
    sys.path.insert(0, str(out))
    try:
        import healthcode_api_client

        yield healthcode_api_client
    finally:
        sys.path.remove(str(out))
