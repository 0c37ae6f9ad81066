"""URL masking used by banners, captions, logs and open responses."""

from __future__ import annotations

import pytest

from statarb.masking import mask_url, mask_webhook_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:hunter2@db:5432/x", "postgresql://app:***@db:5432/x"),
        ("postgresql://app:p%40ss@db/x?schema=s", "postgresql://app:***@db/x?schema=s"),
        ("redis://:hunter2@cache:6379/0", "redis://:***@cache:6379/0"),
        ("postgresql://db/x?password=hunter2&sslmode=require",
         "postgresql://db/x?password=%2A%2A%2A&sslmode=require"),
        ("sqlite:///data/statarb.db", "sqlite:///data/statarb.db"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)  # fmt: skip
def test_mask_url(url: str, shown: str) -> None:
    assert mask_url(url) == shown
    assert "hunter2" not in mask_url(url)


def test_mask_webhook_url() -> None:
    assert (
        mask_webhook_url("https://hooks.slack.com/services/T/B/x") == "https://hooks.slack.com/***"
    )
    assert mask_webhook_url("http://[::1]:9/x?k=v") == "http://[::1]:9/***"
    assert mask_webhook_url("not a url") == "***"


def test_bot_tokens_are_masked_wherever_they_appear() -> None:
    from statarb.masking import mask_bot_token

    token = "7000000001:AAHsecretSECRETsecretSECRET_-42"
    line = f'HTTP Request: POST https://api.telegram.org/bot{token}/sendMessage "200 OK"'
    assert mask_bot_token(line) == (
        'HTTP Request: POST https://api.telegram.org/bot***/sendMessage "200 OK"'
    )
    assert mask_bot_token("no token here: bot12:short") == "no token here: bot12:short"
