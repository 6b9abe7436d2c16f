"""Separate the product from its background: an RGBA image of the product cropped to its extent.

Transparent photos use their own alpha. Everything else goes through the salient-object model
(`segment`: the model proposes, the recognition box chooses, GrabCut sharpens the edge) on an
850 px working copy, and every such cut-out carries a confidence (`cutout_quality`) that a bad
mask cannot pass. When the model cannot be loaded, the older colour-only path below runs and
its cut-out is always marked for review.

The colour-only path: OpenCV GrabCut on the working copy, seeded by the recognition bounding
box (or one estimated from how much each pixel differs from the colours seen along the
photo's border), with an initial labelling from that colour difference so shadows and
background-coloured areas start as "probably background". The mask is then scaled back to
the output resolution and feathered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from shelfready_core.schemas import BoundingBox
from shelfready_imagegen import saliency
from shelfready_imagegen.cutout_quality import MISSED_PART, Quality, assess
from shelfready_imagegen.grabcut import grabcut_foreground
from shelfready_imagegen.photo import has_real_transparency, to_rgb_or_rgba
from shelfready_imagegen.segment import segment

logger = logging.getLogger(__name__)

# GrabCut time and memory grow with pixels (its graph costs ~100 bytes a pixel: ~75 MB at
# 1000 px, the peak of an image work-horse); 850 px keeps edges clean after the feathered
# upscale and the imagegen service within its 512 MB at concurrency 2 (docs/memory.md).
WORK_SIDE = 850
GRABCUT_ITERATIONS = 4
GRABCUT_RING = 24  # working pixels of sure background around the box, for the colour model
BBOX_PADDING = 0.06  # recognition boxes are tight or a little off; GrabCut needs margin outside
BORDER_BAND = 0.03  # share of each side sampled as "surely background"
BORDER_CLUSTERS = 8
MIN_PRODUCT_SHARE = 0.004  # a foreground below 0.4% of the photo is noise, not a product
ALPHA_FLOOR = 8  # alpha below this is dropped: stray specks would break the white border
EDGE_REACH = 25  # working pixels around a crisp edge that may belong to the product
BUSY_SHARE = 0.02  # differing share of the frame outside the product box that makes it "busy"
CRISP_EDGE_RATIO = 1.8  # Sobel peak / local contrast above which an edge is in focus
MIN_CRISP_OUTLINE = 0.3  # share of a secondary region's outline that must be in focus
CRISP_EDGE_MIN_CONTRAST = 24.0  # grey levels; below this "edges" are noise or texture

Box = tuple[int, int, int, int]


class CutoutError(RuntimeError):
    """No product could be separated from the background."""


@dataclass
class Cutout:
    image: Image.Image  # RGBA, cropped to the product's extent
    box: Box  # (left, top, right, bottom) of that extent in photo pixels
    method: str  # "alpha", "model" or "grabcut"
    confidence: float = 1.0  # 0..1, see cutout_quality
    reasons: list[str] = field(default_factory=list)  # why a person should look; [] when none
    checks: dict[str, float] = field(default_factory=dict)  # measured values behind it

    @property
    def needs_review(self) -> bool:
        return bool(self.reasons)


def cut_out(
    photo: Image.Image,
    bbox: BoundingBox | None = None,
    *,
    max_side: int = 3000,
    model: saliency.SaliencyModel | None = None,
) -> Cutout:
    """Return the product as an RGBA image no larger than `max_side` on its long side.

    `model` defaults to the process-wide salient-object model (`saliency.load_model`).
    """
    photo = to_rgb_or_rgba(photo)
    if has_real_transparency(photo):
        return _from_alpha(photo, max_side)
    rgb = photo.convert("RGB") if photo.mode != "RGB" else photo
    try:
        model = model or saliency.load_model()
    except saliency.ModelUnavailable as exc:
        logger.warning("segmentation model unavailable (%s); colour-only cut-out", exc)
        return _from_grabcut(rgb, bbox, max_side)
    return _from_model(rgb, bbox, max_side, model)


def _from_model(
    rgb: Image.Image, bbox: BoundingBox | None, max_side: int, model: saliency.SaliencyModel
) -> Cutout:
    scale = min(1.0, WORK_SIDE / max(rgb.size))
    work_size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    work = np.asarray(rgb.resize(work_size, Image.Resampling.BILINEAR, reducing_gap=2.0))
    box = _scaled_box(bbox, scale, work_size) if bbox is not None else None
    seg = segment(work, model, box)
    if seg is None or seg.mask.mean() / 255.0 < MIN_PRODUCT_SHARE:
        raise CutoutError("no product stands out from the background")
    quality = assess(work, seg)
    return _compose(rgb, seg.mask, scale, max_side, "model", quality)


def _from_alpha(photo: Image.Image, max_side: int) -> Cutout:
    alpha = np.asarray(photo.getchannel("A"))
    cleaned = np.where(alpha < ALPHA_FLOOR, 0, alpha).astype(np.uint8)
    box = Image.fromarray(cleaned).getbbox()
    if box is None:
        raise CutoutError("the transparent photo has no visible pixels")
    product = photo.crop(box)
    product.putalpha(Image.fromarray(cleaned).crop(box))
    return Cutout(_limit(product, max_side), box, "alpha")


def _from_grabcut(rgb: Image.Image, bbox: BoundingBox | None, max_side: int) -> Cutout:
    scale = min(1.0, WORK_SIDE / max(rgb.size))
    work_size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
    work = np.asarray(rgb.resize(work_size, Image.Resampling.BILINEAR, reducing_gap=2.0))
    difference, threshold = background_difference(work)
    crisp = _crisp_edges(work)
    estimate = estimate_box(crisp, difference, threshold)
    box = estimate if bbox is None else _trust_bbox(_scaled_box(bbox, scale, work_size), estimate)
    box = _pad(box, work_size)
    in_focus = (
        _in_focus_region(crisp, difference, threshold)
        if _busy(difference, threshold, box)
        else None
    )
    mask = _grabcut(work, difference, threshold, box, in_focus)
    mask = _clean(mask, difference, threshold, crisp)
    if mask.mean() / 255.0 < MIN_PRODUCT_SHARE:
        raise CutoutError("could not separate a product from the background")
    # Colour alone cannot tell a product from a similar-coloured neighbour: a person looks.
    unchecked = Quality(0.3, {}, [f"{MISSED_PART}: made without the segmentation model"])
    return _compose(rgb, mask, scale, max_side, "grabcut", unchecked)


def background_difference(work: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-pixel colour distance to the background, and a threshold for "clearly different".

    The background is modelled two ways, and a pixel must differ from both: a smooth quadratic
    surface fitted to the border (white sweeps, plain colours, gradients, vignettes) and the
    dominant colours of the border (cluttered scenes). Lightness counts half, so soft shadows
    differ less than real colour changes.
    """
    lab = cv2.cvtColor(work, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab[..., 0] *= 0.5
    border = _border_mask(lab.shape[:2])
    smooth = _surface_distance(lab, border)
    clusters = _cluster_distance(lab, border)
    difference = np.minimum(smooth, clusters)
    border_values = difference[border]
    threshold = max(10.0, float(np.percentile(border_values, 95)) * 1.5)
    return difference, threshold


def _border_mask(shape: tuple[int, int]) -> np.ndarray:
    h, w = shape
    band = max(2, round(min(h, w) * BORDER_BAND))
    mask = np.zeros((h, w), bool)
    mask[:band], mask[-band:], mask[:, :band], mask[:, -band:] = True, True, True, True
    return mask


def _surface_distance(lab: np.ndarray, border: np.ndarray) -> np.ndarray:
    h, w = lab.shape[:2]
    ys, xs = np.nonzero(border)
    x, y = (xs / w - 0.5).astype(np.float32), (ys / h - 0.5).astype(np.float32)
    a = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=-1)
    b = lab[border]
    keep = np.ones(len(a), bool)
    for _ in range(2):  # refit without the outliers (a product touching the border)
        coef, *_ = np.linalg.lstsq(a[keep], b[keep], rcond=None)
        residual = np.linalg.norm(a @ coef - b, axis=1)
        keep = residual <= max(4.0, 2.5 * float(np.median(residual)))
    gx = (np.arange(w, dtype=np.float32) / w - 0.5)[None, :]
    gy = (np.arange(h, dtype=np.float32) / h - 0.5)[:, None]
    squared = np.zeros((h, w), np.float32)
    for channel in range(3):
        c = coef[:, channel].astype(np.float32)
        predicted = c[0] + c[1] * gx + c[2] * gy + c[3] * gx * gx + c[4] * gx * gy + c[5] * gy * gy
        squared += (lab[..., channel] - predicted) ** 2
    return np.sqrt(squared)


