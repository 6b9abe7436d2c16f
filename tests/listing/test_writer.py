"""The Claude listing writer against the local fake Messages API (the real SDK on the wire)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from shelfready_core.claude.errors import CallBudgetExhausted
from shelfready_core.errors import NotRetryable
from shelfready_core.schemas import ListingDraft, ListingRequest
from shelfready_listing.marketplace import check_listing
from shelfready_listing.prompts import system_prompt
from shelfready_listing.rules import rules_for
from shelfready_listing.stage import ListingSettings
from shelfready_listing.writer import SALVAGED_REASON, ClaudeListingWriter, UnusableDraft
from tests.fakes.anthropic_server import FakeAnthropicServer, RecordedRequest, Reply
from tests.listing.answers import LISTING_TOOL, MARKER, default_listing_answer
from tests.listing.samples import GOOD_EN, bottle, mug, tshirt

REQUEST = ListingRequest(
    brand="Acme",
    features=["Keeps drinks cold for 24 hours", "BPA-free lid"],
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
    review = result.notes["review"]
    assert review.writer == "claude" and review.calls == 1
    assert [u.stage for u in result.usage] == ["listing"]
    (sent,) = server.message_requests
    assert sent.body["model"] == writer.stage_settings.model
    # Structured outputs: the schema goes in output_config, no tool is forced.
    assert sent.body["output_config"]["format"]["schema"]["title"] == "ListingDraft"
    assert "tools" not in sent.body
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


def test_models_without_structured_outputs_get_the_forced_tool(
    server: FakeAnthropicServer, redis_conn: redis.Redis
) -> None:
    older = ListingSettings(model="claude-sonnet-4-20250514")
    writer = ClaudeListingWriter(server.settings(), redis=redis_conn, stage_settings=older)
    result = writer.write(bottle(), REQUEST)
    assert result.value.description.endswith(MARKER)
    (sent,) = server.message_requests
    assert sent.body["tool_choice"]["name"] == LISTING_TOOL and "output_config" not in sent.body


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


def test_judgement_finding_gets_one_repair_turn_naming_exactly_it(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    server.queue(Reply.answer(with_banned_claim()))  # then the default (valid) answer
    result = writer.write(bottle(), REQUEST)
    review = result.notes["review"]
    assert review.calls == 2 and len(result.usage) == 2
    assert not review.needs_review and "best" not in result.value.bullet_points[0].casefold()
    first, repair = server.message_requests
    assert "bullet 1: claim 'best'" not in first.text()
    assert "bullet 1: claim 'best'" in repair.text()
    assert "title" not in repair.text().split("problems:")[-1]  # only what was found
    assert repair.body["messages"][1]["role"] == "assistant"
    assert system_text(repair) == system_text(first)


def test_judgement_that_cannot_be_dropped_is_kept_and_flagged(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    stubborn = GOOD_EN.model_dump()
    stubborn["bullet_points"][3] = "The best choice for everyone who wants more."
    server.queue(Reply.answer(stubborn), Reply.answer(stubborn))
    result = writer.write(bottle(), REQUEST)
    review = result.notes["review"]
    assert review.needs_review and review.calls == 2
    assert "bullet 4: claim 'best'" in review.review_reasons
    assert result.value.bullet_points[3] == stubborn["bullet_points"][3]  # kept, not mangled


def test_judgement_in_a_droppable_sentence_is_removed_and_recorded(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    answer = GOOD_EN.model_dump()
    answer["bullet_points"][2] += " Lighter than a Zentrix bottle."
    server.queue(Reply.answer(answer), Reply.answer(answer))
    result = writer.write(bottle(), REQUEST)
    review = result.notes["review"]
    assert "Zentrix" not in result.value.bullet_points[2]
    assert any("Zentrix" in fix for fix in review.fixes) and not review.needs_review


def test_mechanical_problems_are_fixed_by_code_without_a_call(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    answer = GOOD_EN.model_dump()
    answer["title"] = answer["title"].replace("Acme ", "") + " by Acme!"
    answer["search_terms"] += " insulated water bottle"
    answer["bullet_points"][1] += " It is sturdy." * 60
    server.queue(Reply.answer(answer))
    result = writer.write(bottle(), REQUEST)
    review = result.notes["review"]
    assert review.calls == 1 and len(server.message_requests) == 1
    assert result.value.title.startswith("Acme ") and not result.value.title.endswith("!")
    assert check_listing(result.value, rules_for("amazon", "US"), brand="Acme", language="en") == []
    joined = "\n".join(review.fixes)
    for expected in (
        "moved the brand 'Acme' to the front",
        "words already in the title",
        "bullet 2: shortened",
    ):
        assert expected in joined


def test_refusal_surviving_its_repair_is_salvaged_when_the_rest_is_usable(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    answer = GOOD_EN.model_dump()
    answer["description"] += "\n\nI'm sorry, but I can't help with that."
    server.queue(Reply.answer(answer), Reply.answer(answer))
    result = writer.write(bottle(), REQUEST)
    review = result.notes["review"]
    assert "sorry" not in result.value.description.casefold()
    assert review.needs_review and SALVAGED_REASON in review.review_reasons
    assert "refusal or placeholder" in server.message_requests[1].text()


def test_structural_failure_after_its_repair_is_not_retryable(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    four_bullets = GOOD_EN.model_dump()
    four_bullets["bullet_points"] = four_bullets["bullet_points"][:4]
    server.queue(Reply.answer(four_bullets), Reply.answer(four_bullets))
    with pytest.raises(UnusableDraft) as info:
        writer.write(bottle(), REQUEST)
    assert isinstance(info.value, NotRetryable)
    assert any("bullet_points" in e for e in info.value.errors)
    assert len(info.value.usage) == 2 and len(server.message_requests) == 2


def test_schema_errors_are_repaired(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    four_bullets = GOOD_EN.model_dump()
    four_bullets["bullet_points"] = four_bullets["bullet_points"][:4]
    server.queue(Reply.answer(four_bullets))
    result = writer.write(bottle(), REQUEST)
    assert result.notes["review"].calls == 2
    assert "bullet_points" in server.message_requests[1].text()


def test_call_budget_holds_across_attempts(
    server: FakeAnthropicServer, redis_conn: redis.Redis
) -> None:
    settings = server.settings()
    four_bullets = GOOD_EN.model_dump()
    four_bullets["bullet_points"] = four_bullets["bullet_points"][:4]
    # Structural repair, then a judgement finding: a third call would be the judgement repair.
    server.queue(Reply.answer(four_bullets), Reply.answer(with_banned_claim()))
    first = ClaudeListingWriter(settings, redis=redis_conn, workflow_id="wf-budget")
    result = first.write(bottle(), REQUEST)
    assert result.notes["review"].calls == 3 and len(server.message_requests) == 3
    # A retry of the same stage (a new writer, a new process) has no call left.
    again = ClaudeListingWriter(settings, redis=redis_conn, workflow_id="wf-budget")
    with pytest.raises(CallBudgetExhausted):
        again.write(bottle(), REQUEST)
    assert len(server.message_requests) == 3


def test_a_failed_judgement_repair_keeps_the_usable_draft(
    writer: ClaudeListingWriter, server: FakeAnthropicServer
) -> None:
    server.queue(Reply.answer(with_banned_claim()), Reply.server_error(), Reply.server_error())
    result = writer.write(bottle(), REQUEST)
    assert result.value.title.startswith("Acme")
    assert "best" not in " ".join(result.value.bullet_points).casefold() or (
        result.notes["review"].needs_review
    )


@pytest.mark.parametrize("marketplace", ["amazon", "etsy", "shopify", "ebay"])
def test_default_fake_answer_is_valid_for_any_product(
    writer: ClaudeListingWriter, server: FakeAnthropicServer, marketplace: str
) -> None:
    for product, brand in ((bottle(), "Acme"), (tshirt(), None), (mug(), "Mugsy")):
        request = ListingRequest(brand=brand, marketplace=marketplace)
        result = writer.write(product, request)
        assert result.notes["review"].calls == 1
        rules = rules_for(marketplace, "US")
        assert check_listing(result.value, rules, brand=brand, language="en") == []
    assert isinstance(result.value, ListingDraft)
