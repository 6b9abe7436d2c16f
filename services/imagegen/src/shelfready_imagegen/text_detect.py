"""Where an image has text: PP-OCRv4's text detector (DBNet), run with onnxruntime on the CPU.

The model file comes inside the `rapidocr-onnxruntime` wheel (models/ch_PP-OCRv4_det_infer.onnx,
4.7 MB, multilingual: Latin, CJK and more). Only the file is used: the compliance check needs
to know *where* text is, not what it says, so the recogniser and the wheel's own pipeline
(which would pull in a second, GUI build of OpenCV) are not. Loaded once per process, with
one thread, like the segmentation model (see saliency.py).
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
from pathlib import Path

import cv2
import numpy as np

logger = logging.getLogger(__name__)

DISTRIBUTION = "rapidocr-onnxruntime"
MODEL_FILE = "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"
DETECT_SIDE = 1024  # long side the detector sees; text 20 px high at 2000 px is still found
TILE = 320  # the detector runs on tiles: its activations grow with the input's area, and a
# 960 px input costs ~250 MB at its peak against ~50 MB for a 320 px tile (make bench)
TILE_OVERLAP = 48
PIXEL_THRESHOLD = 0.3  # DBNet's usual binarisation level
BOX_THRESHOLD = 0.6  # mean probability inside a region for it to count as text
MIN_BOX_SIDE = 4  # detector pixels

Box = tuple[int, int, int, int]

_lock = threading.Lock()
_session: object | None = None


class TextModelUnavailable(RuntimeError):
    """The text detector's model file is missing or cannot be loaded."""


def _load() -> object:
    global _session
    with _lock:
        if _session is None:
            import onnxruntime as ort

            try:
                path = Path(
                    str(importlib.metadata.distribution(DISTRIBUTION).locate_file(MODEL_FILE))
                )
            except importlib.metadata.PackageNotFoundError as exc:
                raise TextModelUnavailable(f"the {DISTRIBUTION} wheel is not installed") from exc
            if not path.is_file():
                raise TextModelUnavailable(f"text detector {path.name} not found")
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.enable_cpu_mem_arena = False
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
            options.log_severity_level = 3
            _session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        return _session


def preload() -> None:
    try:
        _load()
    except Exception as exc:
        logger.warning("text detector not preloaded: %s", exc)


def _starts(length: int) -> list[int]:
    """Tile origins covering `length` with TILE-sized tiles overlapping by TILE_OVERLAP."""
    if length <= TILE:
        return [0]
    step = TILE - TILE_OVERLAP
    starts = list(range(0, length - TILE, step))
    return [*starts, length - TILE]


def text_boxes(rgb: np.ndarray) -> list[Box]:
    """Boxes (left, top, right, bottom, in `rgb` pixels) of the text lines in the image."""
    session = _load()
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(h, w))
    dh = max(32, round(h * scale / 32) * 32)
    dw = max(32, round(w * scale / 32) * 32)
    small = cv2.resize(rgb, (dw, dh), interpolation=cv2.INTER_AREA)
    # PaddleOCR models take BGR, scaled to [-1, 1].
    prepared = (small[..., ::-1].astype(np.float32) / 255.0 - 0.5) / 0.5
    probability = np.zeros((dh, dw), np.float32)
    name = session.get_inputs()[0].name  # type: ignore[attr-defined]
    for top in _starts(dh):
        for left in _starts(dw):
            tile = prepared[top : top + TILE, left : left + TILE]
            tensor = np.ascontiguousarray(tile.transpose(2, 0, 1)[None])
            out = session.run(None, {name: tensor})[0][0, 0]  # type: ignore[attr-defined]
            region = probability[top : top + tile.shape[0], left : left + tile.shape[1]]
            np.maximum(region, out[: tile.shape[0], : tile.shape[1]], out=region)
    binary = np.asarray(
        cv2.dilate((probability > PIXEL_THRESHOLD).astype(np.uint8), np.ones((2, 2), np.uint8))
    )
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=4)
    sx, sy = w / dw, h / dh
    boxes: list[Box] = []
    for label in range(1, count):
        x, y, bw, bh, _area = stats[label]
        if min(bw, bh) < MIN_BOX_SIDE:
            continue
        if float(probability[labels == label].mean()) < BOX_THRESHOLD:
            continue
        # DBNet shrinks each line's region; grow it back a little (its "unclip").
        pad = 0.4 * min(bw, bh)
        boxes.append(
            (
                max(0, int((x - pad) * sx)),
                max(0, int((y - pad) * sy)),
                min(w, int((x + bw + pad) * sx)),
                min(h, int((y + bh + pad) * sy)),
            )
        )
    return boxes
