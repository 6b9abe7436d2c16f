"""Synthetic 24-megapixel product photos: a lit backdrop, a product with printed detail, and
sensor noise, so the JPEG is as large and as costly to decode as a phone photo of that size."""

from __future__ import annotations

import logging
import random
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

log = logging.getLogger(__name__)

PHOTO_SIZE = (6000, 4000)  # 24 MP, 3:2 like most phone and camera sensors
JPEG_QUALITY = 90
NOISE_SIGMA = 10  # per-pixel noise: what makes real photos big and slow to decode


def make_photo(path: Path, seed: int, size: tuple[int, int] = PHOTO_SIZE) -> Path:
    rng = random.Random(seed)
    width, height = size
    backdrop = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    tint = tuple(rng.randint(150, 235) for _ in range(3))
    image = Image.merge(
        "RGB", [backdrop.point(lambda v, c=c: c - 40 + v * 50 // 255) for c in tint]
    )
    draw = ImageDraw.Draw(image)
    body = (
        width * rng.uniform(0.25, 0.35),
        height * rng.uniform(0.15, 0.25),
        width * rng.uniform(0.65, 0.75),
        height * rng.uniform(0.8, 0.9),
    )
    colour = tuple(rng.randint(20, 200) for _ in range(3))
    draw.rounded_rectangle(body, radius=int(width * 0.03), fill=colour)
    _print_label(draw, body, rng)
    image = image.filter(ImageFilter.GaussianBlur(1.2))  # optics: no perfectly sharp edges
    noise = Image.effect_noise(size, NOISE_SIGMA).convert("RGB")
    image = ImageChops.add(image, noise, scale=1.0, offset=-128)
    image.save(path, "JPEG", quality=JPEG_QUALITY)
    log.debug("wrote %s (%d bytes)", path, path.stat().st_size)
    return path


def _print_label(draw: ImageDraw.ImageDraw, body: tuple[float, ...], rng: random.Random) -> None:
    """Stripes and lines of small text: the fine detail a product label has."""
    left, top, right, bottom = body
    font = ImageFont.load_default(size=48)
    y = top + 80
    while y < bottom - 80:
        if rng.random() < 0.3:
            draw.rectangle((left + 60, y, right - 60, y + 24), fill=(240, 240, 235))
        else:
            text = " ".join(f"{rng.randrange(10**6):06d}" for _ in range(12))
            draw.text((left + 80, y), text, fill=(250, 250, 250), font=font)
        y += 70


def make_photos(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [make_photo(folder / f"photo-{index}.jpg", seed=index) for index in range(count)]
