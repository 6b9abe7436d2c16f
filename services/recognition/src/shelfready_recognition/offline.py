"""Recognition without a network: a deterministic, clearly labelled guess from the pixels.

Used in demo mode and when no API key is set. Nothing here pretends to understand the photo:
the product box comes from where the photo differs from its background, the colours from a
palette reduction of that box, and the name from the file name or the seller's notes.
"""

from __future__ import annotations

import logging
import re
from pathlib import PurePath
from typing import cast

from PIL import Image, ImageChops, ImageFilter, ImageOps, ImageStat

from shelfready_core.ai import StageResult
from shelfready_core.schemas import BoundingBox, ListingRequest, ProductAnalysis
from shelfready_recognition.prepare import scale_box

logger = logging.getLogger(__name__)

OFFLINE_LABEL = "[offline analysis]"
OFFLINE_CONFIDENCE = 0.35
WORK_SIDE = 256  # the analysis copy's long edge: plenty for a box and a palette
BACKGROUND_THRESHOLD = 40  # max channel difference (0-255) that still counts as background
BORDER = 0.04  # the share of each side sampled as background
PALETTE_SIZE = 6
MIN_COLOUR_SHARE = 0.05  # palette colours covering less of the product are ignored

# Common colour names and a representative RGB each; the nearest one names a colour.
COLOUR_NAMES: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 20),
    "charcoal": (64, 64, 64),
    "gray": (128, 128, 128),
    "silver": (192, 192, 192),
    "white": (245, 245, 245),
    "red": (200, 30, 30),
    "dark red": (120, 20, 25),
    "pink": (240, 150, 180),
    "orange": (240, 130, 30),
    "brown": (120, 75, 40),
    "beige": (220, 200, 160),
    "yellow": (240, 220, 40),
    "olive": (120, 120, 40),
    "green": (40, 150, 60),
    "dark green": (20, 80, 40),
    "teal": (20, 130, 130),
    "light blue": (140, 190, 235),
    "blue": (40, 90, 200),
    "navy": (20, 30, 90),
    "purple": (120, 60, 160),
    "lavender": (190, 170, 225),
    "magenta": (200, 40, 150),
}
# Camera default names ("IMG_1234", "DSC0001", "PXL_2024...") say nothing about the product.
CAMERA_WORDS = {"img", "image", "dsc", "dscn", "dscf", "pxl", "photo", "pic", "picture", "scan"}


def colour_name(rgb: tuple[int, int, int]) -> str:
    return min(
        COLOUR_NAMES,
        key=lambda name: sum((a - b) ** 2 for a, b in zip(COLOUR_NAMES[name], rgb, strict=True)),
    )


def name_from_filename(filename: str) -> str | None:
    """'red-water-bottle.jpg' -> 'Red Water Bottle'; camera names and numbers -> None."""
    stem = PurePath(filename).stem
    words = [w for w in re.split(r"[\s_\-.+]+", stem) if re.search(r"[^\W\d_]", w)]
    words = [w for w in words if w.lower() not in CAMERA_WORDS]
    return " ".join(w[:1].upper() + w[1:].lower() for w in words) or None


def background_colour(image: Image.Image) -> tuple[int, int, int]:
    """The median colour of a thin frame around the image (product photos are centred)."""
    width, height = image.size
    frame = Image.new("L", image.size, 255)
    inset_x, inset_y = max(1, round(width * BORDER)), max(1, round(height * BORDER))
    frame.paste(0, (inset_x, inset_y, width - inset_x, height - inset_y))
    median = ImageStat.Stat(image, mask=frame).median
    return int(median[0]), int(median[1]), int(median[2])


def product_box(image: Image.Image, background: tuple[int, int, int]) -> BoundingBox | None:
    """The box around everything that differs clearly from the background colour."""
    difference = ImageChops.difference(image, Image.new("RGB", image.size, background))
    red, green, blue = difference.split()
    strongest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    # The median filter drops isolated noisy pixels (JPEG noise, dust) before thresholding.
    mask = strongest.filter(ImageFilter.MedianFilter(3)).point(
        lambda v: 255 if v > BACKGROUND_THRESHOLD else 0
    )
    bbox = mask.getbbox()
    if bbox is None:
        return None
    left, top, right, bottom = bbox
    return BoundingBox(x=left, y=top, width=right - left, height=bottom - top)


def dominant_colours(region: Image.Image, background: tuple[int, int, int]) -> list[str]:
    """Names of the palette colours covering a fair share of the region, most common first,
    leaving out the backdrop showing around the product inside its box."""
    palette_image = region.quantize(colors=PALETTE_SIZE, method=Image.Quantize.MEDIANCUT)
    # As RGB, getcolors gives (count, (r, g, b)) for each of the few palette colours.
    counts = cast(
        list[tuple[int, tuple[int, int, int]]],
        palette_image.convert("RGB").getcolors(PALETTE_SIZE) or [],
    )
    total = sum(count for count, _ in counts) or 1
    shares = [(rgb, count / total) for count, rgb in sorted(counts, reverse=True)]
    fair = [rgb for rgb, share in shares if share >= MIN_COLOUR_SHARE]
    not_backdrop = [
        rgb
        for rgb in fair
        if max(abs(a - b) for a, b in zip(rgb, background, strict=True)) > BACKGROUND_THRESHOLD
    ]
    # A product the colour of its backdrop (white on white) still has a colour.
    return list(dict.fromkeys(colour_name(rgb) for rgb in not_backdrop or fair))


class OfflineRecognizer:
    """No network, no model: the same photo and request always give the same answer."""

    def recognize(
        self, image: Image.Image, *, filename: str, request: ListingRequest
    ) -> StageResult[ProductAnalysis]:
        upright = ImageOps.exif_transpose(image).convert("RGB")
        width, height = upright.size
        small = upright.copy()
        small.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
        background = background_colour(small)
        small_box = product_box(small, background)
        region, box = small, None
        if small_box is not None:
            sb = small_box
            region = small.crop((sb.x, sb.y, sb.x + sb.width, sb.y + sb.height))
            box = scale_box(sb, (small.width / width, small.height / height), (width, height))
        colours = dominant_colours(region, background)

        known_name = request.product_name or name_from_filename(filename)
        name = known_name or "Unidentified product"
        colour_words = {word for colour in COLOUR_NAMES for word in colour.split()}
        type_words = [w for w in name.lower().split() if w not in colour_words]
        # The last words of a name are usually the kind of thing ("... Water Bottle").
        product_type = " ".join(type_words[-2:]) if known_name and type_words else "product"
        keywords = list(dict.fromkeys([product_type, name.lower(), *colours]))
        analysis = ProductAnalysis(
            product_type=product_type,
            product_name=name,
            category=request.category or "Uncategorized",
            colors=colours,
            keywords=keywords,
            bounding_box=box,
            confidence=OFFLINE_CONFIDENCE,
            description=(
                f"{OFFLINE_LABEL} {name}: a {width}x{height} photo, main colours "
                f"{', '.join(colours) or 'unknown'}. No AI model looked at this photo; the "
                f"fields are estimated from the file name, the seller's notes and the pixels."
            ),
        )
        hex_background = "#{:02x}{:02x}{:02x}".format(*background)
        logger.info("offline analysis of %r: %s, background %s", filename, name, hex_background)
        notes: dict[str, object] = {
            "offline": True,
            "background": hex_background,
            "analysed_size": [small.width, small.height],
        }
        return StageResult(value=analysis, usage=[], notes=notes)
