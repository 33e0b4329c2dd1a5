"""The operator CLI's HTTP client: bearer tokens (a dev token minted on the local stack), one place that
turns "no answer" into the unreachable exit code, and problems (RFC 9457) read back as one line."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from enum import IntEnum
from typing import Any

import requests


class ExitCode(IntEnum):
    """What a ``healthcode`` exit status means (the same for every command)."""

    OK = 0  # done
    REFUSED = 1  # the service refused the request, or part of the work failed (the output says which)
    USAGE = 2  # the command line or an input file is wrong: nothing was sent
    UNREACHABLE = 3  # the service did not answer
    STILL_RUNNING = 4  # --wait gave up before the job finished (it goes on)


class CliError(Exception):
    """Ends the command with ``code`` after printing ``message`` on stderr."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


def usage(message: str) -> CliError:
    return CliError(message, ExitCode.USAGE)


def locale_language(env: Mapping[str, str] | None = None) -> str | None:
    """The operator's language from the POSIX locale (LC_ALL, LC_MESSAGES, LANG), as an Accept-Language
    value; None (the service's default, zh-CN) for a locale that names no language (C, POSIX)."""
    env = os.environ if env is None else env
    value = next((env[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(k)), "")
    tag = value.split(".")[0].split("@")[0].replace("_", "-")
    return tag if tag and tag not in ("C", "POSIX") else None


class Client:
    def __init__(self, url: str, token: str | None, timeout: float = 30) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = requests.Session()
        language = locale_language()
        if language:  # the service's words (reasons, problems) in the operator's language
            self.http.headers["Accept-Language"] = language

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self.http.request(method, f"{self.url}{path}", timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise CliError(f"{self.url} did not answer ({type(exc).__name__})", ExitCode.UNREACHABLE) from exc

    def dev_token(self, sub: str, roles: list[str]) -> str:
        r = self._send("POST", "/dev/tokens", json={"sub": sub, "roles": roles})
        if r.status_code != 200:
            raise usage(f"{self.url} mints no dev tokens ({r.status_code}): pass --token or set HEALTHCODE_TOKEN")
        return str(r.json()["token"])

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        sub: str = "operator",
        roles: tuple[str, ...] = ("health_admin",),
    ) -> requests.Response:
        token = self.token or self.dev_token(sub, list(roles))
        return self._send(method, path, json=body, headers={"authorization": f"Bearer {token}"})


def token_subject(token: str) -> str | None:
    """The ``sub`` a bearer token names (read, not verified: the API verifies it)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    return claims.get("sub") if isinstance(claims, dict) else None


def body_of(r: requests.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return {"status": r.status_code, "detail": r.text[:500]}


def refusal(r: requests.Response) -> str:
    """One line for a refused request: status, title, detail and the fields the problem names."""
    body = body_of(r)
    if not isinstance(body, dict):
        return f"{r.status_code}"
    text = f"{r.status_code} {body.get('title') or body.get('message') or ''}".strip()
    if body.get("detail"):
        text += f": {body['detail']}"
    for field in body.get("errors") or []:
        text += f"\n  {field.get('field')}: {field.get('message')}"
    return text
