"""The product's own colours, so backdrops and accents match it instead of fighting it."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    dominant: RGB  # the product's most common colour
    accent: RGB  # a saturated, mid-dark version of it for lines and markers
    backdrop_top: RGB  # a pale tint for a wall
    backdrop_bottom: RGB  # a slightly deeper tint for a surface


def product_palette(product: Image.Image, clusters: int = 4) -> Palette:
    """k-means over the opaque pixels of a small copy; the biggest cluster is the dominant one."""
    small = product.copy()
    small.thumbnail((160, 160))
    pixels = np.asarray(small.convert("RGBA")).reshape(-1, 4)
    opaque = pixels[pixels[:, 3] > 200, :3].astype(np.float32)
    if len(opaque) < clusters:
        dominant: RGB = (128, 128, 128)
    else:
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
        _, labels, centres = cv2.kmeans(  # type: ignore[call-overload]  # None labels
            opaque, clusters, None, criteria, 2, cv2.KMEANS_PP_CENTERS
        )
        counts = np.bincount(labels.ravel(), minlength=clusters)
        dominant = tuple(int(v) for v in centres[int(np.argmax(counts))])  # type: ignore[assignment]
    hue, _, saturation = colorsys.rgb_to_hls(*(c / 255.0 for c in dominant))
    return Palette(
        dominant=dominant,
        accent=_hls(hue, 0.35, max(0.45, min(0.8, saturation))),
        backdrop_top=_hls(hue, 0.95, min(0.35, saturation * 0.5)),
        backdrop_bottom=_hls(hue, 0.84, min(0.3, saturation * 0.45)),
    )


def _hls(hue: float, lightness: float, saturation: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
    return (round(r * 255), round(g * 255), round(b * 255))
