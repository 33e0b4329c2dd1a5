"""Publishing the pages (``web/``) to a deployment's PagesBucket: the files, the pinned third-party files
``web/vendor.json`` names (from ``web/node_modules``, installed by ``npm ci``), and a ``config.json``
that points the pages at the deployment's API and identity provider (OIDC, authorization code + PKCE)."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any

WEB = Path(__file__).resolve().parents[2] / "web"
NOT_SERVED = {"package.json", "package-lock.json", "vendor.json"}
TYPES = {".js": "text/javascript; charset=utf-8", ".json": "application/json", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".webmanifest": "application/manifest+json", ".svg": "image/svg+xml"}


def media_type(path: Path) -> str:
    return TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def files(web: Path = WEB) -> dict[str, Path]:
    """Every key to upload (and the local stack to serve) and the file it comes from."""
    out = {
        str(p.relative_to(web)): p
        for p in sorted(web.rglob("*"))
        if p.is_file() and "node_modules" not in p.relative_to(web).parts and p.name not in NOT_SERVED
    }
    for key, source in json.loads((web / "vendor.json").read_text(encoding="utf-8")).items():
        path = web / "node_modules" / source
        if not path.is_file():
            raise FileNotFoundError(f"{path}: run make bootstrap (npm ci in web/) first")
        out[key] = path
    return out


def config(api_url: str, issuer: str, client_id: str) -> dict[str, Any]:
    """Each page signs in with its own address as the redirect URI: register the three pages'
    addresses (``<PagesUrl>/resident.html`` and so on) with the identity provider's client."""
    return {"api": api_url.rstrip("/"), "dev_sign_in": False, "oidc": {"issuer": issuer.rstrip("/"), "client_id": client_id}}


def publish(s3: Any, bucket: str, cfg: dict[str, Any], web: Path = WEB) -> list[str]:
    """Upload the pages and ``config.json``; the keys written. HTML and the configuration are revalidated
    on every visit (a deploy shows at once); the rest is cached an hour."""
    written = []
    for key, path in files(web).items():
        cache = "no-cache" if path.suffix == ".html" else "public, max-age=3600"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=media_type(path), CacheControl=cache)
        written.append(key)
    s3.put_object(
        Bucket=bucket, Key="config.json", Body=json.dumps(cfg).encode(), ContentType="application/json",
        CacheControl="no-cache",
    )
    return [*written, "config.json"]
