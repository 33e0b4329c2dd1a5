"""Fake AWS credentials and Powertools settings before any boto3 client exists."""

import hashlib
import os
from pathlib import Path

import pytest

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "healthcode",
        "POWERTOOLS_METRICS_NAMESPACE": "Healthcode",
        "POWERTOOLS_DEV": "false",
        # boto3 1.44 resolves account-ID endpoints, which moto's DynamoDB Streams do not answer
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)


# ----------------------------------------------------------------------------- parallel runs
def pytest_configure(config):
    config.addinivalue_line("markers", "heavy: minutes of work; started first when tests run in parallel")
    config.addinivalue_line(
        "markers",
        "network(*inputs): needs the package index; skipped while its inputs (globs) are as when it last passed",
    )


@pytest.hookimpl(trylast=True)  # after pytest-randomly's shuffle: the heavy ones first, in its order
def pytest_collection_modifyitems(items):
    """Heavy tests first, so parallel workers do not end with one of them while the other waits."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


# ----------------------------------------------------------------------------- tests that need the network
# The lock check and the deployment build reach PyPI. They run whenever their inputs changed since they
# last passed on this machine, and always on a fresh clone (CI): no stamp yet.
STAMPS = Path(__file__).resolve().parents[1] / ".venv" / ".test-stamps"


def _inputs_digest(item) -> str | None:
    marker = item.get_closest_marker("network")
    if marker is None:
        return None
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for pattern in marker.args:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _stamp(item) -> Path:
    return STAMPS / hashlib.sha256(item.nodeid.encode()).hexdigest()[:16]


def pytest_runtest_setup(item):
    digest = _inputs_digest(item)
    if digest is not None and _stamp(item).is_file() and _stamp(item).read_text() == digest:
        pytest.skip(f"its inputs are as when it last passed here ({digest[:12]}); it runs again when they change")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    digest = _inputs_digest(item)
    if digest is not None and report.when == "call" and report.passed:
        STAMPS.mkdir(parents=True, exist_ok=True)
        _stamp(item).write_text(digest)
    return report
