"""The stage registry: installed stages discovered from entry points, chained by `after`."""

from __future__ import annotations

import pytest
from sqlmodel import Session, SQLModel, create_engine

from shelfready_core import stage_records
from shelfready_core.stages import PipelineError, QueuePolicy, Stage, order, pipeline


def _stage(name: str, after: str | None, steps: tuple[str, ...] = ()) -> Stage:
    return Stage(
        name=name,
        queue=QueuePolicy(f"{name}-queue", timeout_seconds=10),
        job=f"pkg_{name}.job.run",
        steps=steps or (name.upper(),),
        after=after,
        progress_done=50,
    )


def test_the_installed_services_form_the_pipeline_in_order() -> None:
    installed = pipeline()
    assert installed.names == ("recognition", "listing", "imagegen")
    assert installed.first.name == "recognition"
    assert installed.next_after("recognition") is installed.get("listing")
    assert installed.next_after("imagegen") is None
    assert installed.owner_of("IMAGE_RECOGNITION").name == "recognition"
    assert [s.progress_done for s in installed] == sorted(s.progress_done for s in installed)


def test_order_follows_after_links_not_declaration_order() -> None:
    chained = order([_stage("c", "b"), _stage("a", None), _stage("b", "a")])
    assert chained.names == ("a", "b", "c")
    assert chained.steps == ("A", "B", "C")


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([_stage("a", None), _stage("a", "a")], "two installed stages are named 'a'"),
        ([_stage("a", None), _stage("b", None)], "exactly one stage may come first"),
        ([_stage("a", None), _stage("b", "a"), _stage("c", "a")], "two stages follow 'a'"),
        ([_stage("a", None, ("X",)), _stage("b", "a", ("X",))], "declares step 'X'"),
        ([_stage("a", "b"), _stage("b", "a")], "in a loop: a, b"),
    ],
)
def test_order_refuses_what_is_not_one_line(stages: list[Stage], message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        order(stages)


def test_an_image_with_one_stage_knows_the_others_only_once_they_registered() -> None:
    listing_image = order([_stage("b", "a")])
    assert listing_image.next_after("b") is None
    with pytest.raises(PipelineError, match="first stage is not installed here"):
        _ = listing_image.first
    # A fragment whose predecessor is unknown still follows the known line.
    partial = order([_stage("c", "b"), _stage("a", None)])
    assert partial.names == ("a", "c")
    assert partial.next_after("a") is None


def test_registrations_round_trip_through_postgres(pg_url: str) -> None:
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    SQLModel.metadata.create_all(engine)
    mine = pipeline().get("imagegen")
    try:
        with Session(engine) as session:
            assert stage_records.register(session, [mine, _stage("dummy", "imagegen")]) == [
                "imagegen",
                "dummy",
            ]
            session.commit()
        with Session(engine) as session:
            assert stage_records.register(session, [mine]) == []  # unchanged: no write
            known = pipeline(session)
            assert known.names == ("recognition", "listing", "imagegen", "dummy")
            assert known.get("imagegen") is mine  # the installed declaration wins
            remote = known.get("dummy")
            assert remote.queue.name == "dummy-queue" and remote.steps == ("DUMMY",)
            assert known.next_after("imagegen") is remote
            assert stage_records.forget(session, "dummy")
            session.commit()
        with Session(engine) as session:
            assert pipeline(session).next_after("imagegen") is None
    finally:
        engine.dispose()