def _cluster_distance(lab: np.ndarray, border: np.ndarray) -> np.ndarray:
    samples = lab[border]
    if len(samples) > 20000:
        samples = samples[np.random.default_rng(0).choice(len(samples), 20000, replace=False)]
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    k = min(BORDER_CLUSTERS, len(samples))
    _, _, centres = cv2.kmeans(  # type: ignore[call-overload]  # None labels: OpenCV's own
        samples, k, None, criteria, 2, cv2.KMEANS_PP_CENTERS
    )
    best = np.full(lab.shape[:2], np.inf, np.float32)
    for centre in centres:
        delta = lab - centre
        np.minimum(best, np.einsum("ijk,ijk->ij", delta, delta), out=best)
    return np.sqrt(best)


def estimate_box(crisp: np.ndarray, difference: np.ndarray, threshold: float) -> Box:
    """The product's box from pixels that differ clearly from the background (working pixels).

    Only differing pixels near a crisp edge count: products are in focus, while busy
    backgrounds are usually blurred (and a soft shadow has no crisp edge either). The largest
    region wins; other sizeable regions close to it join (a lamp's base, a second shoe). With
    no clear region the centre 80% of the frame is assumed.
    """
    h, w = difference.shape
    different = _differing(difference, threshold)
    box = _main_region_box(_near_crisp_edges(different, crisp)) or _main_region_box(different)
    return box or (int(w * 0.1), int(h * 0.1), int(w * 0.9), int(h * 0.9))


