"""The Claude listing writer against the local fake Messages API (the real SDK on the wire)."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
import redis

from shelfready_core.claude.errors import StructuredOutputError
from shelfready_core.schemas import ListingDraft, ListingRequest
from shelfready_listing.marketplace import check_listing
from shelfready_listing.prompts import system_prompt
from shelfready_listing.rules import rules_for
from shelfready_listing.writer import ClaudeListingWriter
from tests.fakes.anthropic_server import FakeAnthropicServer, RecordedRequest, Reply
from tests.listing.answers import LISTING_TOOL, MARKER, default_listing_answer
from tests.listing.samples import GOOD_EN, bottle, mug, tshirt

REQUEST = ListingRequest(
    brand="Acme",
    features=["Keeps drinks cold for 24 hours"],
    specifications={"Capacity": "750 ml"},
    tone="playful",
    emphasis=["leakproof lid"],
    feedback="Mention the carry loop earlier.",
)


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    fake = FakeAnthropicServer(answers={LISTING_TOOL: default_listing_answer}).start()
    yield fake
    fake.stop()


@pytest.fixture
def writer(server: FakeAnthropicServer, redis_conn: redis.Redis) -> ClaudeListingWriter:
    # Our own Redis db keeps the shared circuit breaker's state private to the test.
    return ClaudeListingWriter(server.settings(), redis=redis_conn)


def with_banned_claim() -> dict:
    answer = GOOD_EN.model_dump()
    answer["bullet_points"][0] = "The best bottle: " + answer["bullet_points"][0]
    return answer


def system_text(request: RecordedRequest) -> str:
    return "\n".join(block["text"] for block in request.body["system"])


def test_valid_answer_is_returned_with_usage(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    result = writer.write(bottle(), REQUEST)
    assert result.value.title.startswith("Acme ")
    assert result.value.description.endswith(MARKER)
    assert result.notes["repaired"] is False and result.notes["writer"] == "claude"
    assert [u.stage for u in result.usage] == ["listing"]
    (sent,) = server.message_requests
    assert sent.body["model"] == writer.settings.listing_model
    assert sent.body["tool_choice"]["name"] == LISTING_TOOL
    assert sent.body["system"][0]["cache_control"] == {"type": "ephemeral"}
    rules_text = system_text(sent)
    assert "at most 200 characters" in rules_text and "fewer than 250 BYTES" in rules_text
    assert "Write the title, bullet points, description, keywords and search terms in English" in (
        rules_text
    )
    user = sent.text()
    for expected in (
        '"product_type": "water bottle"',
        '"brand": "Acme"',
        '"Capacity": "750 ml"',
        '"tone": "playful"',
        "leakproof lid",
        "Mention the carry loop earlier.",
    ):
        assert expected in user


def test_system_prompt_is_stable_across_products(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    writer.write(bottle(), REQUEST)
    writer.write(mug(), ListingRequest(brand="Other"))
    first, second = server.message_requests
    assert system_text(first) == system_text(second)  # one prompt-cache entry
    assert second.body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert server.message_requests[1].text() != server.message_requests[0].text()


def test_output_language_follows_the_request(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    writer.write(bottle(), REQUEST.model_copy(update={"language": "zh", "marketplace": "etsy"}))
    text = system_text(server.message_requests[0])
    assert "in Chinese (Simplified)" in text
    assert "最好" in text and "13" in text  # zh banned phrases and Etsy tag rules
    assert text == system_prompt(rules_for("etsy", "US"), "zh")


def test_banned_claim_is_repaired_by_one_repair_turn(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    server.queue(Reply.answer(with_banned_claim()))  # then the default (valid) answer
    result = writer.write(bottle(), REQUEST)
    assert result.notes["repaired"] is True
    assert len(result.usage) == 2
    assert result.value.description.endswith(MARKER)
    first, repair = server.message_requests
    assert "bullet 1 contains banned claim 'best'" not in first.text()
    assert "bullet 1 contains banned claim 'best'" in repair.text()
    # The repair turn answers the first tool call and keeps the cached system prompt.
    assert repair.body["messages"][1]["role"] == "assistant"
    assert repair.body["messages"][2]["content"][0]["type"] == "tool_result"
    assert system_text(repair) == system_text(first)


def test_second_bad_answer_fails_naming_the_violation(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    long_search_terms = copy.deepcopy(with_banned_claim())
    long_search_terms["search_terms"] = "水" * 90
    server.queue(Reply.answer(with_banned_claim()), Reply.answer(long_search_terms))
    with pytest.raises(StructuredOutputError) as info:
        writer.write(bottle(), REQUEST)
    assert "bullet 1 contains banned claim 'best'" in info.value.errors
    assert any(
        e.startswith("search terms are 270 bytes; amazon allows fewer") for e in info.value.errors
    )
    assert "bullet 1 contains banned claim 'best'" in str(info.value)
    assert len(info.value.usage) == 2 and len(server.message_requests) == 2


def test_schema_errors_are_repaired_too(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    four_bullets = GOOD_EN.model_dump()
    four_bullets["bullet_points"] = four_bullets["bullet_points"][:4]
    server.queue(Reply.answer(four_bullets))
    result = writer.write(bottle(), REQUEST)
    assert result.notes["repaired"] is True
    assert "bullet_points" in server.message_requests[1].text()


@pytest.mark.parametrize("marketplace", ["amazon", "etsy", "shopify", "ebay"])
def test_default_fake_answer_is_valid_for_any_product(
    writer: ClaudeListingWriter, server: FakeAnthropicServer, marketplace: str
) -> None:
    for product, brand in ((bottle(), "Acme"), (tshirt(), None), (mug(), "Mugsy")):
        request = ListingRequest(brand=brand, marketplace=marketplace)
        result = writer.write(product, request)
        assert result.notes["repaired"] is False
        rules = rules_for(marketplace, "US")
        assert check_listing(result.value, rules, brand=brand, language="en") == []
    assert isinstance(result.value, ListingDraft)
