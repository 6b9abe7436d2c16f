"""The product's mask on a working copy of the photo: the model proposes, the box chooses,
GrabCut sharpens the edge.

1. The salient-object model runs on the whole photo, then once more zoomed on the object
   chosen (so the product fills the model's 320 px input): two views whose agreement says how
   stable the mask is.
2. Regions of the thresholded saliency are kept when they lie on the recognition box (or,
   without one, the largest region and the sizeable ones next to it): a notebook beside the
   mug is salient too, but it is not the product.
3. GrabCut relabels only a narrow band around the model's edge (the model's 320 px map is
   blurred when scaled up); a refinement that moves the area by more than a few per cent is
   discarded, so it can sharpen an edge but not invent or eat a part.
4. Background seen through the product (a garage inside a bicycle's wheels) is measured with
   the colours around the object, for the confidence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from shelfready_imagegen.grabcut import grabcut_foreground
from shelfready_imagegen.saliency import SaliencyModel

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]

THRESHOLD = 0.5
LINK_THRESHOLD = 0.1  # fainter saliency still links pieces into one object (a thin lamp stem)
LINK_GAP = 0.012  # of the diagonal: pieces this close belong together
BOX_MARGIN = 0.25  # context around a recognition box for the first pass
ZOOM_MARGIN = 0.15  # context around the found object for the second pass
MIN_REGION_SHARE = 0.002  # of the working frame: smaller salient regions are specks
KEEP_NEAR_SHARE = 0.08  # a region this big (vs the main one) and close joins it (a second shoe)
ON_BOX_SHARE = 0.5  # share of a region's area inside the recognition box for it to be chosen
COVERS_BOX_SHARE = 0.3  # ... or covering this share of the box (a lamp reaching past it)
BAND = 3  # working pixels either side of the edge that GrabCut may relabel
TRUST_ZOOM_IOU = 0.8  # the zoomed view replaces the whole one only when they mostly agree
MAX_REFINE_CHANGE = 0.06  # larger area changes from GrabCut are not a refinement


@dataclass
class Segmentation:
    mask: np.ndarray  # uint8 0/255, working size
    saliency: np.ndarray  # float32 [0, 1], working size (second pass where it ran)
    first_pass: np.ndarray  # bool mask of the chosen object from the first pass
    box: Box | None  # the recognition box in working pixels, if any
    refined: bool  # GrabCut's edge was kept
    background_kept: float = 0.0  # share of the model's mask that looked like the background


def segment(work: np.ndarray, model: SaliencyModel, box: Box | None) -> Segmentation | None:
    """The product's mask on `work` (RGB uint8), or None when nothing salient is found."""
    h, w = work.shape[:2]
    first = _saliency_in(work, model, (0, 0, w, h))
    chosen = choose_object(first, box)
    if chosen is None:
        return None
    found = _box_of(chosen)
    # The second view, zoomed on the object, sees its edges at twice the detail or more.
    saliency = _saliency_in(work, model, _grow(found, ZOOM_MARGIN, (w, h)))
    if box is not None:
        # The zoomed view may take in a neighbour the whole view had set apart: stay near.
        near = _grow(_union(found, box), BOX_MARGIN, (w, h))
        saliency = np.where(_inside(near, (h, w)), saliency, 0.0).astype(np.float32)
    second = choose_object(saliency, box or found)
    if second is None or _mask_iou(chosen, second) < TRUST_ZOOM_IOU:
        # The views disagree (a zoomed crop of a product cut by the photo's edge misleads the
        # model): the whole view is the safer mask; the confidence reports the disagreement.
        second, saliency = chosen, first
    mask = second.astype(np.uint8) * 255
    # Faint parts linked to the mask (a thin stem the model barely marks) are GrabCut's to decide.
    faint = _touching(_linked(saliency), second) & (saliency > LINK_THRESHOLD) & ~second
    refined = _refine(work, mask, saliency, faint)
    changed = abs(int(refined.astype(bool).sum()) - int(second.sum())) / max(1, int(second.sum()))
    keep_refined = changed <= MAX_REFINE_CHANGE
    mask = refined if keep_refined else mask
    # Measured, not applied: taking it out also eats white-on-white products and leaves a
    # bicycle in pieces, so a person decides instead.
    kept = background_inside(work, mask)
    return Segmentation(mask, saliency, chosen, box, refined=keep_refined, background_kept=kept)


def background_inside(work: np.ndarray, mask: np.ndarray) -> float:
    """The share of `mask` that looks like the background around the object: what GrabCut,
    with the ring around the object as background, gives back to it (a garage seen through a
    bicycle's wheels)."""
    m = (mask > 0).astype(np.uint8)
    ring = cv2.dilate(m, np.ones((15, 15), np.uint8))
    top, left = (int(v.min()) for v in np.nonzero(ring))
    bottom, right = (int(v.max()) + 1 for v in np.nonzero(ring))
    labels = np.where(m > 0, cv2.GC_PR_FGD, cv2.GC_BGD).astype(np.uint8)[top:bottom, left:right]
    try:
        fg = grabcut_foreground(work[top:bottom, left:right], labels, 3)
    except cv2.error:
        return 0.0
    kept = np.zeros_like(mask)
    kept[top:bottom, left:right] = np.where(fg, 255, 0).astype(np.uint8)
    kept = cv2.morphologyEx(kept, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) & mask
    return 1.0 - float((kept > 0).sum()) / max(1, int(m.sum()))