def _differing(difference: np.ndarray, threshold: float) -> np.ndarray:
    """0/1 mask of pixels clearly different from the background, specks removed."""
    different: np.ndarray = (difference > threshold).astype(np.uint8)
    return np.asarray(cv2.morphologyEx(different, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)))


def _near_crisp_edges(different: np.ndarray, crisp: np.ndarray) -> np.ndarray:
    """0/1 mask of differing pixels within EDGE_REACH of a crisp edge.

    A closing joins the pieces of an outline whose crisp edge was found only in stretches.
    """
    near: np.ndarray = np.asarray(cv2.dilate(crisp, np.ones((EDGE_REACH, EDGE_REACH), np.uint8)))
    gated: np.ndarray = different & near
    return np.asarray(cv2.morphologyEx(gated, cv2.MORPH_CLOSE, np.ones((31, 31), np.uint8)))


def _busy(difference: np.ndarray, threshold: float, box: Box) -> bool:
    """A busy scene: much that differs from the border colours lies outside the product box."""
    different = difference > threshold
    left, top, right, bottom = box
    different[top:bottom, left:right] = False
    return bool(different.mean() > BUSY_SHARE)


def _in_focus_region(crisp: np.ndarray, difference: np.ndarray, threshold: float) -> np.ndarray:
    """Differing pixels near crisp edges, plus everything those enclose (a shade's interior)."""
    region = _near_crisp_edges(_differing(difference, threshold), crisp)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(1 - region, connectivity=4)
    h, w = region.shape
    for label in range(1, count):
        x, y, bw, bh, _ = stats[label]
        if x > 0 and y > 0 and x + bw < w and y + bh < h:
            region[labels == label] = 1
    return region.astype(bool)


def _crisp_edges(work: np.ndarray) -> np.ndarray:
    """Edges whose gradient is steep relative to the local contrast: in focus, not blurred.

    A focused step of contrast C gives a Sobel peak near 2.7 C (after the light denoising blur);
    a defocused one spreads the same C over many pixels and peaks near C or below.
    """
    grey = cv2.GaussianBlur(cv2.cvtColor(work, cv2.COLOR_RGB2GRAY).astype(np.float32), (0, 0), 1.0)
    magnitude = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    window = np.ones((9, 9), np.uint8)
    contrast = cv2.dilate(grey, window) - cv2.erode(grey, window)
    crisp = (magnitude >= CRISP_EDGE_RATIO * contrast) & (contrast >= CRISP_EDGE_MIN_CONTRAST)
    return crisp.astype(np.uint8)


