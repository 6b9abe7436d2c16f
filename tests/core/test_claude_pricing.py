"""Cost accounting: the price table, and the cost ClaudeClient records per call."""

from __future__ import annotations

import logging

import pytest
from pydantic import BaseModel

from shelfready_core.claude import ClaudeClient, RedisCircuitBreaker, pricing
from tests.fakes.anthropic_server import running_server


@pytest.mark.parametrize(
    ("model", "price"),
    [
        ("claude-sonnet-4-5", (3.0, 15.0)),
        ("claude-sonnet-4-5-20250929", (3.0, 15.0)),
        ("claude-sonnet-4-20250514", (3.0, 15.0)),
        ("claude-sonnet-5-5", (3.0, 15.0)),
        ("claude-opus-4-5-20251101", (5.0, 25.0)),
        ("claude-opus-4-8", (5.0, 25.0)),
        ("claude-opus-5", (5.0, 25.0)),
        ("claude-opus-4-1-20250805", (15.0, 75.0)),
        ("claude-haiku-4-5-20251001", (1.0, 5.0)),
    ],
)
def test_price_table(model, price):
    found = pricing.price_for(model)
    assert (found.input, found.output) == price
    assert found.cache_write == price[0] * 1.25
    assert found.cache_read == pytest.approx(price[0] * 0.1)


def test_unknown_models_cost_the_sonnet_price_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="shelfready_core.claude.pricing"):
        price = pricing.price_for("claude-fable-5-2")
    assert price == pricing.SONNET
    assert "no price known for model claude-fable-5-2" in caplog.text


def test_cost_adds_input_output_and_cache_tokens_at_their_rates():
    cost = pricing.cost_usd(
        "claude-sonnet-4-5",
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_write_tokens=200_000,
        cache_read_tokens=1_000_000,
    )
    # 1M x $3 + 0.1M x $15 + 0.2M x $3.75 + 1M x $0.30
    assert cost == pytest.approx(3.0 + 1.5 + 0.75 + 0.3)


class Verdict(BaseModel):
    label: str


def test_client_records_cache_writes_then_reads_and_their_cost(redis_conn):
    with running_server({"record_verdict": lambda request: {"label": "ok"}}) as server:
        client = ClaudeClient(
            server.settings(),
            stage="test",
            model="claude-haiku-4-5",
            timeout=5,
            breaker=RedisCircuitBreaker(redis_conn, "test"),
        )
        messages = [{"role": "user", "content": "Grade this."}]
        first = client.structured(system="Long rules. " * 300, messages=messages, output=Verdict)
        second = client.structured(system="Long rules. " * 300, messages=messages, output=Verdict)

    [write], [read] = first.usage, second.usage
    assert write.cache_write_tokens > 0 and write.cache_read_tokens == 0
    assert read.cache_read_tokens == write.cache_write_tokens and read.cache_write_tokens == 0
    for call in (write, read):
        assert call.cost_usd == pricing.cost_usd(
            "claude-haiku-4-5",
            input_tokens=call.input_tokens,
            output_tokens=call.output_tokens,
            cache_read_tokens=call.cache_read_tokens,
            cache_write_tokens=call.cache_write_tokens,
        )
    assert read.cost_usd < write.cost_usd


def test_configured_price_table_overrides_the_built_in_one(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from shelfready_core.config import Settings

    monkeypatch.setenv("SHELFREADY_MODEL_PRICES", '{"claude-sonnet-5-5": [6, 30]}')
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000}
    assert pricing.cost_usd("claude-sonnet-5-5", **usage, overrides=settings.model_prices) == 36.0
    assert pricing.cost_usd("claude-sonnet-5-5", **usage) == 18.0
