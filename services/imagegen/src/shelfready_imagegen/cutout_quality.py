"""How far a cut-out can be trusted: measured signs of a bad mask, folded into one confidence.

Each check measures one way a mask goes wrong and maps its value onto [0, 1] between a "bad"
and a "good" level; the confidence is the lowest of them, so one clear fault cannot be
averaged away by the others. A check below half way names itself as a reason.

- parts: the mask's area outside its main pieces (a scatter of fragments: shelves kept, half
  the bike gone), and how many sizeable pieces there are;
- holes: openings inside the product that look like the product rather than the background
  around it (a hole through a saucer, unlike a mug handle's opening);
- box: agreement with the recognition box (a notebook cut out instead of the mug);
- background: share of the model's mask that looks like the background around the object
  (seen through wheels or glass);
- edge: share of the outline where inside and outside differ in colour (an outline through
  the middle of a flat surface is a guess);
- stability: agreement of the two model passes (the whole photo or box, and zoomed in);
- certainty: how decided the model's map is (a mask that appears or vanishes with the
  threshold is not a mask);
- frame: the product running off the photo's edge (part of it is not in the photo).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from shelfready_imagegen.segment import Segmentation

REVIEW_BELOW = 0.5
MISSED_PART = "the cut-out may have missed part of the product"

Box = tuple[int, int, int, int]


@dataclass
class Quality:
    confidence: float  # 0..1
    checks: dict[str, float] = field(default_factory=dict)  # measured values, by check
    reasons: list[str] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        return bool(self.reasons)


def _score(value: float, bad: float, good: float) -> float:
    return float(np.clip((value - bad) / (good - bad), 0.0, 1.0))


def assess(work: np.ndarray, seg: Segmentation) -> Quality:
    """The confidence of `seg` on the working copy `work` (RGB uint8)."""
    mask = seg.mask > 0
    lab = cv2.cvtColor(work, cv2.COLOR_RGB2LAB).astype(np.float32)
    values: dict[str, float] = {}
    scores: dict[str, float] = {}
    texts: dict[str, str] = {}

    stray, pieces = _parts(mask)
    values["stray_share"], values["pieces"] = round(stray, 3), pieces
    scores["parts"] = min(_score(stray, 0.12, 0.03), 1.0 if pieces <= 4 else 0.0)
    texts["parts"] = f"the mask is in {pieces} pieces with {stray:.0%} of it in fragments"

    hole = _suspicious_holes(lab, mask)
    values["hole_share"] = round(float(hole), 3)
    scores["holes"] = _score(hole, 0.06, 0.01)
    texts["holes"] = f"{hole:.0%} of the product's area is holes that look like the product"

    if seg.box is not None:
        iou = box_iou(_box_of(mask), seg.box)
        values["box_iou"] = round(iou, 3)
        scores["box"] = _score(iou, 0.55, 0.8)
        texts["box"] = f"the cut-out covers the recognised product box with IoU {iou:.2f}"

    kept = seg.background_kept
    values["background_kept"] = round(kept, 3)
    scores["background"] = _score(kept, 0.12, 0.04)
    texts["background"] = f"{kept:.0%} of the cut-out looks like the background around it"

    edge = _edge_contrast(lab, mask)
    values["edge_contrast"] = round(edge, 3)
    scores["edge"] = _score(edge, 0.3, 0.65)
    texts["edge"] = f"only {edge:.0%} of the outline has a visible edge in the photo"

    stable = _iou(seg.first_pass, mask)
    values["stability"] = round(stable, 3)
    scores["stability"] = _score(stable, 0.75, 0.92)
    texts["stability"] = f"two views of the model agree with IoU {stable:.2f}"

    sure = float((seg.saliency > 0.8).sum()) / max(1.0, float((seg.saliency > 0.2).sum()))
    values["certainty"] = round(sure, 3)
    scores["certainty"] = _score(sure, 0.5, 0.8)
    texts["certainty"] = f"the model is sure of {sure:.0%} of the area it marks"

    touching = _frame_contact(mask)
    values["frame_contact"] = round(touching, 3)
    scores["frame"] = _score(touching, 0.15, 0.02)
    texts["frame"] = f"the product runs off the photo's edge ({touching:.0%} of its side)"

    confidence = min(scores.values())
    failing = [texts[name] for name, score in scores.items() if score < REVIEW_BELOW]
    reasons = [f"{MISSED_PART}: " + "; ".join(failing)] if failing else []
    return Quality(round(confidence, 3), values, reasons)


def _parts(mask: np.ndarray) -> tuple[float, int]:
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return 1.0, 0
    areas = np.sort(stats[1:, cv2.CC_STAT_AREA])[::-1].astype(np.float64)
    total = areas.sum()
    main = areas >= 0.1 * areas[0]
    return float(areas[~main].sum() / total), int((areas >= 0.02 * total).sum())


def _suspicious_holes(lab: np.ndarray, mask: np.ndarray) -> float:
    """Share of the mask's area in enclosed holes coloured like the product around them."""
    area = float(mask.sum())
    holes = (~mask).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    h, w = mask.shape
    outside = cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & ~mask
    background = lab[outside].mean(axis=0) if outside.any() else None
    suspicious = 0.0
    ring_kernel = np.ones((5, 5), np.uint8)
    for label in range(1, count):
        x, y, bw, bh, hole_area = stats[label]
        if x == 0 or y == 0 or x + bw == w or y + bh == h or hole_area < 0.002 * area:
            continue
        hole = labels == label
        ring = cv2.dilate(hole.astype(np.uint8), ring_kernel).astype(bool) & mask
        if background is None or not ring.any():
            continue
        inside_colour = lab[hole].mean(axis=0)
        to_product = float(np.linalg.norm(inside_colour - lab[ring].mean(axis=0)))
        to_background = float(np.linalg.norm(inside_colour - background))
        if to_product < to_background:
            suspicious += hole_area
    return suspicious / max(1.0, area)


