"""Make the cluttered test photos with known product boxes (tests/imagegen/photos/).

Each photo is a product drawn with shading (cup and saucer, mug beside a notebook, bicycle,
sneaker, white-on-white items, glassware, bottle) in front of a scene that makes cut-outs hard:
wood grain, a garage with shelves and boxes, grass, carpet, stripes, gravel, a white sweep.
The background is drawn, then blurred as a camera's depth of field would; the product stays
sharp. The true box is the extent of the product's own layer. Deterministic (seeded):

    uv run --frozen python scripts/make_cutout_photos.py

writes the JPEGs and boxes.json (true box, plus the box a vision model might give: shifted
and resized by a few per cent, or none).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

OUT = Path(__file__).resolve().parents[1] / "tests" / "imagegen" / "photos"
W, H = 640, 480
SS = 2  # supersampling of the product layer


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- backgrounds


def _noise(rng: np.random.Generator, shape: tuple[int, int], scale: int) -> np.ndarray:
    small = rng.random((max(2, shape[0] // scale), max(2, shape[1] // scale))).astype(np.float32)
    return np.asarray(Image.fromarray(small).resize((shape[1], shape[0]), Image.Resampling.BICUBIC))


def wood(rng: np.random.Generator) -> Image.Image:
    y, _ = np.mgrid[0:H, 0:W].astype(np.float32)
    warp = _noise(rng, (H, W), 40) * 30
    grain = np.sin((y + warp) / 5.0 + _noise(rng, (H, W), 8) * 2) * 0.5 + 0.5
    base = np.array(rng.choice([[150, 100, 60], [120, 80, 50], [175, 130, 85]]), np.float32)
    img = base * (0.75 + 0.35 * grain[..., None])
    wall_h = int(H * rng.uniform(0.2, 0.35))
    img[:wall_h] = np.array([200, 195, 185]) * (0.9 + 0.1 * _noise(rng, (wall_h, W), 60)[..., None])
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def garage(rng: np.random.Generator) -> Image.Image:
    img = Image.new("RGB", (W, H), (120, 120, 115))
    d = ImageDraw.Draw(img)
    d.rectangle((0, int(H * 0.7), W, H), fill=(90, 90, 88))  # concrete floor
    for shelf_y in (60, 150, 240):  # shelves full of boxes and cans
        d.rectangle((0, shelf_y, W, shelf_y + 8), fill=(70, 50, 30))
        x = int(rng.integers(0, 30))
        while x < W:
            bw, bh = int(rng.integers(25, 70)), int(rng.integers(25, 75))
            colour = tuple(int(c) for c in rng.integers(40, 230, 3))
            d.rectangle((x, shelf_y - bh, x + bw, shelf_y), fill=colour, outline=(30, 30, 30))
            x += bw + int(rng.integers(2, 20))
    for _ in range(5):  # boxes on the floor
        bx, by = int(rng.integers(0, W - 80)), int(rng.integers(int(H * 0.6), H - 60))
        d.rectangle((bx, by, bx + 90, by + 60), fill=(160, 120, 70), outline=(90, 60, 30))
    return img


def grass(rng: np.random.Generator) -> Image.Image:
    n = _noise(rng, (H, W), 3) * 0.6 + _noise(rng, (H, W), 25) * 0.4
    img = np.stack([40 + 60 * n, 90 + 110 * n, 30 + 40 * n], -1)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def carpet(rng: np.random.Generator) -> Image.Image:
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    pattern = (np.sin(x / 9) * np.sin(y / 9) > 0).astype(np.float32)
    diamonds = ((np.abs((x % 60) - 30) + np.abs((y % 60) - 30)) < 18).astype(np.float32)
    a = np.array(rng.integers(60, 200, 3), np.float32)
    b = np.array(rng.integers(60, 200, 3), np.float32)
    img = a * pattern[..., None] + b * (1 - pattern[..., None])
    img = img * (1 - diamonds[..., None]) + np.array([220, 200, 80]) * diamonds[..., None]
    img *= 0.85 + 0.3 * _noise(rng, (H, W), 2)[..., None]
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def stripes(rng: np.random.Generator) -> Image.Image:
    x = np.arange(W, dtype=np.float32)
    band = ((x // rng.integers(12, 30)) % 2).astype(np.float32)
    a, b = np.array([230, 60, 50], np.float32), np.array([240, 240, 235], np.float32)
    row = a * band[:, None] + b * (1 - band[:, None])
    return Image.fromarray(np.repeat(row[None], H, 0).astype(np.uint8))


def gravel(rng: np.random.Generator) -> Image.Image:
    img = Image.new("RGB", (W, H), (130, 125, 118))
    d = ImageDraw.Draw(img)
    for _ in range(2500):
        cx, cy, r = rng.integers(0, W), rng.integers(0, H), rng.integers(2, 8)
        grey = int(rng.integers(70, 210))
        d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(grey, grey - 5, grey - 12))
    return img


def white_sweep(rng: np.random.Generator) -> Image.Image:
    y = np.linspace(0, 1, H, dtype=np.float32)[:, None, None]
    img = np.full((H, W, 3), 246.0, np.float32) - 14 * (y - 0.3) ** 2
    return Image.fromarray(np.clip(img + rng.normal(0, 1.2, img.shape), 0, 255).astype(np.uint8))


def marble(rng: np.random.Generator) -> Image.Image:
    y, x = np.mgrid[0:H, 0:W].astype(np.float32)
    veins = np.abs(np.sin((x + y) / 40 + _noise(rng, (H, W), 30) * 6))
    img = np.full((H, W, 3), 225.0) - 60 * (veins < 0.08)[..., None] * rng.uniform(0.4, 1)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).filter(ImageFilter.BLUR)


# ---------------------------------------------------------------- products (RGBA, SS x size)


def _layer() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    layer = Image.new("RGBA", (W * SS, H * SS), (0, 0, 0, 0))
    return layer, ImageDraw.Draw(layer)


def _shade(layer: Image.Image, rng: np.random.Generator, strength: float = 0.35) -> Image.Image:
    """Left-to-right light falloff over the product, like a window to one side."""
    arr = np.asarray(layer).astype(np.float32)
    x = np.linspace(0, 1, arr.shape[1], dtype=np.float32)[None, :, None]
    light = 1.0 + strength * (0.5 - np.abs(x - rng.uniform(0.3, 0.5)) * 2)
    arr[..., :3] = np.clip(arr[..., :3] * light, 0, 255)
    return Image.fromarray(arr.astype(np.uint8))


def cup(rng: np.random.Generator, cx: float, cy: float, size: float, colour) -> Image.Image:
    layer, d = _layer()
    s = size * SS
    cx, cy = cx * SS, cy * SS
    # saucer, cup body (a tapered bowl), rim, handle ring with an opening
    d.ellipse((cx - s, cy + 0.35 * s, cx + s, cy + 0.75 * s), fill=(*colour, 255))
    d.ellipse((cx - 0.8 * s, cy + 0.42 * s, cx + 0.8 * s, cy + 0.66 * s), fill=(*_dim(colour), 255))
    d.polygon(
        [
            (cx - 0.6 * s, cy - 0.5 * s),
            (cx + 0.6 * s, cy - 0.5 * s),
            (cx + 0.42 * s, cy + 0.5 * s),
            (cx - 0.42 * s, cy + 0.5 * s),
        ],
        fill=(*colour, 255),
    )
    d.ellipse((cx - 0.42 * s, cy + 0.4 * s, cx + 0.42 * s, cy + 0.6 * s), fill=(*colour, 255))
    d.ellipse((cx - 0.6 * s, cy - 0.62 * s, cx + 0.6 * s, cy - 0.38 * s), fill=(*_dim(colour), 255))
    d.ellipse((cx - 0.52 * s, cy - 0.58 * s, cx + 0.52 * s, cy - 0.42 * s), fill=(70, 40, 20, 255))
    d.ellipse(
        (cx + 0.45 * s, cy - 0.35 * s, cx + 0.95 * s, cy + 0.2 * s),
        outline=(*colour, 255),
        width=int(0.1 * s),
    )
    return _shade(layer, rng)


def mug(rng: np.random.Generator, cx: float, cy: float, size: float, colour) -> Image.Image:
    layer, d = _layer()
    s, cx, cy = size * SS, cx * SS, cy * SS
    d.rounded_rectangle(
        (cx - 0.55 * s, cy - 0.7 * s, cx + 0.55 * s, cy + 0.7 * s),
        radius=int(0.1 * s),
        fill=(*colour, 255),
    )
    d.ellipse(
        (cx + 0.35 * s, cy - 0.45 * s, cx + 1.0 * s, cy + 0.35 * s),
        outline=(*colour, 255),
        width=int(0.14 * s),
    )
    d.ellipse(
        (cx - 0.55 * s, cy - 0.82 * s, cx + 0.55 * s, cy - 0.58 * s), fill=(*_dim(colour), 255)
    )
    d.rectangle(
        (cx - 0.3 * s, cy - 0.1 * s, cx + 0.3 * s, cy + 0.25 * s), fill=(240, 240, 230, 255)
    )
    return _shade(layer, rng)


def bike(rng: np.random.Generator, cx: float, cy: float, size: float, colour) -> Image.Image:
    layer, d = _layer()
    s, cx, cy = size * SS, cx * SS, cy * SS
    r = 0.42 * s
    back, front = (cx - 0.6 * s, cy + 0.2 * s), (cx + 0.6 * s, cy + 0.2 * s)
    tyre = int(0.05 * s)
    for hx, hy in (back, front):
        d.ellipse((hx - r, hy - r, hx + r, hy + r), outline=(25, 25, 25, 255), width=tyre)
        for k in range(16):  # spokes
            a = k * math.pi / 8
            d.line(
                (hx, hy, hx + r * math.cos(a), hy + r * math.sin(a)),
                fill=(180, 180, 180, 255),
                width=max(1, int(0.006 * s)),
            )
    crank = (cx - 0.05 * s, cy + 0.2 * s)
    seat = (cx - 0.2 * s, cy - 0.35 * s)
    head = (cx + 0.45 * s, cy - 0.35 * s)
    tube = int(0.035 * s)
    for a, b in (
        (back, crank),
        (crank, seat),
        (seat, back),
        (seat, head),
        (crank, head),
        (head, front),
    ):
        d.line((*a, *b), fill=(*colour, 255), width=tube)
    d.line(
        (seat[0] - 0.1 * s, seat[1] - 0.05 * s, seat[0] + 0.08 * s, seat[1] - 0.05 * s),
        fill=(20, 20, 20, 255),
        width=int(0.05 * s),
    )
    d.line(
        (head[0], head[1], head[0] + 0.05 * s, head[1] - 0.15 * s),
        fill=(60, 60, 60, 255),
        width=tube,
    )
    d.line(
        (head[0] - 0.08 * s, head[1] - 0.15 * s, head[0] + 0.15 * s, head[1] - 0.15 * s),
        fill=(30, 30, 30, 255),
        width=tube,
    )
    return layer


def sneaker(rng: np.random.Generator, cx: float, cy: float, size: float, colour) -> Image.Image:
    layer, d = _layer()
    s, cx, cy = size * SS, cx * SS, cy * SS
    upper = [
        (cx - 0.9 * s, cy + 0.1 * s),
        (cx - 0.85 * s, cy - 0.35 * s),
        (cx - 0.45 * s, cy - 0.45 * s),
        (cx - 0.1 * s, cy - 0.2 * s),
        (cx + 0.5 * s, cy - 0.05 * s),
        (cx + 0.95 * s, cy + 0.12 * s),
        (cx + 0.95 * s, cy + 0.25 * s),
        (cx - 0.9 * s, cy + 0.25 * s),
    ]
    d.polygon(upper, fill=(*colour, 255))
    d.rounded_rectangle(
        (cx - 0.95 * s, cy + 0.2 * s, cx + 1.0 * s, cy + 0.38 * s),
        radius=int(0.06 * s),
        fill=(245, 245, 240, 255),
    )
    for k in range(5):  # laces
        x = cx - 0.35 * s + k * 0.12 * s
        d.line(
            (x, cy - 0.3 * s + k * 0.04 * s, x + 0.1 * s, cy - 0.2 * s + k * 0.04 * s),
            fill=(250, 250, 250, 255),
            width=int(0.025 * s),
        )
    d.line(
        (cx - 0.6 * s, cy + 0.05 * s, cx + 0.4 * s, cy + 0.12 * s),
        fill=(*_dim(colour), 255),
        width=int(0.05 * s),
    )
    return _shade(layer, rng)


def box_product(rng: np.random.Generator, cx: float, cy: float, size: float, colour) -> Image.Image:
    layer, d = _layer()
    s, cx, cy = size * SS, cx * SS, cy * SS
    d.polygon(
        [
            (cx - 0.6 * s, cy - 0.3 * s),
            (cx + 0.3 * s, cy - 0.3 * s),
            (cx + 0.6 * s, cy - 0.55 * s),
            (cx - 0.3 * s, cy - 0.55 * s),
        ],
        fill=(*_bright(colour), 255),
    )
    d.rectangle((cx - 0.6 * s, cy - 0.3 * s, cx + 0.3 * s, cy + 0.6 * s), fill=(*colour, 255))
    d.polygon(
        [
            (cx + 0.3 * s, cy - 0.3 * s),
            (cx + 0.6 * s, cy - 0.55 * s),
            (cx + 0.6 * s, cy + 0.35 * s),
            (cx + 0.3 * s, cy + 0.6 * s),
        ],
        fill=(*_dim(colour), 255),
    )
    return layer


def glass(rng: np.random.Generator, cx: float, cy: float, size: float, colour) -> Image.Image:
    """A tumbler: mostly see-through, its outline drawn by refraction-dark edges and highlights."""
    layer, d = _layer()
    s, cx, cy = size * SS, cx * SS, cy * SS
    outline = [
        (cx - 0.5 * s, cy - 0.8 * s),
        (cx + 0.5 * s, cy - 0.8 * s),
        (cx + 0.4 * s, cy + 0.8 * s),
        (cx - 0.4 * s, cy + 0.8 * s),
    ]
    d.polygon(outline, fill=(*colour, 70))
    d.line([*outline, outline[0]], fill=(40, 50, 55, 230), width=int(0.05 * s))
    d.rectangle((cx - 0.4 * s, cy + 0.62 * s, cx + 0.4 * s, cy + 0.8 * s), fill=(*colour, 190))
    d.line(
        (cx - 0.3 * s, cy - 0.6 * s, cx - 0.25 * s, cy + 0.5 * s),
        fill=(255, 255, 255, 220),
        width=int(0.06 * s),
    )
    d.ellipse(
        (cx - 0.5 * s, cy - 0.9 * s, cx + 0.5 * s, cy - 0.7 * s),
        outline=(40, 50, 55, 230),
        width=int(0.04 * s),
    )
    return layer


def bottle(rng: np.random.Generator, cx: float, cy: float, size: float, colour) -> Image.Image:
    layer, d = _layer()
    s, cx, cy = size * SS, cx * SS, cy * SS
    d.rounded_rectangle(
        (cx - 0.3 * s, cy - 0.5 * s, cx + 0.3 * s, cy + 0.9 * s),
        radius=int(0.12 * s),
        fill=(*colour, 255),
    )
    d.polygon(
        [
            (cx - 0.3 * s, cy - 0.45 * s),
            (cx + 0.3 * s, cy - 0.45 * s),
            (cx + 0.12 * s, cy - 0.75 * s),
            (cx - 0.12 * s, cy - 0.75 * s),
        ],
        fill=(*colour, 255),
    )
    d.rectangle(
        (cx - 0.13 * s, cy - 0.95 * s, cx + 0.13 * s, cy - 0.72 * s), fill=(30, 30, 30, 255)
    )
    d.rectangle((cx - 0.3 * s, cy, cx + 0.3 * s, cy + 0.4 * s), fill=(235, 230, 210, 255))
    return _shade(layer, rng, 0.5)


def _dim(c) -> tuple[int, int, int]:
    return tuple(int(v * 0.75) for v in c)  # type: ignore[return-value]


def _bright(c) -> tuple[int, int, int]:
    return tuple(min(255, int(v * 1.15 + 10)) for v in c)  # type: ignore[return-value]


# ---------------------------------------------------------------- distractors


def notebook(img: Image.Image, rng: np.random.Generator, x: int, y: int) -> None:
    d = ImageDraw.Draw(img)
    d.rectangle((x, y, x + 150, y + 110), fill=(235, 232, 220), outline=(90, 90, 90))
    for k in range(8):
        d.line(
            (x + 12, y + 14 + k * 11, x + 130 - int(rng.integers(0, 40)), y + 14 + k * 11),
            fill=(60, 60, 90),
            width=2,
        )


def _camouflage(product: Image.Image, background: Image.Image) -> Image.Image:
    """The product's shape filled with the background's own pattern, a little shifted."""
    texture = background.resize((W * SS, H * SS)).transform(
        (W * SS, H * SS), Image.Transform.AFFINE, (1, 0, 14, 0, 1, 6)
    )
    filled = texture.convert("RGBA")
    filled.putalpha(product.getchannel("A"))
    return filled


def _shadow(layer: Image.Image) -> Image.Image:
    alpha = layer.getchannel("A").resize((W, H), Image.Resampling.BOX)
    shifted = Image.new("L", (W, H), 0)
    shifted.paste(alpha, (8, 10))
    soft = shifted.filter(ImageFilter.GaussianBlur(10)).point(lambda v: int(v * 0.45))
    shade = Image.new("RGBA", (W, H), (20, 15, 10, 0))
    shade.putalpha(soft)
    return shade


def compose(
    background: Image.Image, product: Image.Image, blur: float, rng
) -> tuple[Image.Image, list[int]]:
    back = background.filter(ImageFilter.GaussianBlur(blur)) if blur else background
    small = product.resize((W, H), Image.Resampling.LANCZOS)
    canvas = back.convert("RGBA")
    canvas.alpha_composite(_shadow(product))
    canvas.alpha_composite(small)
    alpha = np.asarray(small.getchannel("A"))
    ys, xs = np.nonzero(alpha > 24)
    box = [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]
    arr = np.asarray(canvas.convert("RGB")).astype(np.float32)
    arr += rng.normal(0, 2.5, arr.shape)  # sensor noise
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)), box


def jitter(box: list[int], rng: np.random.Generator) -> list[int] | None:
    """A vision model's box: a few per cent off in position and size."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    dx0, dy0, dx1, dy1 = rng.uniform(-0.06, 0.06, 4)
    return [
        max(0, int(x0 + dx0 * bw)),
        max(0, int(y0 + dy0 * bh)),
        min(W, int(x1 + dx1 * bw)),
        min(H, int(y1 + dy1 * bh)),
    ]


