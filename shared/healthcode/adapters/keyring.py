"""Key material from Secrets Manager and SSM through Powertools parameters (cached, never in code).

* signing key secret: ``{"active_kid": ..., "keys": [private JWK, ...]}`` (several during rotation)
* JWKS parameter: the public keys, published at ``/.well-known/jwks.json`` and used by verify
* holder key secret: the HMAC key that turns an ID number into a holder id

:func:`rotate` is the signing-key rotation every deployment runs (the scheduled ``rotate_keys``
function, ``healthcode keys rotate``, the local stack at first start): publish first, then sign with
the new key, so no checkpoint ever sees a token signed by a key it cannot find.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, Literal, cast

from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider

from healthcode.lazy import Lazy, resolve

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

    from healthcode.settings import Settings
    from healthcode.tokens import TokenSigner, TokenVerifier


class KeyRing:
    def __init__(
        self,
        settings: Settings,
        secrets: SecretsManagerClient | Lazy[SecretsManagerClient] | None = None,
        ssm: SSMClient | Lazy[SSMClient] | None = None,
    ) -> None:
        """``secrets``/``ssm``: a client, or a :class:`Lazy` one made when first needed (a verification
        never reads a secret: its cold start makes no Secrets Manager client)."""
        self._settings = settings
        self._given = (secrets, ssm)
        self._providers: dict[int, Any] = {}
        self._signer: tuple[Any, TokenSigner] | None = None
        self._verifier: tuple[Any, Any, Any, TokenVerifier] | None = None  # partners, ours, both, verifier
        self._last_forced = float("-inf")
        self._verifier_until = float("-inf")  # the verifier is used as it is until then (monotonic)

    @property
    def _clients(self) -> tuple[Any, Any]:
        return resolve(self._given[0]), resolve(self._given[1])

    def _provider(self, index: int, kind: type[Any]) -> Any:
        """The Powertools provider over the ``index``-th given client, made on first use (None: no client)."""
        if index not in self._providers:
            client = resolve(self._given[index])
            self._providers[index] = kind(boto3_client=client) if client is not None else None
        return self._providers[index]

    @property
    def _secrets(self) -> SecretsProvider | None:
        return cast("SecretsProvider | None", self._provider(0, SecretsProvider))

    @property
    def _ssm(self) -> SSMProvider | None:
        return cast("SSMProvider | None", self._provider(1, SSMProvider))

    def _secret(self, name: str, transform: Literal["json"] | None = None) -> Any:
        if self._secrets is None:
            raise RuntimeError("no Secrets Manager client was given")
        return self._secrets.get(name, max_age=self._settings.parameters_max_age, transform=transform)

    def signer(self) -> TokenSigner:
        from healthcode.tokens import TokenSigner  # JOSE is imported only by functions that sign

        doc = self._secret(self._settings.signing_key_secret, "json")
        if self._signer is None or self._signer[0] != doc:
            active = next(k for k in doc["keys"] if k.get("kid") == doc["active_kid"])
            self._signer = (doc, TokenSigner(active, self._settings.issuer, self._settings.token_ttl_seconds))
        return self._signer[1]

    def holder_key(self) -> bytes:
        return str(self._secret(self._settings.holder_key_secret)).encode()

    def jwks(self, force: bool = False) -> dict[str, Any]:
        if self._ssm is None:
            raise RuntimeError("no SSM client was given")
        keys = self._ssm.get(
            self._settings.jwks_parameter,
            max_age=self._settings.parameters_max_age,
            transform="json",
            force_fetch=force,
        )
        return cast("dict[str, Any]", keys)

    def verifier(self, partners: dict[str, Any] | None = None, refresh: bool = False) -> TokenVerifier:
        """The verifier for the published keys. ``refresh`` re-reads them (a code signed by a key just
        rotated in), at most once every 30 seconds so random key ids cannot hammer SSM."""
        now = time.monotonic()
        if not refresh and now < self._verifier_until and self._verifier is not None and self._verifier[0] is partners:
            # within a second of the last look: the parameters cache would hand back the same keys, and
            # asking it costs a checkpoint's scan about 10 µs (at most 1 s more on the keys' max age)
            return self._verifier[3]
        self._verifier_until = now + min(1.0, self._settings.parameters_max_age)
        force = refresh and now - self._last_forced > 30
        if force:
            self._last_forced = now
        from healthcode.tokens import TokenVerifier  # JOSE is imported only by functions that verify

        ours = self.jwks(force)
        if self._verifier is not None and self._verifier[0] is partners and self._verifier[1] is ours:
            return self._verifier[3]  # the same cached documents as last time: nothing to compare
        trusted = {**(partners or {}), self._settings.issuer: ours}
        if self._verifier is None or self._verifier[2] != trusted:
            self._verifier = (partners, ours, trusted, TokenVerifier(trusted))
        else:
            self._verifier = (partners, ours, *self._verifier[2:])
        return self._verifier[3]

    def rotate(self) -> str:
        """Rotate this deployment's signing key (see :func:`rotate`); returns the new key id."""
        secrets, ssm = self._clients
        if secrets is None or ssm is None:
            raise RuntimeError("rotation needs Secrets Manager and SSM clients")
        kid = rotate(secrets, ssm, self._settings.signing_key_secret, self._settings.jwks_parameter)
        self.clear_cache()
        return kid

    def clear_cache(self) -> None:
        self._verifier_until = float("-inf")
        for provider in self._providers.values():
            if provider is not None:
                provider.clear_cache()


