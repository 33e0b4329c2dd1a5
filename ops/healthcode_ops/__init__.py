"""Operator tooling: the ``healthcode`` CLI (works against any base URL) and signing-key rotation."""
