"""The partner request signature scheme itself (pure; docs/partner-signing.md has known-answer vectors)::

X-HC-Signature: base64(HMAC-SHA256(secret, METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex(SHA256(body))))
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    return "\n".join([method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def matches(
    secrets: list[str], signature: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> bool:
    """Whether ``signature`` was made with one of ``secrets`` (compared in constant time)."""
    return any(hmac.compare_digest(sign(s, method, path, timestamp, nonce, body), signature) for s in secrets)