def _edge_contrast(lab: np.ndarray, mask: np.ndarray, min_delta: float = 10.0) -> float:
    """Share of outline pixels whose inside and outside neighbourhoods differ in colour."""
    m = mask.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    outline = m.astype(bool) & ~cv2.erode(m, kernel).astype(bool)
    inner = (cv2.erode(m, kernel) - cv2.erode(m, np.ones((7, 7), np.uint8))).astype(np.float32)
    outer = (cv2.dilate(m, np.ones((7, 7), np.uint8)) - cv2.dilate(m, kernel)).astype(np.float32)
    window = (9, 9)
    n_in = cv2.boxFilter(inner, -1, window, normalize=False) + 1e-6
    n_out = cv2.boxFilter(outer, -1, window, normalize=False) + 1e-6
    delta = np.zeros(mask.shape, np.float32)
    for c in range(3):
        channel = lab[..., c]
        mean_in = cv2.boxFilter(channel * inner, -1, window, normalize=False) / n_in
        mean_out = cv2.boxFilter(channel * outer, -1, window, normalize=False) / n_out
        delta += (mean_in - mean_out) ** 2
    valid = outline & (n_in > 1) & (n_out > 1)
    if not valid.any():
        return 0.0
    return float((np.sqrt(delta[valid]) > min_delta).mean())


def _frame_contact(mask: np.ndarray) -> float:
    """The longest stretch of the photo's edge the mask lies on, as a share of the mask's extent
    along that edge (a product standing on the bottom edge for 40% of its width: 0.4)."""
    ys, xs = np.nonzero(mask)
    width, height = xs.max() - xs.min() + 1, ys.max() - ys.min() + 1
    return float(
        max(
            mask[0].sum() / width,
            mask[-1].sum() / width,
            mask[:, 0].sum() / height,
            mask[:, -1].sum() / height,
        )
    )


def _box_of(mask: np.ndarray) -> Box:
    ys, xs = np.nonzero(mask)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = float((a | b).sum())
    return float((a & b).sum()) / union if union else 0.0


def box_iou(a: Box, b: Box) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