def _main_region_box(mask: np.ndarray) -> Box | None:
    h, w = mask.shape
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1 or stats[1:, cv2.CC_STAT_AREA].max() < MIN_PRODUCT_SHARE * h * w:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    order = np.argsort(areas)[::-1] + 1
    main = stats[order[0]]
    left, top = main[0], main[1]
    right, bottom = left + main[2], top + main[3]
    reach = 0.08 * np.hypot(w, h)
    for label in order[1:]:
        x, y, bw, bh, area = stats[label]
        if area < 0.05 * main[4]:
            break
        gap_x = max(0, x - right, left - (x + bw))
        gap_y = max(0, y - bottom, top - (y + bh))
        if max(gap_x, gap_y) <= reach:
            left, top = min(left, x), min(top, y)
            right, bottom = max(right, x + bw), max(bottom, y + bh)
    return (int(left), int(top), int(right), int(bottom))


def _trust_bbox(given: Box, estimate: Box) -> Box:
    """The recognition box, grown to the in-focus object it mostly lies on.

    Vision-model boxes are often a little short (a lamp's base cut off); GrabCut cannot reach
    past its box, so when the given box lies mostly inside the estimated object, take both.
    """
    left, top = max(given[0], estimate[0]), max(given[1], estimate[1])
    right, bottom = min(given[2], estimate[2]), min(given[3], estimate[3])
    overlap = max(0, right - left) * max(0, bottom - top)
    if overlap < 0.5 * (given[2] - given[0]) * (given[3] - given[1]):
        return given
    return (
        min(given[0], estimate[0]),
        min(given[1], estimate[1]),
        max(given[2], estimate[2]),
        max(given[3], estimate[3]),
    )


def _scaled_box(bbox: BoundingBox, scale: float, size: tuple[int, int]) -> Box:
    w, h = size
    left = min(max(0, round(bbox.x * scale)), w - 2)
    top = min(max(0, round(bbox.y * scale)), h - 2)
    right = min(w, max(left + 2, round((bbox.x + bbox.width) * scale)))
    bottom = min(h, max(top + 2, round((bbox.y + bbox.height) * scale)))
    return (left, top, right, bottom)


def _pad(box: Box, size: tuple[int, int]) -> Box:
    left, top, right, bottom = box
    pad_x = round((right - left) * BBOX_PADDING) + 2
    pad_y = round((bottom - top) * BBOX_PADDING) + 2
    w, h = size
    return (
        max(0, left - pad_x),
        max(0, top - pad_y),
        min(w, right + pad_x),
        min(h, bottom + pad_y),
    )


def _grabcut(
    work: np.ndarray,
    difference: np.ndarray,
    threshold: float,
    box: Box,
    in_focus: np.ndarray | None = None,
) -> np.ndarray:
    """GrabCut over the box plus a ring of sure background around it (the rest is background).

    In a busy scene (`in_focus` given), differing pixels outside the in-focus region start as
    "probably background": a blurred object of similar colour touching the product stays out.
    """
    h, w = difference.shape
    left, top, right, bottom = box
    ring = max(GRABCUT_RING, round(0.25 * max(right - left, bottom - top)))
    rl, rt = max(0, left - ring), max(0, top - ring)
    rr, rb = min(w, right + ring), min(h, bottom + ring)
    region = difference[rt:rb, rl:rr]
    labels: np.ndarray = np.full((rb - rt, rr - rl), cv2.GC_BGD, np.uint8)
    inside = labels[top - rt : bottom - rt, left - rl : right - rl]
    box_difference = difference[top:bottom, left:right]
    likely = box_difference > threshold
    if in_focus is not None:
        likely &= in_focus[top:bottom, left:right]
    inside[:] = np.where(likely, cv2.GC_PR_FGD, cv2.GC_PR_BGD)
    if not (labels == cv2.GC_PR_FGD).any():
        # Nothing stands out: let GrabCut start from "everything in the box may be product".
        inside[:] = cv2.GC_PR_FGD
    if (labels == cv2.GC_BGD).sum() < 64:
        # A box covering the whole photo leaves no sure background: trust the border band.
        sure = _border_mask((rb - rt, rr - rl)) & (region <= threshold)
        labels[sure] = cv2.GC_BGD
    mask = np.zeros((h, w), np.uint8)
    try:
        foreground = grabcut_foreground(work[rt:rb, rl:rr], labels, GRABCUT_ITERATIONS)
    except cv2.error as exc:
        # GrabCut refuses masks with a single class; the colour difference is a fair answer then.
        logger.warning("GrabCut failed (%s); using the colour-difference mask", exc)
        foreground = (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)
    mask[rt:rb, rl:rr] = np.where(foreground, 255, 0).astype(np.uint8)
    return mask


