"""Marketplace checks on an encoded image (Amazon's main-image rules are the strictest we serve).

All images: at least 1000 px on the long side (2000 recommended), JPEG or PNG, at most 10 MB.
Main image, in addition:
- pure white background: at least 99.5% of the pixels in the outer band (2% of each side, 40 px
  at 2000 px) must be exactly (255, 255, 255). The 0.5% slack tolerates a product that touches
  the band at one spot, not a grey or off-white backdrop;
- fill: the product's bounding box (pixels differing from the border's colour) must span at
  least 85% of the frame on its longer side;
- not cut at the edges: the product must not touch the frame;
- no text or watermark: PP-OCR's text detector (text_detect.py) finds text lines; a line that
  lies mostly off the product (a caption, a watermark on the white, one across the product's
  edge) fails. Text printed *on* the product is allowed by the rules; a watermark wholly
  inside the product cannot be told from its label and is not caught. Without the detector,
  a heuristic runs instead: a row of three or more similar-sized marks apart from the product;
- the cut-out it was made from must be trusted: a cut-out marked for review (cutout_quality)
  makes the main image fail with that reason, whatever the pixels say.
"""

from __future__ import annotations

import io
import logging

import cv2
import numpy as np
from PIL import Image
from pydantic import BaseModel, Field

from shelfready_imagegen.text_detect import TextModelUnavailable, text_boxes

logger = logging.getLogger(__name__)

MIN_LONG_SIDE = 1000
RECOMMENDED_LONG_SIDE = 2000
MAX_FILE_BYTES = 10 * 1024 * 1024
ALLOWED_FORMATS = ("JPEG", "PNG")
BORDER_BAND_SHARE = 0.02
MIN_WHITE_RATIO = 0.995
MIN_FILL_RATIO = 0.85
FOREGROUND_TOLERANCE = 12  # per-channel difference from the background that counts as product
MAX_TEXT_LINE_SHARE = 0.1  # of the long side: the most a text line's short side can be
MAX_TEXT_ON_PRODUCT_SHARE = 0.5  # a text line less than half on the product is not its label


class ComplianceReport(BaseModel):
    width: int
    height: int
    format: str
    file_bytes: int
    background_white_ratio: float | None = Field(None, description="main only")
    fill_ratio: float | None = Field(None, description="main only")
    text_regions: int | None = Field(None, description="main only: text lines off the product")
    cutout_confidence: float | None = Field(None, description="main only: cut-out confidence")
    passed: bool
    reasons: list[str] = Field(default_factory=list)


def border_band(height: int, width: int) -> np.ndarray:
    """Boolean mask of the outer band whose pixels must be pure white on a main image."""
    band = max(4, round(min(height, width) * BORDER_BAND_SHARE))
    mask = np.zeros((height, width), bool)
    mask[:band], mask[-band:], mask[:, :band], mask[:, -band:] = True, True, True, True
    return mask


def check_image(
    data: bytes,
    kind: str,
    *,
    cutout_confidence: float | None = None,
    cutout_reasons: list[str] | None = None,
) -> ComplianceReport:
    """The marketplace verdict on an encoded image; for the main image, pass the cut-out's
    confidence and review reasons so an untrusted cut-out can never be reported compliant."""
    reasons: list[str] = []
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as exc:
        return ComplianceReport(
            width=0,
            height=0,
            format="unknown",
            file_bytes=len(data),
            passed=False,
            reasons=[f"not a decodable image ({exc.__class__.__name__})"],
        )
    fmt = image.format or "unknown"
    width, height = image.size
    if max(width, height) < MIN_LONG_SIDE:
        reasons.append(
            f"long side is {max(width, height)} px; at least {MIN_LONG_SIDE} px is required "
            f"for zoom ({RECOMMENDED_LONG_SIDE} recommended)"
        )
    if fmt not in ALLOWED_FORMATS:
        reasons.append(f"format {fmt} is not allowed; use JPEG or PNG")
    if len(data) > MAX_FILE_BYTES:
        reasons.append(f"file is {len(data)} bytes; the limit is {MAX_FILE_BYTES} bytes (10 MB)")
    white_ratio = fill_ratio = None
    text_regions = None
    if kind == "main":
        pixels = np.asarray(_flatten(image))
        white_ratio, fill_ratio, text_regions, main_reasons = _check_main(pixels)
        reasons.extend(main_reasons)
        reasons.extend(cutout_reasons or [])
    return ComplianceReport(
        width=width,
        height=height,
        format=fmt,
        file_bytes=len(data),
        background_white_ratio=white_ratio,
        fill_ratio=fill_ratio,
        text_regions=text_regions,
        cutout_confidence=cutout_confidence if kind == "main" else None,
        passed=not reasons,
        reasons=reasons,
    )


