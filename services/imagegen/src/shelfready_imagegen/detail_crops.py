"""Where the detail image looks: a window of the photo's own pixels, inside the product.

The cut-out carries the photo's pixels at the resolution they were decoded at (up to 3000 px),
so a window of it is a crop of the original photo, not of a resized copy. Square candidate
windows, from CLOSE_UP_SHARE of the product's long side down, are scored on a small copy:

- mask coverage: a window must be at least MIN_COVERAGE product (the cut-out's alpha), so the
  close-up never shows the background;
- detail: the share of its pixels where the photo has texture, print, seams or parts (a
  Laplacian response above noise), the silhouette against the background excluded;
- text integrity: a window never cuts through a text block (lines found by text_detect,
  neighbouring lines of one label merged): it holds a block whole or stays clear of it.

A window is shown at most MAX_UPSCALE times its photo size and at most PANEL_MAX px, so a
window that cannot fill PANEL_MIN px at that scale, covers too little product, or is mostly flat
still gives a detail image, with reasons a person can act on (`DetailChoice.reasons`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from shelfready_imagegen import text_detect

logger = logging.getLogger(__name__)

MAX_UPSCALE = 1.5
# Canvas px of the close-up panel. The 2000 px canvas keeps room below it for the locator
# (the whole product, the window marked); filling 2000 px at 1.5x would take a 1334 px window
# inside the product, which neither the 1600 px samples nor most phone photos (decoded at
# 3000 px) have. PANEL_MIN is 400 photo px at 1.5x: a 1600 px photo's product can give it.
PANEL_MAX = 1400
PANEL_MIN = 600
CLOSE_UP_SHARE = 0.6  # the largest window, as a share of the product's long side
SMALLEST_SHARE = 0.2  # ... and the smallest searched
SIZE_STEP = 0.88  # each candidate size is this share of the one before
MIN_COVERAGE = 0.9
MIN_DETAIL_SHARE = 0.04  # below this share of detailed pixels a window is "mostly flat"
SEARCH_SIDE = 512  # the maps are searched at this long side
DETAIL_RESPONSE = 12  # grey levels of |Laplacian| (after a light blur) that count as detail
TEXT_GUARD = 0.3  # of a text block's line height: how near a window's edge may come to it
TEXT_BLOCK_GAP = 1.0  # lines closer than this many line heights form one block (a label)

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class DetailChoice:
    window: Box  # (left, top, right, bottom) in cut-out pixels; may stick out of a slim product
    scale: float  # canvas px per photo px, at most MAX_UPSCALE
    shown_side: int  # the close-up's side on the canvas
    coverage: float  # share of the window that is product
    detail_share: float  # share of the window with texture, print or parts
    text_blocks: int  # text blocks wholly inside the window
    text_cut: int  # text blocks the window cuts (0 unless no window avoids it)
    reasons: list[str] = field(default_factory=list)  # why a person should look; [] when none

    def report(self) -> dict[str, object]:
        """The measured figures, for the image's compliance entry."""
        return {
            "window": list(self.window),
            "window_side": self.window[2] - self.window[0],
            "upscale": round(self.scale, 3),
            "shown_side": self.shown_side,
            "coverage": round(self.coverage, 3),
            "detail_share": round(self.detail_share, 3),
            "text_blocks": self.text_blocks,
            "text_cut": self.text_cut,
            "passed": not self.reasons,
            "reasons": list(self.reasons),
        }


def choose_detail(product: Image.Image, text_boxes: list[Box] | None = None) -> DetailChoice:
    """The detail window of an RGBA cut-out; `text_boxes` (cut-out px) default to detected."""
    width, height = product.size
    long_side = max(width, height)
    if text_boxes is None:
        text_boxes = _detect_text(product)
    scale = min(1.0, SEARCH_SIDE / long_side)
    cover, detail = _maps(product, scale)
    blocks = _text_blocks(text_boxes, _alpha(product))
    best: tuple[tuple[int, float], int, int, int] | None = None  # (rank, side, left, top)
    fallback: tuple[float, int, int, int] | None = None
    for side in _sides(long_side):
        side_small = max(2, round(side * scale))
        coverage = _window_sums(cover, side_small) / float(side_small * side_small)
        energy = _window_sums(detail, side_small)
        # The cut-out's origin maps to the small map's; window positions in cut-out px:
        lefts = np.arange(coverage.shape[1]) / scale
        tops = np.arange(coverage.shape[0]) / scale
        cut = _cuts_text(blocks, lefts, tops, side)
        valid = (coverage >= MIN_COVERAGE) & ~cut
        row, col = np.unravel_index(int(np.argmax(coverage - cut)), coverage.shape)
        candidate = float(coverage[row, col] - cut[row, col])
        if fallback is None or candidate > fallback[0] + 1e-6:
            fallback = (candidate, side, int(col), int(row))
        if not valid.any():
            continue
        # Detail per unit of side: widening a window over flat area lowers it, over more
        # texture raises it; a window shown below PANEL_MIN ranks after every one that is not.
        score = np.where(valid, energy / side_small, -1.0)
        row, col = np.unravel_index(int(np.argmax(score)), score.shape)
        small_tier = 0 if side * MAX_UPSCALE >= PANEL_MIN else 1
        rank = (small_tier, -float(score[row, col]))
        if best is None or rank < best[0]:
            best = (rank, side, int(col), int(row))
    assert fallback is not None  # _sides is never empty
    _, side, left, top = best if best is not None else fallback
    window = _place(side, left / scale, top / scale, width, height)
    return _measure(product, window, blocks, cover, detail, scale)


