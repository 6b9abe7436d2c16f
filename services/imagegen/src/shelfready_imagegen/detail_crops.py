"""Where the detail image looks: a window of the photo's own pixels, inside the product.

The cut-out carries the photo's pixels at the resolution they were decoded at (up to 3000 px),
so a window of it is a crop of the original photo, not of a resized copy. Candidate windows,
square, landscape and portrait (ASPECTS: a slim lamp or a headphone's ear cup holds a tall
window where no square one fits), from CLOSE_UP_SHARE of the product's long side down, are
scored on a small copy:

- mask coverage: a window must be at least MIN_COVERAGE product (the cut-out's alpha), so the
  close-up never shows the background;
- detail: the share of its pixels where the photo has texture, print, seams or parts (a
  Laplacian response above noise), the silhouette against the background excluded;
- text integrity: a window never cuts through a text block (lines found by text_detect,
  neighbouring lines of one label merged): it holds a block whole or stays clear of it.

A window is shown at most MAX_UPSCALE times its photo size and at most PANEL_MAX px on its long
side, so a window that cannot fill the area of a PANEL_MIN px square at that scale, covers too
little product, or is mostly flat still gives a detail image, with reasons a person can act on
(`DetailChoice.reasons`).
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
CLOSE_UP_SHARE = 0.6  # the largest window's long side, as a share of the product's long side
SMALLEST_SHARE = 0.2  # ... and the smallest searched (its mean side)
# Window shapes, width / height. Sizes are compared by the window's mean side (the square root
# of its area), so a tall window ranks against a square one of the same area.
ASPECTS = (1.0, 4 / 3, 3 / 4, 3 / 2, 2 / 3, 2.0, 1 / 2)
SIZE_STEP = 0.88  # each candidate size is this share of the one before
MIN_COVERAGE = 0.9
MIN_DETAIL_SHARE = 0.04  # below this share of detailed pixels a window is "mostly flat"
SEARCH_SIDE = 512  # the maps are searched at this long side
DETAIL_RESPONSE = 12  # grey levels of |Laplacian| (after a light blur) that count as detail
TEXT_GUARD = 0.3  # of a text block's line height: how near a window's edge may come to it
TEXT_BLOCK_GAP = 1.0  # lines closer than this many line heights form one block (a label)

Box = tuple[int, int, int, int]
Size = tuple[int, int]  # width, height


@dataclass(frozen=True)
class DetailChoice:
    window: Box  # (left, top, right, bottom) in cut-out pixels; may stick out of a slim product
    scale: float  # canvas px per photo px, at most MAX_UPSCALE
    shown_size: tuple[int, int]  # the close-up's width and height on the canvas
    coverage: float  # share of the window that is product
    detail_share: float  # share of the window with texture, print or parts
    text_blocks: int  # text blocks wholly inside the window
    text_cut: int  # text blocks the window cuts (0 unless no window avoids it)
    reasons: list[str] = field(default_factory=list)  # why a person should look; [] when none

    def report(self) -> dict[str, object]:
        """The measured figures, for the image's compliance entry."""
        return {
            "window": list(self.window),
            "window_size": [self.window[2] - self.window[0], self.window[3] - self.window[1]],
            "upscale": round(self.scale, 3),
            "shown_size": list(self.shown_size),
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
    best: tuple[tuple[int, float], Size, int, int] | None = None  # (rank, size, left, top)
    fallback: tuple[float, Size, int, int] | None = None
    for size in _sizes(long_side):
        w_small, h_small = (max(2, round(side * scale)) for side in size)
        coverage = _window_sums(cover, w_small, h_small) / float(w_small * h_small)
        energy = _window_sums(detail, w_small, h_small)
        # The cut-out's origin maps to the small map's; window positions in cut-out px:
        lefts = np.arange(coverage.shape[1]) / scale
        tops = np.arange(coverage.shape[0]) / scale
        cut = _cuts_text(blocks, lefts, tops, size)
        valid = (coverage >= MIN_COVERAGE) & ~cut
        row, col = np.unravel_index(int(np.argmax(coverage - cut)), coverage.shape)
        candidate = float(coverage[row, col] - cut[row, col])
        if fallback is None or candidate > fallback[0] + 1e-6:
            fallback = (candidate, size, int(col), int(row))
        if not valid.any():
            continue
        # Detail per unit of mean side: widening a window over flat area lowers it, over more
        # texture raises it; a window shown below PANEL_MIN ranks after every one that is not.
        score = np.where(valid, energy / math.sqrt(w_small * h_small), -1.0)
        row, col = np.unravel_index(int(np.argmax(score)), score.shape)
        small_tier = 0 if _mean_side(size) * MAX_UPSCALE >= PANEL_MIN else 1
        rank = (small_tier, -float(score[row, col]))
        if best is None or rank < best[0]:
            best = (rank, size, int(col), int(row))
    assert fallback is not None  # _sizes is never empty
    _, size, left, top = best if best is not None else fallback
    window = _place(size, left / scale, top / scale, width, height)
    return _measure(product, window, blocks, cover, detail, scale)


def _mean_side(size: Size) -> float:
    return math.sqrt(size[0] * size[1])


def _sizes(long_side: int) -> list[Size]:
    """Candidate windows (width, height in cut-out px), each shape largest first: the long
    side at most CLOSE_UP_SHARE of the product's and PANEL_MAX (shown at 1.0x or more)."""
    largest = min(PANEL_MAX, CLOSE_UP_SHARE * long_side)
    smallest = max(32.0, SMALLEST_SHARE * long_side)
    sizes: list[Size] = []
    for aspect in ASPECTS:
        stretch = math.sqrt(max(aspect, 1 / aspect))  # long side / mean side
        mean = largest / stretch
        while True:
            sizes.append(
                (max(8, round(mean * math.sqrt(aspect))), max(8, round(mean / math.sqrt(aspect))))
            )
            mean *= SIZE_STEP
            if mean < smallest - 0.5:
                break
    return sizes


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


def _cuts_text(blocks: list[Box], lefts: np.ndarray, tops: np.ndarray, size: Size) -> np.ndarray:
    """True where a window (rows: tops, columns: lefts) comes near a block without holding it."""
    w, h = size
    cut = np.zeros((len(tops), len(lefts)), bool)
    for block in blocks:
        x0, y0, x1, y1 = _guard(block)
        meets_x = (lefts < x1) & (lefts + w > x0)
        meets_y = (tops < y1) & (tops + h > y0)
        holds_x = (lefts <= block[0]) & (lefts + w >= block[2])
        holds_y = (tops <= block[1]) & (tops + h >= block[3])
        cut |= np.outer(meets_y, meets_x) & ~np.outer(holds_y, holds_x)
    return cut


def _place(size: Size, left: float, top: float, width: int, height: int) -> Box:
    """The window in cut-out px, inside the cut-out (centred on an axis it is wider than)."""
    w, h = size
    x0 = (width - w) // 2 if w > width else min(max(0, round(left)), width - w)
    y0 = (height - h) // 2 if h > height else min(max(0, round(top)), height - h)
    return (x0, y0, x0 + w, y0 + h)


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
    w, h = x1 - x0, y1 - y0
    alpha = _alpha(product)
    inside = alpha[max(0, y0) : y1, max(0, x0) : x1] >= 128
    coverage = float(inside.sum()) / float(w * h)
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
    upscale = min(MAX_UPSCALE, PANEL_MAX / max(w, h))
    shown = (round(w * upscale), round(h * upscale))
    reasons = []
    mean_shown = math.sqrt(shown[0] * shown[1])
    if mean_shown < PANEL_MIN - 0.5:
        long_side = max(product.size)
        needed = math.ceil(PANEL_MIN / MAX_UPSCALE / CLOSE_UP_SHARE)
        why = (
            f"a photo with the product at least {needed} px across (it is {long_side}) gives "
            "a full close-up"
            if long_side < needed
            else f"no window of {math.ceil(PANEL_MIN / MAX_UPSCALE)} px square's area lies "
            "inside this slim or open product; a closer photo of its widest part gives a full "
            "close-up"
        )
        reasons.append(
            f"the detail close-up is shown at only {shown[0]}x{shown[1]} px: the best window "
            f"inside the product is {w}x{h} px in the photo, and the area of a {PANEL_MIN} px "
            f"square would need {PANEL_MIN / math.sqrt(w * h):.2f}x enlargement "
            f"(at most {MAX_UPSCALE}x); {why}"
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


def _window_sums(values: np.ndarray, w: int, h: int) -> np.ndarray:
    """Sum over every w x h window whose top-left corner is (row, col); pads short axes."""
    rows, cols = values.shape
    padded = np.zeros((max(rows, h), max(cols, w)), np.float32)
    padded[:rows, :cols] = values
    integral = cv2.integral(padded)
    return np.asarray(integral[h:, w:] - integral[:-h, w:] - integral[h:, :-w] + integral[:-h, :-w])
