"""Full versus draft-mode decoding of one 24 MP JPEG: time and peak memory, side by side.

Each variant runs in a forked child, so its peak resident memory (VmHWM, reset at the start)
is its own and nothing it allocated lingers for the next variant.
"""

from __future__ import annotations

import io
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from bench.sampler import MB

ANALYSIS_SIDE = 2048  # what recognition keeps (shelfready_recognition.image_input)


@dataclass
class DecodeResult:
    name: str
    size: tuple[int, int]
    seconds: float
    peak_mb: float


def _full_then_shrink(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    image.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.LANCZOS)
    return image


def _draft_then_shrink(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    # draft() picks the largest 1/2, 1/4, 1/8 scale keeping BOTH sides >= the request, so ask
    # for the aspect-correct target: a square (2048, 2048) box keeps a 3:2 photo at full size.
    scale = ANALYSIS_SIDE / max(image.size)
    image.draft("RGB", (math.ceil(image.width * scale), math.ceil(image.height * scale)))
    image.load()
    image.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.LANCZOS)
    return image


def _square_draft_then_shrink(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (ANALYSIS_SIDE, ANALYSIS_SIDE))
    image.load()
    image.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.LANCZOS)
    return image


def _recognition_open_photo(data: bytes) -> Image.Image:
    from shelfready_recognition.image_input import open_photo

    return open_photo(data, "photo.jpg").image


def _imagegen_load_photo(max_side: int) -> Callable[[bytes], Image.Image]:
    def load(data: bytes) -> Image.Image:
        from shelfready_imagegen.photo import load_photo

        return load_photo(data, max_side=max_side)

    return load


VARIANTS: list[tuple[str, Callable[[bytes], Image.Image]]] = [
    (f"full decode, shrink to {ANALYSIS_SIDE}", _full_then_shrink),
    (f"draft decode (aspect box), shrink to {ANALYSIS_SIDE}", _draft_then_shrink),
    (f"draft decode (square box), shrink to {ANALYSIS_SIDE}", _square_draft_then_shrink),
    ("recognition open_photo (draft)", _recognition_open_photo),
    ("imagegen load_photo max_side=4000", _imagegen_load_photo(4000)),
    ("imagegen load_photo max_side=3000", _imagegen_load_photo(3000)),
]


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _in_child(variant: Callable[[bytes], Image.Image], data: bytes) -> dict[str, object]:
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before_kb = _status_kb("VmRSS")
    started = time.perf_counter()
    image = variant(data)
    seconds = time.perf_counter() - started
    peak_kb = _status_kb("VmHWM")
    return {"size": image.size, "seconds": seconds, "peak_mb": (peak_kb - before_kb) * 1024 / MB}


def _run_forked(variant: Callable[[bytes], Image.Image], data: bytes) -> dict[str, object]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: measure, report, leave without running the parent's clean-up
        os.close(read_end)
        try:
            payload = json.dumps(_in_child(variant, data)).encode()
        except BaseException as exc:  # report, never fall back into the parent's code
            payload = json.dumps({"error": repr(exc)}).encode()
        os.write(write_end, payload)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        result = json.loads(pipe.read() or b'{"error": "child died"}')
    os.waitpid(pid, 0)
    if "error" in result:
        raise RuntimeError(f"decode variant failed: {result['error']}")
    return result


def compare_decodes(photo: Path, repeats: int = 3) -> list[DecodeResult]:
    """Each variant `repeats` times: the best time, the largest peak."""
    data = photo.read_bytes()
    # Import the service modules here, not in each child, so imports are not counted.
    import shelfready_imagegen.photo  # noqa: F401
    import shelfready_recognition.image_input  # noqa: F401

    results = []
    for name, variant in VARIANTS:
        runs = [_run_forked(variant, data) for _ in range(repeats)]
        results.append(
            DecodeResult(
                name=name,
                size=tuple(runs[0]["size"]),  # type: ignore[arg-type]
                seconds=min(float(run["seconds"]) for run in runs),  # type: ignore[arg-type]
                peak_mb=max(float(run["peak_mb"]) for run in runs),  # type: ignore[arg-type]
            )
        )
    return results
