"""The scene with a backdrop painted by the image API and the product's own pixels on top.

The API is sent a plate: the cut-out where the local scene would stand it, everything else
transparent (the area it may paint, sent as the mask too). Whatever comes back, the product is
pasted over it again at full resolution, so the API stages and lights the product but can
never redraw it (a marketplace rejects an image that is not the product sold).

Image models like to add a reflection, a sign or a caption, and a reflection of a label reads
backwards. The painted setting is read by the text detector before the product goes back on:
any text off the product makes it a failed answer (`PaintedText`), and the image set renders
the scene locally instead, saying why.
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

from shelfready_imagegen import text_detect
from shelfready_imagegen.canvas import CANVAS_SIDE, decode, paste
from shelfready_imagegen.image_api import SecondaryImageProvider
from shelfready_imagegen.photo import to_rgb_or_rgba
from shelfready_imagegen.render_context import RenderContext
from shelfready_imagegen.render_scene import scene_layout

API_SIDE = 1024  # image APIs work at ~1024 px; a bigger plate only costs upload time
KEEP_PRODUCT = (
    "Paint only the transparent area: a setting, surface and light for the product. "
    "Leave the product exactly as it is. No text, signs, logos, watermarks, and no reflection "
    "or mirrored copy of the product."
)
FOOTPRINT_MARGIN = 0.02  # of the canvas: text this near the product counts as the product's
ON_PRODUCT = 0.5  # a text line at least this much inside the footprint is the product's own


class PaintedText(RuntimeError):
    """The image API painted text (a caption, a sign, a mirrored label) into the setting."""


def render_api_scene(
    context: RenderContext, provider: SecondaryImageProvider, prompt: str
) -> Image.Image:
    product, position = scene_layout(context)
    plate = scene_plate(product, position)
    data = provider.generate(
        kind="scene", prompt=f"{prompt.strip()} {KEEP_PRODUCT}".strip(), reference=plate, mask=plate
    )
    canvas = to_canvas(decode(data))
    refuse_painted_text(canvas, product, position)
    paste(canvas, product, position)  # the product pixels are ours, whatever the API drew
    return canvas


def refuse_painted_text(
    canvas: Image.Image, product: Image.Image, position: tuple[int, int]
) -> None:
    """Raise PaintedText when the painted setting holds text off the product's footprint."""
    placed = np.zeros((canvas.height, canvas.width), np.uint8)
    left, top = position
    solid = (np.asarray(product.getchannel("A")) > 0).astype(np.uint8)
    placed[top : top + product.height, left : left + product.width] = solid[
        : canvas.height - top, : canvas.width - left
    ]
    grow = max(1, round(FOOTPRINT_MARGIN * canvas.width))
    footprint = np.asarray(cv2.dilate(placed, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)))
    painted = np.asarray(canvas.convert("RGB")).copy()
    painted[footprint > 0] = 128  # whatever the API drew over the product is replaced anyway
    try:
        boxes = text_detect.text_boxes(painted)
    except text_detect.TextModelUnavailable as exc:
        raise PaintedText(f"its setting could not be checked for text ({exc})") from exc
    off = [
        (x0, y0, x1, y1)
        for x0, y0, x1, y1 in boxes
        if footprint[y0:y1, x0:x1].size and float(footprint[y0:y1, x0:x1].mean()) < ON_PRODUCT
    ]
    if off:
        raise PaintedText(
            f"it painted {len(off)} line(s) of text into the setting (a caption, a sign or a "
            "mirrored reflection of the label)"
        )


def scene_plate(product: Image.Image, position: tuple[int, int], side: int = API_SIDE) -> bytes:
    """PNG: the product at `position` (canvas pixels) scaled to `side`, the rest transparent."""
    scale = side / CANVAS_SIDE
    small = product.resize(
        (max(1, round(product.width * scale)), max(1, round(product.height * scale))),
        Image.Resampling.LANCZOS,
    )
    plate = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    plate.alpha_composite(small, (round(position[0] * scale), round(position[1] * scale)))
    buffer = io.BytesIO()
    plate.save(buffer, "PNG")
    return buffer.getvalue()


def to_canvas(image: Image.Image, side: int = CANVAS_SIDE) -> Image.Image:
    """Scale an API image to fit the square canvas and pad it with its own border colour."""
    image = to_rgb_or_rgba(image).convert("RGB")
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    image = image.resize(size, Image.Resampling.LANCZOS)
    if size == (side, side):
        return image
    edge = image.crop((0, 0, image.width, 1)).resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    canvas = Image.new("RGB", (side, side), edge)
    canvas.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return canvas
