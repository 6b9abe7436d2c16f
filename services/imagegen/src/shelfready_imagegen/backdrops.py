"""Procedural surfaces for the scene image: wood, marble, linen, concrete, chosen by category.

Each surface is drawn at half the canvas size from seeded noise (the same product always gets
the same backdrop) and upscaled once; a wall above it, in a pale tint of the product's colour,
meets it at a soft horizon. How glossy a surface is decides the strength of the reflection.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

RGB = tuple[int, int, int]
NEAREST_FAR = 0.3  # how much nearer the front edge is than the horizon line (perspective)
PLANKS = 6  # wood planks across the drawn surface (before it is squeezed into perspective)


@dataclass(frozen=True)
class Surface:
    name: str
    gloss: float  # 0: matte (linen) .. 0.3: polished stone; the reflection's opacity


SURFACES = {
    "wood": Surface("wood", 0.10),
    "marble": Surface("marble", 0.24),
    "linen": Surface("linen", 0.0),
    "concrete": Surface("concrete", 0.05),
}
# Category words -> surface; the first match in the category path wins, wood otherwise.
CATEGORY_SURFACES = (
    (("beauty", "jewel", "watch", "cosmetic", "skin", "perfume", "fragrance"), "marble"),
    (
        ("shoe", "sneaker", "sport", "outdoor", "tool", "automotive", "bike", "electronic"),
        "concrete",
    ),
    (("bedding", "textile", "baby", "clothing", "apparel", "fashion", "towel", "candle"), "linen"),
    (("kitchen", "mug", "cup", "home", "garden", "food", "furniture", "toy"), "wood"),
)


def surface_for(category: str, product_type: str = "") -> Surface:
    text = f"{category} {product_type}".lower()
    for words, name in CATEGORY_SURFACES:
        if any(word in text for word in words):
            return SURFACES[name]
    return SURFACES["wood"]


def _noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> np.ndarray:
    small = rng.random((max(2, shape[0] // cell), max(2, shape[1] // cell))).astype(np.float32)
    return np.asarray(cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC))


def _fractal(
    rng: np.random.Generator, shape: tuple[int, int], cells: tuple[int, ...]
) -> np.ndarray:
    total = np.zeros(shape, np.float32)
    for i, cell in enumerate(cells):
        total += _noise(rng, shape, cell) / (i + 1)
    return np.asarray((total - total.min()) / max(1e-6, float(np.ptp(total))))


def texture(name: str, shape: tuple[int, int], seed: int) -> np.ndarray:
    """An RGB float32 texture in [0, 255] of (height, width) `shape`."""
    rng = np.random.default_rng(seed)
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    if name == "wood":
        # Planks run across the picture, their grain along them: each plank its own tone and
        # grain phase, a thin dark seam between planks (receding, the seams close up).
        plank = max(8, h // PLANKS)
        index = (y // plank).astype(int)
        tone = 1 + rng.normal(0, 0.05, index.max() + 1).astype(np.float32)
        phase = rng.uniform(0, 2 * np.pi, index.max() + 1).astype(np.float32)
        warp = _fractal(rng, shape, (160, 60)) * 9
        rings = np.sin((y % plank) * 0.22 + 0.01 * x + warp + phase[index])
        streaks = _noise(rng, (h, max(2, w // 40)), 1)  # long thin streaks along the grain
        streaks = cv2.resize(streaks, (w, h), interpolation=cv2.INTER_LINEAR)
        grain = 0.5 + 0.22 * rings + 0.28 * (streaks - 0.5) * 2
        fine = _noise(rng, shape, 2) * 0.08
        base = np.array([164, 116, 74], np.float32)
        dark = np.array([118, 78, 46], np.float32)
        out = dark + (base - dark) * (0.35 + 0.65 * grain[..., None]) + fine[..., None] * 80
        out *= tone[index][..., None]
        seam = ((y % plank) < 1.5).astype(np.float32)
        out *= (1 - 0.35 * seam)[..., None]
    elif name == "marble":
        # A few soft, wandering veins over a faint cloud: polished stone, not crackle.
        turbulence = _fractal(rng, shape, (260, 110, 40)) * 3.2
        veins = np.abs(np.sin((x + 0.6 * y) / 160.0 + turbulence))
        vein = np.clip(1 - veins / 0.08, 0, 1) ** 1.5
        cloud = _fractal(rng, shape, (180, 60)) * 16
        out = np.full((h, w, 3), 238.0, np.float32) - cloud[..., None]
        out -= vein[..., None] * np.array([46, 47, 50], np.float32)
    elif name == "linen":
        weave_x = 0.5 + 0.5 * np.sin(x * 1.6 + _noise(rng, shape, 30) * 3)
        weave_y = 0.5 + 0.5 * np.sin(y * 1.6 + _noise(rng, shape, 30) * 3)
        slub = _noise(rng, shape, 3)
        base = np.array([222, 214, 198], np.float32)
        out = base * (0.9 + 0.05 * weave_x + 0.05 * weave_y)[..., None]
        out -= (slub[..., None] - 0.5) * 14
    else:  # concrete
        mottle = _fractal(rng, shape, (200, 60, 15))
        pores = (_noise(rng, shape, 1) > 0.985).astype(np.float32)
        out = np.full((h, w, 3), 150.0, np.float32) + (mottle[..., None] - 0.5) * 42
        out -= pores[..., None] * 40
    return np.clip(out, 0, 255)


def backdrop(name: str, side: int, horizon: float, wall: RGB, seed: int) -> np.ndarray:
    """The wall (top) and the surface in perspective (bottom), RGB uint8, side x side."""
    half = side // 2
    surface_rows = max(8, round(half * (1 - horizon)))
    # The surface recedes: draw it taller than shown and squeeze it towards the horizon, as
    # a floor seen in perspective is (distance ~ 1 / rows below the horizon), so the far
    # planks are the thinnest.
    flat = texture(name, (surface_rows * 2, half), seed)
    near = np.linspace(NEAREST_FAR, 1.0, surface_rows)  # horizon first
    distance = (1 / near - 1) / (1 / NEAREST_FAR - 1)  # 1 at the horizon .. 0 in front
    rows = (1 - distance) * (flat.shape[0] - 1)
    # Each shown row averages the drawn rows it stands for: a fine weave squeezed towards the
    # horizon would otherwise alias into bands.
    edges = np.concatenate([[0.0], (rows[1:] + rows[:-1]) / 2, [flat.shape[0]]]).round()
    edges = np.maximum.accumulate(edges.astype(int))
    start, stop = edges[:-1], np.maximum(edges[1:], edges[:-1] + 1)
    summed = np.concatenate([np.zeros((1, *flat.shape[1:]), np.float32), np.cumsum(flat, axis=0)])
    surface = (summed[stop] - summed[start]) / (stop - start)[:, None, None]
    depth = np.linspace(0.82, 1.0, surface_rows, dtype=np.float32)[:, None, None]
    surface = surface * depth
    wall_rows = half - surface_rows
    gy = np.linspace(0, 1, wall_rows, dtype=np.float32)[:, None, None]
    wall_part = np.asarray(wall, np.float32) * (1.03 - 0.08 * gy) * np.ones((1, half, 1))
    image = np.concatenate([wall_part, surface], axis=0)
    # A soft key light from the front-left, falling off to the sides.
    lx = np.linspace(-1, 1, half, dtype=np.float32)[None, :, None]
    image *= 1.04 - 0.12 * (lx + 0.25) ** 2
    big = np.asarray(
        cv2.resize(
            np.clip(image, 0, 255).astype(np.uint8), (side, side), interpolation=cv2.INTER_CUBIC
        )
    )
    # The horizon as a soft contact line, not a hard cut.
    edge = round(side * horizon)
    band = slice(max(0, edge - 6), min(side, edge + 6))
    big[band] = cv2.GaussianBlur(big[max(0, edge - 30) : edge + 30], (0, 0), 4)[
        band.start - max(0, edge - 30) : band.stop - max(0, edge - 30)
    ]
    return np.asarray(big)