def _saliency_in(work: np.ndarray, model: SaliencyModel, region: Box) -> np.ndarray:
    """The model's map for `region`, placed in a working-size array (zero elsewhere)."""
    left, top, right, bottom = region
    out = np.zeros(work.shape[:2], np.float32)
    out[top:bottom, left:right] = model.predict(np.ascontiguousarray(work[top:bottom, left:right]))
    return out


def choose_object(saliency: np.ndarray, box: Box | None) -> np.ndarray | None:
    """The salient regions that make up the product (bool mask), or None.

    Regions are those of the faint map (so a piece joined by a thin, faint part stays with
    its object), the mask is the confident part of the regions chosen.
    """
    h, w = saliency.shape
    binary = saliency > THRESHOLD
    count, labels, stats, _ = cv2.connectedComponentsWithStats(_linked(saliency), connectivity=8)
    # Region sizes count confident pixels only: a faint haze is not a big object.
    stats[:, cv2.CC_STAT_AREA] = np.bincount(labels[binary], minlength=count)
    if count <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    big = areas >= MIN_REGION_SHARE * h * w
    if not big.any():
        return None
    keep = np.zeros(count, bool)
    if box is not None:
        left, top, right, bottom = box
        inner = np.asarray(labels[top:bottom, left:right])
        confident = binary[top:bottom, left:right]
        inside = np.bincount(inner[confident], minlength=count).astype(np.float64)
        share = inside[1:] / np.maximum(areas, 1)
        box_area = max(1, (right - left) * (bottom - top))
        keep[1:] = big & ((share >= ON_BOX_SHARE) | (inside[1:] >= COVERS_BOX_SHARE * box_area))
        if not keep.any():
            # Nothing lies mostly on the box: the region covering most of it.
            keep[int(np.argmax(inside[1:] * big)) + 1] = inside[1:].max() > 0
    else:
        main = int(np.argmax(areas)) + 1
        keep[main] = True
        mx, my, mw, mh = stats[main, :4]
        reach = 0.05 * np.hypot(w, h)
        for label in range(1, count):
            x, y, bw, bh, area = stats[label]
            if label == main or area < KEEP_NEAR_SHARE * areas.max():
                continue
            gap = max(x - (mx + mw), mx - (x + bw), y - (my + mh), my - (y + bh), 0)
            keep[label] = gap <= reach
    if not keep.any():
        return None
    return np.asarray(keep[labels] & binary)


def _refine(
    work: np.ndarray, mask: np.ndarray, saliency: np.ndarray, faint: np.ndarray
) -> np.ndarray:
    """GrabCut in a narrow band around the mask's edge and over the faint parts linked to it;
    the rest keeps the model's labels."""
    kernel = np.ones((2 * BAND + 1, 2 * BAND + 1), np.uint8)
    inner = cv2.erode(mask, kernel)
    outer = cv2.dilate(mask, kernel)
    found = _box_of((outer > 0) | faint)
    h, w = mask.shape
    left, top, right, bottom = _grow(found, 0.1, (w, h))
    labels = np.full((bottom - top, right - left), cv2.GC_BGD, np.uint8)
    band = (outer > 0)[top:bottom, left:right]
    sal = saliency[top:bottom, left:right]
    labels[band] = np.where(sal[band] > THRESHOLD, cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    labels[faint[top:bottom, left:right]] = cv2.GC_PR_FGD
    labels[(inner > 0)[top:bottom, left:right]] = cv2.GC_FGD
    if not (labels == cv2.GC_BGD).any() or not (labels == cv2.GC_FGD).any():
        return mask
    try:
        fg = grabcut_foreground(work[top:bottom, left:right], labels, 2)
    except cv2.error as exc:
        logger.warning("GrabCut edge refinement failed (%s); keeping the model's edge", exc)
        return mask
    out = np.zeros_like(mask)
    out[top:bottom, left:right] = np.where(fg, 255, 0).astype(np.uint8)
    return out


def _linked(saliency: np.ndarray) -> np.ndarray:
    """0/1 map whose regions are objects: faint saliency, small gaps closed (a stem's joint)."""
    h, w = saliency.shape
    reach = max(3, round(LINK_GAP * np.hypot(w, h))) | 1
    faint = (saliency > LINK_THRESHOLD).astype(np.uint8)
    return np.asarray(cv2.dilate(faint, np.ones((reach, reach), np.uint8)))


def _touching(mask: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The regions of `mask` that overlap `chosen` by a tenth of its area or more."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    overlap = np.bincount(labels[chosen & mask.astype(bool)], minlength=count)
    overlap[0] = 0
    return np.asarray(np.isin(labels, np.flatnonzero(overlap >= 0.1 * chosen.sum())))


def _mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = float((a | b).sum())
    return float((a & b).sum()) / union if union else 0.0


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _box_of(mask: np.ndarray) -> Box:
    ys, xs = np.nonzero(mask)
    return (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def _grow(box: Box, margin: float, size: tuple[int, int]) -> Box:
    left, top, right, bottom = box
    pad_x, pad_y = round((right - left) * margin) + 2, round((bottom - top) * margin) + 2
    w, h = size
    return (
        max(0, left - pad_x),
        max(0, top - pad_y),
        min(w, right + pad_x),
        min(h, bottom + pad_y),
    )


def _inside(box: Box, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, bool)
    out[box[1] : box[3], box[0] : box[2]] = True
    return out
