"""QR code tokens: compact JWS (ES256) with the start of the key's RFC 7638 thumbprint as ``kid``.

Claims: ``iss`` (this deployment), ``cid`` (the opaque code id, never an ID number), ``col`` (colour at
issue), ``iat`` and ``exp``. A checkpoint's verdict never trusts ``col``: verify reads the holder's colour
now. Keys come from Secrets Manager (private) and SSM (public JWKS) through Powertools parameters.
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeGuard, cast

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet
from joserfc.util import urlsafe_b64decode

if TYPE_CHECKING:
    from joserfc.jwk import KeySetSerialization

ALGORITHM = "ES256"
SKEW = timedelta(seconds=30)
MAX_TOKEN_LENGTH = 4096


KID_LENGTH = 11  # characters of the key's RFC 7638 thumbprint: 66 bits, unique among a deployment's keys


def generate_signing_key() -> dict[str, Any]:
    """A new P-256 private JWK whose kid is the start of its thumbprint (for provisioning and rotation):
    the kid is in every code, so it is kept short."""
    key = ECKey.generate_key("P-256")
    return key.as_dict(private=True) | {"kid": key.thumbprint()[:KID_LENGTH]}


def key_id(jwk: dict[str, Any]) -> str:
    """The key's kid: the one it was given (keys made before kids were short carry their whole thumbprint)."""
    kid = jwk.get("kid")
    return str(kid) if kid else ECKey.import_key(jwk).thumbprint()


def public_jwks(private_jwks: list[dict[str, Any]]) -> dict[str, Any]:
    """The public half of each key, as published at ``/.well-known/jwks.json``."""
    keys = []
    for jwk in private_jwks:
        pub = ECKey.import_key(jwk).as_dict(private=False)
        pub.update({"kid": key_id(jwk), "use": "sig", "alg": ALGORITHM})
        keys.append(pub)
    return {"keys": keys}


@dataclass(frozen=True, slots=True)
class IssuedToken:
    value: str
    expires_at: datetime


class TokenSigner:
    def __init__(self, private_jwk: dict[str, Any], issuer: str, ttl_seconds: int = 300) -> None:
        self._key = ECKey.import_key(private_jwk)
        self._kid = key_id(private_jwk)
        self._issuer = issuer
        self._ttl = ttl_seconds

    def issue(self, code_id: str, color: str, now: datetime) -> IssuedToken:
        iat = int(now.timestamp())
        exp = iat + self._ttl
        claims = {"iss": self._issuer, "cid": code_id, "col": color, "iat": iat, "exp": exp}
        payload = json.dumps(claims, separators=(",", ":")).encode()
        # no "typ": the key signs these codes only, and a verifier requires their claims (iss, cid, iat, exp); every
        # character is a QR module more (README: the QR version)
        value = jws.serialize_compact({"alg": ALGORITHM, "kid": self._kid}, payload, self._key)
        return IssuedToken(value, datetime.fromtimestamp(exp, UTC))


@dataclass(frozen=True, slots=True)
class TokenCheck:
    status: str  # valid | expired | invalid_signature | unknown_issuer | malformed
    issuer: str | None = None
    code_id: str | None = None
    color: str | None = None
    expires_at: datetime | None = None
    unknown_kid: bool = False  # signed with a key we have not (yet) seen: worth one JWKS refresh


MAX_EPOCH = 2**37  # the year 6325: a later (or negative) time is no time any issuer meant


def _epoch(value: Any) -> TypeGuard[int]:
    return type(value) is int and 0 < value < MAX_EPOCH


# the one algorithm a code may use, straight from joserfc's registry: a token is parsed once, here, and its
# signature checked with the key its kid names (no second parse by deserialize_compact)
_ALG = jws.JWSRegistry(algorithms=[ALGORITHM]).get_alg(ALGORITHM)


def _usable(key: Any) -> Any:
    """``key`` when ES256 can verify with it (an EC P-256 public key), else None."""
    try:
        _ALG.check_key(key)
    except (JoseError, ValueError, TypeError):
        return None
    return key


class TokenVerifier:
    """Checks tokens against the public keys of each trusted issuer."""

    def __init__(self, trusted: dict[str, dict[str, Any]]) -> None:
        self._keysets = {}
        for iss, jwks in trusted.items():
            try:
                self._keysets[iss] = KeySet.import_key_set(cast("KeySetSerialization", jwks))
            except (JoseError, ValueError, KeyError, TypeError):
                continue  # a partner's unusable key set must not stop anyone else's codes
        # each key by its id, so a check goes straight to its key (no search of the set per token); None
        # for a published key ES256 cannot use (a partner's RSA key, say): its codes are refused as forged
        self._kids = {iss: {k.kid: _usable(k) for k in ks.keys} for iss, ks in self._keysets.items()}

    def check(self, token: str, now: datetime) -> TokenCheck:
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
            return TokenCheck("malformed")
        head, body, sig = token.split(".")
        try:
            header = json.loads(urlsafe_b64decode(head.encode()))
            claims = json.loads(urlsafe_b64decode(body.encode()))
        except (ValueError, UnicodeError, binascii.Error):
            return TokenCheck("malformed")
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return TokenCheck("malformed")
        iss, cid, exp, iat = claims.get("iss"), claims.get("cid"), claims.get("exp"), claims.get("iat")
        if not (isinstance(iss, str) and isinstance(cid, str) and _epoch(exp) and _epoch(iat)):
            return TokenCheck("malformed")
        if iss not in self._keysets:
            return TokenCheck("unknown_issuer", issuer=iss)
        # Only our algorithm, only a key we published: 'none', HS256-with-the-public-key and
        # unknown kids never reach a signature check that could be fooled.
        if header.get("alg") != ALGORITHM:
            return TokenCheck("invalid_signature", issuer=iss)
        kid = header.get("kid")
        if not isinstance(kid, str) or kid not in self._kids[iss]:
            return TokenCheck("invalid_signature", issuer=iss, unknown_kid=isinstance(kid, str))
        key = self._kids[iss][kid]
        try:
            signed = key is not None and _ALG.verify(f"{head}.{body}".encode(), urlsafe_b64decode(sig.encode()), key)
        except (JoseError, ValueError, TypeError, binascii.Error):
            signed = False
        if not signed:
            return TokenCheck("invalid_signature", issuer=iss)
        expires_at = datetime.fromtimestamp(exp, UTC)
        color = claims.get("col") if isinstance(claims.get("col"), str) else None
        if now > expires_at + SKEW:
            return TokenCheck("expired", iss, cid, color, expires_at)
        if datetime.fromtimestamp(iat, UTC) > now + SKEW:
            return TokenCheck("malformed", iss, cid, color, expires_at)  # not yet valid: not one we issued
        return TokenCheck("valid", iss, cid, color, expires_at)