def _sides(long_side: int) -> list[int]:
    """Candidate window sides (cut-out px), largest first: no more than PANEL_MAX at 1.0x."""
    largest = min(PANEL_MAX, CLOSE_UP_SHARE * long_side)
    smallest = min(largest, max(32.0, SMALLEST_SHARE * long_side))
    sides: list[int] = []
    side = largest
    while side >= smallest - 0.5:
        sides.append(max(8, round(side)))
        side *= SIZE_STEP
    return sides


def _alpha(product: Image.Image) -> np.ndarray:
    return np.asarray(product.getchannel("A"))


def _maps(product: Image.Image, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Product coverage and detailed-pixel share per pixel of the small copy (both 0..1).

    Detail is found at full resolution (a fine weave vanishes in a reduced copy), then
    averaged down; pixels near the silhouette do not count, the outline is not a detail.
    """
    width, height = product.size
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    grey = np.asarray(product.convert("L"))
    blurred = cv2.GaussianBlur(grey, (0, 0), 0.8)  # sensor noise and JPEG blocks are not detail
    response = cv2.convertScaleAbs(cv2.Laplacian(blurred, cv2.CV_16S, ksize=1))
    del grey, blurred
    detailed = np.where(response > DETAIL_RESPONSE, 255, 0).astype(np.uint8)
    del response
    detail = cv2.resize(detailed, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    del detailed
    solid = np.where(_alpha(product) >= 128, 255, 0).astype(np.uint8)
    cover = cv2.resize(solid, size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    interior = cv2.erode((cover > 0.98).astype(np.uint8), np.ones((5, 5), np.uint8))
    return cover, detail * interior


def _detect_text(product: Image.Image) -> list[Box]:
    """Text lines on the product, in cut-out pixels (the background shown as mid grey)."""
    flat = Image.new("RGB", product.size, (128, 128, 128))
    flat.paste(product, mask=product.getchannel("A"))
    try:
        return text_detect.text_boxes(np.asarray(flat))
    except text_detect.TextModelUnavailable as exc:
        logger.warning("text detector unavailable (%s): detail windows may cut text", exc)
        return []


def _text_blocks(boxes: list[Box], alpha: np.ndarray) -> list[Box]:
    """Lines on the product merged with near neighbours into blocks (one label, one block)."""
    lines = []
    for left, top, right, bottom in boxes:
        region = alpha[top:bottom, left:right]
        if region.size and float((region >= 128).mean()) >= 0.5:
            lines.append([left, top, right, bottom])
    merged = True
    while merged:
        merged = False
        for i in range(len(lines)):
            for j in range(i + 1, len(lines)):
                a, b = lines[i], lines[j]
                reach = TEXT_BLOCK_GAP * min(a[3] - a[1], b[3] - b[1])
                gap_x = max(a[0], b[0]) - min(a[2], b[2])
                gap_y = max(a[1], b[1]) - min(a[3], b[3])
                if gap_x <= reach and gap_y <= reach:
                    lines[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    del lines[j]
                    merged = True
                    break
            if merged:
                break
    return [(a, b, c, d) for a, b, c, d in lines]


def _guard(box: Box) -> tuple[float, float, float, float]:
    """The block grown by TEXT_GUARD: a window edge inside it would clip a glyph's side."""
    left, top, right, bottom = box
    grow = TEXT_GUARD * min(right - left, bottom - top)
    return left - grow, top - grow, right + grow, bottom + grow


def _cuts_text(blocks: list[Box], lefts: np.ndarray, tops: np.ndarray, side: int) -> np.ndarray:
    """True where a window (rows: tops, columns: lefts) comes near a block without holding it."""
    cut = np.zeros((len(tops), len(lefts)), bool)
    for block in blocks:
        x0, y0, x1, y1 = _guard(block)
        meets_x = (lefts < x1) & (lefts + side > x0)
        meets_y = (tops < y1) & (tops + side > y0)
        holds_x = (lefts <= block[0]) & (lefts + side >= block[2])
        holds_y = (tops <= block[1]) & (tops + side >= block[3])
        cut |= np.outer(meets_y, meets_x) & ~np.outer(holds_y, holds_x)
    return cut


def _place(side: int, left: float, top: float, width: int, height: int) -> Box:
    """The window in cut-out px, inside the cut-out (centred on an axis it is wider than)."""
    x0 = (width - side) // 2 if side > width else min(max(0, round(left)), width - side)
    y0 = (height - side) // 2 if side > height else min(max(0, round(top)), height - side)
    return (x0, y0, x0 + side, y0 + side)


def _measure(
    product: Image.Image,
    window: Box,
    blocks: list[Box],
    cover: np.ndarray,
    detail: np.ndarray,
    scale: float,
) -> DetailChoice:
    """The chosen window's figures, and what a person should know about it."""
    x0, y0, x1, y1 = window
    side = x1 - x0
    alpha = _alpha(product)
    inside = alpha[max(0, y0) : y1, max(0, x0) : x1] >= 128
    coverage = float(inside.sum()) / float(side * side)
    sx0, sy0 = max(0, math.floor(x0 * scale)), max(0, math.floor(y0 * scale))
    sx1, sy1 = math.ceil(x1 * scale), math.ceil(y1 * scale)
    patch = detail[sy0:sy1, sx0:sx1]
    detail_share = float(patch.sum()) / max(1.0, float((sx1 - sx0) * (sy1 - sy0)))
    held = cut = 0
    for block in blocks:
        gx0, gy0, gx1, gy1 = _guard(block)
        meets = gx0 < x1 and gx1 > x0 and gy0 < y1 and gy1 > y0
        holds = x0 <= block[0] and block[2] <= x1 and y0 <= block[1] and block[3] <= y1
        held += holds
        cut += meets and not holds
    upscale = min(MAX_UPSCALE, PANEL_MAX / side)
    shown = round(side * upscale)
    reasons = []
    if shown < PANEL_MIN:
        long_side = max(product.size)
        needed = math.ceil(PANEL_MIN / MAX_UPSCALE / CLOSE_UP_SHARE)
        why = (
            f"a photo with the product at least {needed} px across (it is {long_side}) gives "
            "a full close-up"
            if long_side < needed
            else f"no {math.ceil(PANEL_MIN / MAX_UPSCALE)} px window lies inside this slim "
            "or open product; a closer photo of its widest part gives a full close-up"
        )
        reasons.append(
            f"the detail close-up is shown at only {shown} px: the best window inside the "
            f"product is {side} px in the photo, and {PANEL_MIN} px would need "
            f"{PANEL_MIN / side:.2f}x enlargement (at most {MAX_UPSCALE}x); {why}"
        )
    if coverage < MIN_COVERAGE:
        reasons.append(
            f"the detail close-up is only {coverage:.0%} product (at least {MIN_COVERAGE:.0%} "
            "is wanted): the product is too slim or open for a close-up of it alone"
        )
    if detail_share < MIN_DETAIL_SHARE:
        reasons.append(
            f"the detail close-up is mostly flat: {detail_share:.1%} of it shows texture, "
            f"print or parts (at least {MIN_DETAIL_SHARE:.0%} is wanted); a photo showing the "
            "product's material or label up close gives a better one"
        )
    if cut:
        reasons.append(f"the detail close-up cuts through {cut} text block(s) on the product")
    return DetailChoice(window, upscale, shown, coverage, detail_share, held, cut, reasons)


def _window_sums(values: np.ndarray, side: int) -> np.ndarray:
    """Sum over every side x side window whose top-left corner is (row, col); pads short axes."""
    h, w = values.shape
    padded = np.zeros((max(h, side), max(w, side)), np.float32)
    padded[:h, :w] = values
    integral = cv2.integral(padded)
    return np.asarray(
        integral[side:, side:]
        - integral[:-side, side:]
        - integral[side:, :-side]
        + integral[:-side, :-side]
    )