# name, background, product, (cx, cy, size), colour, blur, distractor, category
SCENES = [
    ("cup-wood-1", wood, cup, (320, 260, 120), (245, 245, 240), 2.0, None, "kitchen"),
    ("cup-wood-2", wood, cup, (260, 300, 100), (40, 90, 160), 1.5, None, "kitchen"),
    ("cup-marble", marble, cup, (350, 250, 130), (190, 60, 50), 1.0, None, "kitchen"),
    ("mug-notebook-1", wood, mug, (220, 270, 110), (200, 80, 40), 1.5, "notebook", "kitchen"),
    ("mug-notebook-2", wood, mug, (400, 260, 100), (30, 120, 90), 1.0, "notebook", "kitchen"),
    ("bike-garage-1", garage, bike, (320, 250, 300), (200, 30, 30), 2.5, None, "sports"),
    ("bike-garage-2", garage, bike, (300, 270, 260), (20, 70, 180), 2.0, None, "sports"),
    ("bike-garage-3", garage, bike, (340, 240, 280), (230, 200, 30), 1.5, None, "sports"),
    ("sneaker-grass", grass, sneaker, (320, 250, 160), (30, 60, 200), 2.0, None, "shoes"),
    ("sneaker-carpet", carpet, sneaker, (300, 260, 170), (30, 30, 30), 2.5, None, "shoes"),
    ("sneaker-stripes", stripes, sneaker, (330, 250, 150), (40, 160, 70), 3.0, None, "shoes"),
    ("sneaker-gravel", gravel, sneaker, (320, 240, 165), (220, 110, 20), 1.5, None, "shoes"),
    ("white-mug-white", white_sweep, mug, (320, 250, 120), (250, 250, 248), 0.0, None, "kitchen"),
    (
        "white-box-white",
        white_sweep,
        box_product,
        (320, 240, 170),
        (246, 246, 244),
        0.0,
        None,
        "home",
    ),
    ("white-cup-white", white_sweep, cup, (320, 240, 120), (252, 252, 252), 0.0, None, "kitchen"),
    ("glass-wood", wood, glass, (320, 240, 120), (200, 225, 235), 2.0, None, "kitchen"),
    ("glass-white", white_sweep, glass, (320, 240, 130), (210, 230, 240), 0.0, None, "kitchen"),
    ("glass-marble", marble, glass, (330, 250, 110), (180, 210, 220), 1.0, None, "kitchen"),
    ("bottle-gravel", gravel, bottle, (320, 240, 170), (40, 120, 200), 2.0, None, "sports"),
    ("bottle-carpet", carpet, bottle, (300, 250, 160), (180, 180, 185), 2.0, None, "sports"),
    # Made to be hard: a sneaker printed with the carpet it stands on, a cup the photo cuts off.
    ("sneaker-camouflage", carpet, sneaker, (320, 250, 170), (0, 0, 0), 0.0, "camouflage", "shoes"),
    ("cup-off-frame", wood, cup, (40, 260, 130), (230, 230, 225), 1.5, None, "kitchen"),
]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    boxes = {}
    for seed, (name, back, draw, (cx, cy, size), colour, blur, extra, category) in enumerate(
        SCENES
    ):
        rng = rng_for(1000 + seed)
        background = back(rng)
        if extra == "notebook":
            notebook(background, rng, int(cx + size * 1.2) if cx < W / 2 else 40, int(cy - 20))
        product = draw(rng, cx, cy, size, colour)
        if extra == "camouflage":
            product = _camouflage(product, background)
        photo, box = compose(background, product, blur, rng)
        photo.save(OUT / f"{name}.jpg", quality=88)
        given = jitter(box, rng) if seed % 4 else None  # every fourth photo: no box at all
        boxes[name] = {"true_box": box, "given_box": given, "category": category}
    (OUT / "boxes.json").write_text(json.dumps(boxes, indent=1) + "\n")
    print(f"{len(boxes)} photos in {OUT}")


if __name__ == "__main__":
    main()
