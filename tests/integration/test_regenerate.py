"""New versions, single-image regeneration, the all-queues mode and breaker deferral."""

from __future__ import annotations

import redis

from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.integration.conftest import SAMPLES, Pipeline, terminal


def _image(data: dict, index: int) -> dict:
    return next(item for item in data["images"]["items"] if item["index"] == index)


def test_all_queues_worker_makes_versions_and_regenerates_one_image(
    pipeline: Pipeline, claude_server: FakeAnthropicServer
) -> None:
    pipeline.start_worker("all", "--concurrency", "2")
    photo = str(sorted(SAMPLES.glob("*.jpg"))[1])
    first_id = pipeline.cli("submit", photo, "--brand", "Northwind").stdout.strip()
    first = pipeline.wait_for(first_id, terminal, timeout=180)
    assert first["status"] == "COMPLETED", first["error"]

    second_id = pipeline.cli(
        "regenerate", first_id, "--feedback", "mention the dishwasher-safe glaze"
    ).stdout.strip()
    second = pipeline.wait_for(second_id, terminal, timeout=180)
    assert second["status"] == "COMPLETED", second["error"]
    assert (second["version"], second["parent_id"]) == (2, first_id)
    listing_requests = [
        r for r in claude_server.message_requests if r.tool_name == "record_listing_draft"
    ]
    assert "dishwasher-safe glaze" in listing_requests[-1].text()
    assert "dishwasher-safe glaze" not in listing_requests[0].text()

    before = _image(second, 3)
    pipeline.cli("regenerate", second_id, "--image", "3")
    after_all = pipeline.wait_for(
        second_id,
        lambda d: any(e["kind"] == "image_regenerated" for e in d["events"]),
        timeout=120,
    )
    assert after_all["status"] == "COMPLETED"
    assert len(after_all["images"]["items"]) == 5
    assert _image(after_all, 3)["url"] == before["url"]  # same slot, rewritten in place
    assert _image(after_all, 3)["compliance"]["passed"]

    refused = pipeline.cli("regenerate", second_id, "--image", "9", check=False)
    assert refused.returncode != 0


def test_open_circuit_defers_jobs_instead_of_failing_them(
    pipeline: Pipeline, claude_server: FakeAnthropicServer, redis_url: str
) -> None:
    for service in ("recognition", "listing", "imagegen"):
        pipeline.start_worker(service)
    pipeline.wait_for_workers(5 + 3 + 2)
    # Another worker saw the API fail five times in a row: the shared breaker is open (until
    # this test closes it once the job has been deferred: a timed opening could lapse before
    # the job starts on a busy machine, and prove nothing).
    connection = redis.Redis.from_url(redis_url)
    connection.set("shelfready:breaker:anthropic:open", 5, px=120_000)
    workflow_id = pipeline.cli("submit", str(sorted(SAMPLES.glob("*.jpg"))[0])).stdout.strip()
    pipeline.wait_for(
        workflow_id, lambda d: any(e["kind"] == "deferred" for e in d["events"]), timeout=120
    )
    connection.delete("shelfready:breaker:anthropic:open")
    connection.close()
    data = pipeline.wait_for(workflow_id, terminal, timeout=180)
    assert data["status"] == "COMPLETED", data["error"]
    kinds = [event["kind"] for event in data["events"]]
    assert "deferred" in kinds
    assert "retrying" not in kinds and "failed" not in kinds
    # No call reached the API while the circuit was open: one recognition + one listing call.
    assert len(claude_server.message_requests) == 2
