"""The stage registry: installed stages discovered from entry points, chained by `after`."""

from __future__ import annotations

import pytest

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
        ([_stage("a", None), _stage("b", None)], "exactly one stage must come first"),
        ([_stage("a", None), _stage("b", "a"), _stage("c", "a")], "2 stages follow 'a'"),
        ([_stage("a", None, ("X",)), _stage("b", "a", ("X",))], "declares step 'X'"),
        ([_stage("a", None), _stage("b", "zzz")], "0 stages follow 'a'"),
    ],
)
def test_order_refuses_what_is_not_one_line(stages: list[Stage], message: str) -> None:
    with pytest.raises(PipelineError, match=message):
        order(stages)
