"""Signing-key rotation (an operator task, deployed or local): publish first, then sign with the new key.

The new public key is added to the JWKS parameter before the secret marks it active, so no checkpoint
ever sees a token signed by a key it cannot find; the previous key stays published for the overlap.
"""

from __future__ import annotations

import json
from typing import Any

from healthcode.tokens import generate_signing_key, public_jwks

KEEP_KEYS = 2  # the active key and the one before it (tokens live 5 minutes)


def current_keys(secrets: Any, secret_id: str) -> dict[str, Any] | None:
    try:
        value = secrets.get_secret_value(SecretId=secret_id).get("SecretString")
    except secrets.exceptions.ResourceNotFoundException:
        return None
    return json.loads(value) if value else None


def rotate(secrets: Any, ssm: Any, secret_id: str, parameter: str) -> str:
    """Generate a new signing key, publish it, make it active. Returns the new key id."""
    doc = current_keys(secrets, secret_id) or {"keys": []}
    new = generate_signing_key()
    keys = [new, *doc["keys"]][:KEEP_KEYS]
    ssm.put_parameter(Name=parameter, Value=json.dumps(public_jwks(keys)), Type="String", Overwrite=True)
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"active_kid": new["kid"], "keys": keys}))
    return str(new["kid"])


def ensure(secrets: Any, ssm: Any, secret_id: str, parameter: str) -> str:
    """A signing key exists (generated at first start); returns the active key id."""
    doc = current_keys(secrets, secret_id)
    if doc and doc.get("keys"):
        return str(doc["active_kid"])
    return rotate(secrets, ssm, secret_id, parameter)