def _clean(
    mask: np.ndarray, difference: np.ndarray, threshold: float, crisp: np.ndarray
) -> np.ndarray:
    """Drop specks, blurred fragments and holes' fillings that show the background.

    Besides the largest region, only sizeable regions whose outline is mostly in focus stay
    (a blurred object behind the product goes). A mug handle's opening looks like the
    background around it and stays open; a cream label on a cream backdrop differs a little
    from it and is filled back in.
    """
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    largest = int(np.argmax(areas)) + 1
    near_crisp = cv2.dilate(crisp, np.ones((5, 5), np.uint8)).astype(bool)
    outline = (mask > 0) & ~cv2.erode(mask, np.ones((3, 3), np.uint8)).astype(bool)
    keep = np.zeros(count, bool)
    for label in range(1, count):
        if label == largest:
            keep[label] = True
        elif areas[label - 1] >= 0.05 * areas.max():
            edge = outline & (labels == label)
            keep[label] = near_crisp[edge].mean() >= MIN_CRISP_OUTLINE if edge.any() else False
    mask = np.where(keep[labels], 255, 0).astype(np.uint8)
    holes = cv2.bitwise_not(mask)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    h, w = mask.shape
    small = max(16, int(0.002 * mask.astype(bool).sum()))
    background_level = float(np.median(difference[_border_mask(difference.shape)]))
    looks_like_background = max(3.0 * background_level, 0.4 * threshold)
    for label in range(1, count):
        x, y, bw, bh, area = stats[label]
        if x == 0 or y == 0 or x + bw == w or y + bh == h:
            continue
        hole = labels == label
        if area < small or float(np.median(difference[hole])) > looks_like_background:
            mask[hole] = 255
    return mask


def _compose(
    rgb: Image.Image,
    mask: np.ndarray,
    scale: float,
    max_side: int,
    method: str,
    quality: Quality,
) -> Cutout:
    """Cut the product's region from the full photo and give it the upscaled, feathered mask."""
    ys, xs = np.nonzero(mask)
    h, w = mask.shape
    wl, wt = max(0, xs.min() - 1), max(0, ys.min() - 1)
    wr, wb = min(w, xs.max() + 2), min(h, ys.max() + 2)
    left, top = int(wl / scale), int(wt / scale)
    right, bottom = min(rgb.width, round(wr / scale)), min(rgb.height, round(wb / scale))
    crop = rgb.crop((left, top, right, bottom))
    out_scale = min(1.0, max_side / max(crop.size))
    if out_scale < 1.0:
        size = (max(1, round(crop.width * out_scale)), max(1, round(crop.height * out_scale)))
        crop = crop.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    soft = cv2.GaussianBlur(mask[wt:wb, wl:wr].astype(np.float32) / 255.0, (0, 0), 0.8)
    alpha: np.ndarray = np.asarray(
        cv2.resize(soft, crop.size, interpolation=cv2.INTER_LINEAR), dtype=np.float32
    )
    del soft
    # Choke the edge a little inward: the outermost ramp carries background colour (halo).
    # In place: at 3000 px each float temporary is 24 MB, and a work-horse's peak is here.
    alpha -= 0.4
    alpha *= 1 / 0.5
    np.clip(alpha, 0.0, 1.0, out=alpha)
    alpha *= 255.0
    alpha += 0.5
    alpha_8 = alpha.astype(np.uint8)
    del alpha
    alpha_8[alpha_8 < ALPHA_FLOOR] = 0
    product = crop.convert("RGBA")
    product.putalpha(Image.fromarray(alpha_8))
    extent = Image.fromarray(alpha_8).getbbox()
    if extent is None:
        raise CutoutError("the product mask vanished when scaled to full size")
    product = product.crop(extent)
    factor = (right - left) / crop.width
    box = (
        left + round(extent[0] * factor),
        top + round(extent[1] * factor),
        left + round(extent[2] * factor),
        top + round(extent[3] * factor),
    )
    return Cutout(product, box, method, quality.confidence, quality.reasons, quality.checks)


def _limit(image: Image.Image, max_side: int) -> Image.Image:
    if max(image.size) <= max_side:
        return image
    copy = image.copy()
    copy.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return copy