KEEP_KEYS = 2  # the active key and the one before it (tokens live 5 minutes)


def current_keys(secrets: Any, secret_id: str) -> dict[str, Any] | None:
    try:
        value = secrets.get_secret_value(SecretId=secret_id).get("SecretString")
    except secrets.exceptions.ResourceNotFoundException:
        return None
    return json.loads(value) if value else None


def rotate(secrets: Any, ssm: Any, secret_id: str, parameter: str) -> str:
    """Generate a new signing key, publish it, then make it active. Returns the new key id."""
    from healthcode.tokens import generate_signing_key, public_jwks

    doc = current_keys(secrets, secret_id) or {"keys": []}
    new = generate_signing_key()
    keys = [new, *doc["keys"]][:KEEP_KEYS]
    ssm.put_parameter(Name=parameter, Value=json.dumps(public_jwks(keys)), Type="String", Overwrite=True)
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"active_kid": new["kid"], "keys": keys}))
    return str(new["kid"])


def retire(secrets: Any, ssm: Any, secret_id: str, parameter: str, kid: str) -> str:
    """Stop trusting a key that leaked: it is no longer published, and if it was the active key a new one
    is made, published and signed with. Codes signed with it are refused as soon as the verifiers' key
    cache expires (``ParametersMaxAge``); residents' apps fetch a fresh code. Returns the active key id."""
    from healthcode.tokens import generate_signing_key, public_jwks

    doc = current_keys(secrets, secret_id) or {"keys": []}
    if kid not in {k["kid"] for k in doc["keys"]}:
        raise KeyError(f"no signing key {kid!r} in {secret_id}; keys: {[k['kid'] for k in doc['keys']]}")
    keys = [k for k in doc["keys"] if k["kid"] != kid]
    active = doc["active_kid"]
    if active == kid:
        new = generate_signing_key()
        keys, active = [new, *keys][:KEEP_KEYS], new["kid"]
    ssm.put_parameter(Name=parameter, Value=json.dumps(public_jwks(keys)), Type="String", Overwrite=True)
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps({"active_kid": active, "keys": keys}))
    return str(active)


def ensure(secrets: Any, ssm: Any, secret_id: str, parameter: str) -> str:
    """A signing key exists (generated at first start); returns the active key id."""
    doc = current_keys(secrets, secret_id)
    if doc and doc.get("keys"):
        return str(doc["active_kid"])
    return rotate(secrets, ssm, secret_id, parameter)
