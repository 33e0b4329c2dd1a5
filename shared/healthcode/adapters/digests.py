"""Signed audit digests: signed with a KMS asymmetric key (ECC_NIST_P256, ECDSA_SHA_256 over the
digest's canonical JSON) and kept in an S3 bucket under Object Lock in compliance mode, where nobody —
not the writer, not an administrator — can change or delete them before their retention ends."""

from __future__ import annotations

import base64
import json
from typing import Any

from healthcode.auditchain import canonical
from healthcode.lazy import resolve


class KmsDigestSigner:
    def __init__(self, kms: Any, key_id: str) -> None:
        """``kms``: a client, or a Lazy one (recording an act never signs)."""
        self._kms = kms
        self.key_id = key_id
        self._public: str | None = None

    def sign(self, document: dict[str, Any]) -> str:
        out = resolve(self._kms).sign(
            KeyId=self.key_id, Message=canonical(document), MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256"
        )
        return base64.b64encode(out["Signature"]).decode()

    def public_key_pem(self) -> str:
        """The verifying key (SubjectPublicKeyInfo, PEM): all anyone needs to check the digests."""
        if self._public is None:
            der = resolve(self._kms).get_public_key(KeyId=self.key_id)["PublicKey"]
            body = base64.encodebytes(der).decode()
            self._public = f"-----BEGIN PUBLIC KEY-----\n{body}-----END PUBLIC KEY-----\n"
        return self._public


class S3Digests:
    PREFIX = "audit-digests/"

    def __init__(self, s3: Any, bucket: str) -> None:
        """``s3``: a client, or a Lazy one."""
        self._s3_given = s3
        self._bucket = bucket

    @property
    def _s3(self) -> Any:
        return resolve(self._s3_given)

    def _key(self, period: str) -> str:
        if len(period) == len("YYYY-MM-DD"):  # a whole day's digest: beside, not among, its hours
            return f"{self.PREFIX}daily/{period}.json"
        return f"{self.PREFIX}{period[:10]}/{period}.json"

    def put(self, document: dict[str, Any]) -> None:
        """Store a digest (the bucket's default retention locks it)."""
        self._s3.put_object(
            Bucket=self._bucket,
            Key=self._key(document["period"]),
            Body=json.dumps(document, sort_keys=True).encode(),
            ContentType="application/json",
        )

    def get(self, period: str) -> dict[str, Any] | None:
        try:
            out = self._s3.get_object(Bucket=self._bucket, Key=self._key(period))
        except self._s3.exceptions.NoSuchKey:
            return None
        return dict(json.loads(out["Body"].read()))

    def of_day(self, day: str) -> list[dict[str, Any]]:
        """The day's hourly digests, in period order."""
        keys: list[str] = []
        kwargs: dict[str, Any] = {"Bucket": self._bucket, "Prefix": f"{self.PREFIX}{day}/"}
        while True:
            page = self._s3.list_objects_v2(**kwargs)
            keys += [o["Key"] for o in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                break
            kwargs["ContinuationToken"] = page["NextContinuationToken"]
        out = []
        for key in sorted(keys):
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            out.append(dict(json.loads(body)))
        return out
