"""Pure pieces of notifications: languages, escalation levels, backoff, quantiles, outbound URL checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from healthcode import i18n, notices
from healthcode.urls import UnsafeUrl, check_url
from healthcode.usecases.notify import escalation_office, retry_delay


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-TW,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr-FR, en;q=0.5", "en"),
        ("en;q=0.2, zh-CN;q=0.9", "zh-CN"),
        ("en;q=0", "zh-CN"),
        ("en;q=banana", "zh-CN"),
        ("de", "zh-CN"),
    ],
)
def test_the_language_follows_accept_language_with_zh_cn_by_default(header, expected):
    assert i18n.language(header) == expected


def test_every_colour_has_a_title_body_and_every_task_colour_an_instruction_in_both_languages():
    for lang in ("zh-CN", "en"):
        for color in ("green", "yellow", "red"):
            assert notices.title(color, lang) and notices.body(color, lang)
        for color in ("yellow", "red"):
            assert notices.instruction(color, lang)
    assert notices.title("red") == "红码" and notices.title("red", "en") == "Red code"


@pytest.mark.parametrize(
    ("office", "up"),
    [
        ("330106001", "330106"),
        ("330106001002", "330106"),
        ("330106", "330100"),
        ("330100", "330000"),
        ("330000", "330000"),
    ],
)
def test_an_overdue_task_goes_one_level_up(office, up):
    assert escalation_office(office) == up


def test_backoff_doubles_with_jitter_between_half_and_all_of_it_and_is_capped():
    assert retry_delay(1, 30, 3600, 0.0) == timedelta(seconds=15)
    assert retry_delay(1, 30, 3600, 1.0) == timedelta(seconds=30)
    assert retry_delay(3, 30, 3600, 1.0) == timedelta(seconds=120)
    assert retry_delay(20, 30, 3600, 1.0) == timedelta(seconds=3600)


def test_quantiles_of_a_minute_histogram_by_nearest_rank():
    assert notices.quantile({}, 0.5) is None
    assert notices.quantile({12: 1}, 0.5) == 12.0
    buckets = {1: 5, 3: 4, 30: 1}  # ten acknowledgements
    assert notices.quantile(buckets, 0.5) == 1.0
    assert notices.quantile(buckets, 0.9) == 3.0
    assert notices.quantile(buckets, 1.0) == 30.0


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.org/x",
        "ftp://hooks.example.org/x",
        "https://127.0.0.1/x",
        "https://10.1.2.3/x",
        "https://192.168.0.1/x",
        "https://172.16.5.5/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[fe80::1]/x",
        "https://[::ffff:10.0.0.1]/x",
        "https://0.0.0.0/x",
        "https://localhost/x",
        "https://metadata.google.internal/x",
        "https://user:pw@hooks.example.org/x",
        "https:///x",
    ],
)
def test_outbound_urls_must_be_public_https(url):
    with pytest.raises(UnsafeUrl):
        check_url(url)


def test_a_name_is_checked_against_what_it_resolves_to_before_a_call():
    assert check_url("https://hooks.example.org/x", resolve=lambda host: ["93.184.216.34"])
    with pytest.raises(UnsafeUrl, match="private"):
        check_url("https://hooks.example.org/x", resolve=lambda host: ["93.184.216.34", "10.0.0.8"])


def test_the_local_stack_may_call_its_own_receivers():
    assert check_url("http://127.0.0.1:8123/hook", allow_private=True)
    with pytest.raises(UnsafeUrl):
        check_url("file:///etc/passwd", allow_private=True)