def _flatten(image: Image.Image) -> Image.Image:
    """RGB as a marketplace shows it: transparency lies over white."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        return white.convert("RGB")
    return image.convert("RGB")


def _check_main(pixels: np.ndarray) -> tuple[float, float, int | None, list[str]]:
    reasons: list[str] = []
    height, width = pixels.shape[:2]
    band = border_band(height, width)
    band_pixels = pixels[band]
    white_ratio = float((band_pixels.min(axis=-1) == 255).mean())
    if white_ratio < MIN_WHITE_RATIO:
        reasons.append(
            f"background is not pure white: {white_ratio:.1%} of the border is RGB 255,255,255 "
            f"(needs {MIN_WHITE_RATIO:.1%})"
        )
    background = np.median(band_pixels, axis=0).astype(np.uint8)
    difference = cv2.absdiff(pixels, np.full_like(pixels, background)).max(axis=-1)
    foreground = difference > FOREGROUND_TOLERANCE
    fill_ratio = _fill_ratio(foreground)
    if fill_ratio < MIN_FILL_RATIO:
        reasons.append(
            f"product fills {fill_ratio:.0%} of the frame on its longer side; "
            f"at least {MIN_FILL_RATIO:.0%} is required"
        )
    edges = _edge_contact(foreground)
    if edges:
        reasons.append(f"the product is cut at the image's edge ({', '.join(edges)})")
    text_regions = None
    try:
        lines = _text_off_product(pixels, foreground)
    except TextModelUnavailable as exc:
        logger.warning("text detector unavailable (%s); using the glyph heuristic", exc)
        if has_text_outside_product(foreground):
            reasons.append("text or a watermark appears outside the product")
    else:
        text_regions = len(lines)
        if lines:
            x0, y0, x1, y1 = max(lines, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))
            reasons.append(
                f"text or a watermark on the main image: {len(lines)} text line(s) off the "
                f"product (largest {x1 - x0}x{y1 - y0} px at {x0},{y0})"
            )
    return round(white_ratio, 4), round(fill_ratio, 4), text_regions, reasons


def _filled(product: np.ndarray) -> np.ndarray:
    """The product with its enclosed openings (a mug handle's) counted as product."""
    outside = (~product).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(outside, connectivity=4)
    h, w = product.shape
    filled = product.copy()
    for label in range(1, count):
        x, y, bw, bh, _area = stats[label]
        if x > 0 and y > 0 and x + bw < w and y + bh < h:
            filled[labels == label] = True
    return filled


def _edge_contact(foreground: np.ndarray) -> list[str]:
    """The sides of the frame the product touches (more than a stray pixel or two)."""
    sides = {
        "top": foreground[0],
        "bottom": foreground[-1],
        "left": foreground[:, 0],
        "right": foreground[:, -1],
    }
    return [f"{name} {int(line.sum())} px" for name, line in sides.items() if line.sum() > 2]


def _text_off_product(
    pixels: np.ndarray, foreground: np.ndarray
) -> list[tuple[int, int, int, int]]:
    """Text lines that lie mostly off the product (the product: the foreground's big pieces)."""
    boxes = text_boxes(pixels)
    if not boxes:
        return []
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        foreground.astype(np.uint8), connectivity=8
    )
    areas = stats[1:, cv2.CC_STAT_AREA] if count > 1 else np.zeros(0)
    big = np.zeros(count, bool)
    if areas.size:
        big[1:] = areas >= 0.05 * areas.max()
    product = _filled(big[labels])
    side = max(pixels.shape[:2])
    off = []
    for left, top, right, bottom in boxes:
        if min(right - left, bottom - top) > MAX_TEXT_LINE_SHARE * side:
            continue  # no caption is that thick: a curve of the product the detector took
        window = product[top:bottom, left:right]
        # Solid product area under the line: a label printed on the product sits on it.
        if window.size and float(window.mean()) < MAX_TEXT_ON_PRODUCT_SHARE:
            off.append((left, top, right, bottom))
    return off


def _fill_ratio(foreground: np.ndarray) -> float:
    rows = np.flatnonzero(foreground.any(axis=1))
    cols = np.flatnonzero(foreground.any(axis=0))
    if rows.size == 0:
        return 0.0
    height, width = foreground.shape
    return max((rows[-1] - rows[0] + 1) / height, (cols[-1] - cols[0] + 1) / width)


def has_text_outside_product(foreground: np.ndarray) -> bool:
    """True when three or more glyph-sized marks, apart from the product, stand in a row."""
    height, width = foreground.shape
    count, _, stats, _ = cv2.connectedComponentsWithStats(
        foreground.astype(np.uint8), connectivity=8
    )
    if count <= 2:
        return False
    side = max(height, width)
    largest = stats[1:, cv2.CC_STAT_AREA].max()
    glyphs = [
        stats[label]
        for label in range(1, count)
        if stats[label, cv2.CC_STAT_AREA] < 0.1 * largest
        and 0.008 * side <= stats[label, cv2.CC_STAT_HEIGHT] <= 0.12 * side
        and stats[label, cv2.CC_STAT_WIDTH] <= 0.2 * side
    ]
    if len(glyphs) < 3:
        return False
    glyphs = glyphs[:400]  # bounded pairing cost; a caption has far fewer marks
    # Link marks of similar height whose vertical centres line up and that sit close together.
    parent = list(range(len(glyphs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(glyphs):
        for j in range(i + 1, len(glyphs)):
            b = glyphs[j]
            ha, hb = a[cv2.CC_STAT_HEIGHT], b[cv2.CC_STAT_HEIGHT]
            if max(ha, hb) > 1.8 * min(ha, hb):
                continue
            centre_a = a[cv2.CC_STAT_TOP] + ha / 2
            centre_b = b[cv2.CC_STAT_TOP] + hb / 2
            gap = max(
                b[cv2.CC_STAT_LEFT] - (a[cv2.CC_STAT_LEFT] + a[cv2.CC_STAT_WIDTH]),
                a[cv2.CC_STAT_LEFT] - (b[cv2.CC_STAT_LEFT] + b[cv2.CC_STAT_WIDTH]),
            )
            if abs(centre_a - centre_b) <= 0.5 * max(ha, hb) and gap <= 1.5 * max(ha, hb):
                parent[root(i)] = root(j)
    groups: dict[int, int] = {}
    for i in range(len(glyphs)):
        groups[root(i)] = groups.get(root(i), 0) + 1
    return max(groups.values()) >= 3
