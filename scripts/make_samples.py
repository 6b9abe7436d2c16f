"""Generate the bundled sample product photos in `samples/`: synthetic, deterministic, offline.

Each photo is painted with numpy/OpenCV: shaded shapes with anti-aliased edges, soft shadows,
sensor noise and a slight vignette, so the cut-out meets the same problems a phone photo has.
The file name says what the product is, because the offline recognizer derives the product
name from it. Run: `uv run python scripts/make_samples.py [output-dir]`.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

Array = np.ndarray
RNG_SEED = 20240611
SS = 4  # supersampling factor of the shape masks: smooth edges from OpenCV's hard fills


def _grid(h: int, w: int) -> tuple[Array, Array]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return yy, xx


def _mask(h: int, w: int, draw: Callable[[Array, int], None]) -> Array:
    """An anti-aliased float mask (0..1): draw at SS times the size, then shrink."""
    big = np.zeros((h * SS, w * SS), np.uint8)
    draw(big, SS)
    return cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _poly(points: list[tuple[float, float]], scale: int) -> Array:
    return (np.array(points, np.float32) * scale).astype(np.int32).reshape(-1, 1, 2)


def _blend(canvas: Array, mask: Array, colour: Array | tuple[float, float, float]) -> None:
    """Paint `colour` (an RGB triple or an HxWx3 array) through `mask` into `canvas` in place."""
    m = mask[..., None]
    canvas *= 1.0 - m
    canvas += m * np.asarray(colour, np.float32)


def _cylinder_shading(xx: Array, centre: float, half_width: float, light: float = -0.35) -> Array:
    """Lambert shading of a vertical cylinder plus a narrow specular stripe (values ~0.45..1.25)."""
    n = np.clip((xx - centre) / half_width, -1.0, 1.0)
    normal_z = np.sqrt(1.0 - n * n)
    diffuse = 0.45 + 0.55 * np.clip(normal_z * 0.9 - n * light, 0.0, 1.0)
    specular = 0.35 * np.exp(-(((n - light) / 0.08) ** 2))
    return diffuse + specular


def _soft_shadow(h: int, w: int, cx: float, cy: float, rx: float, ry: float, blur: float) -> Array:
    shadow = np.zeros((h, w), np.float32)
    cv2.ellipse(shadow, (int(cx), int(cy)), (int(rx), int(ry)), 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(shadow, (0, 0), blur)


def _finish(canvas: Array, rng: np.random.Generator, noise: float = 2.2) -> Image.Image:
    """Vignette + sensor noise + clip to 8 bits."""
    h, w = canvas.shape[:2]
    yy, xx = _grid(h, w)
    r = np.hypot((xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2))
    canvas *= (1.0 - 0.06 * np.clip(r - 0.6, 0, None))[..., None]
    canvas += rng.normal(0.0, noise, canvas.shape).astype(np.float32)
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))


def ceramic_coffee_mug(rng: np.random.Generator) -> Image.Image:
    """A glazed blue mug on a white sweep, with a soft shadow."""
    h, w = 1200, 1600
    yy, xx = _grid(h, w)
    canvas = np.full((h, w, 3), 252.0, np.float32)
    canvas -= (yy / h * 6.0)[..., None]  # the sweep darkens a touch towards the camera
    _blend(canvas, _soft_shadow(h, w, 800, 985, 330, 40, 28) * 0.35, (150, 150, 155))
    cx, top, bottom, half = 760.0, 290.0, 960.0, 250.0
    handle = _mask(
        h,
        w,
        lambda m, s: cv2.ellipse(
            m,
            (int(1010 * s), int(600 * s)),
            (int(150 * s), int(190 * s)),
            0,
            -90,
            90,
            255,
            int(62 * s),
        ),
    )
    glaze = np.array([38, 78, 150], np.float32)
    _blend(canvas, handle, glaze * 0.85)
    body = _mask(
        h,
        w,
        lambda m, s: (
            cv2.rectangle(
                m,
                (int((cx - half) * s), int(top * s)),
                (int((cx + half) * s), int(bottom * s)),
                255,
                -1,
            ),
            cv2.ellipse(
                m, (int(cx * s), int(bottom * s)), (int(half * s), int(32 * s)), 0, 0, 180, 255, -1
            ),
        ),
    )
    shade = _cylinder_shading(xx, cx, half)[..., None]
    _blend(canvas, body, np.clip(glaze * shade, 0, 255))
    # A cream band around the middle, then the rim and the dark coffee inside.
    band = body * ((yy > 560) & (yy < 640)).astype(np.float32)
    _blend(canvas, band, np.clip(np.array([235, 225, 205], np.float32) * shade, 0, 255))
    rim = _mask(
        h,
        w,
        lambda m, s: cv2.ellipse(
            m, (int(cx * s), int(top * s)), (int(half * s), int(36 * s)), 0, 0, 360, 255, -1
        ),
    )
    _blend(canvas, rim, (70, 105, 170))
    inner = _mask(
        h,
        w,
        lambda m, s: cv2.ellipse(
            m,
            (int(cx * s), int((top + 3) * s)),
            (int((half - 16) * s), int(26 * s)),
            0,
            0,
            360,
            255,
            -1,
        ),
    )
    _blend(canvas, inner, (58, 36, 24))
    return _finish(canvas, rng)


def stainless_water_bottle(rng: np.random.Generator) -> Image.Image:
    """A coral powder-coated bottle with a steel cap on a plain sage backdrop."""
    h, w = 1600, 1200
    yy, xx = _grid(h, w)
    canvas = np.empty((h, w, 3), np.float32)
    canvas[:] = (150, 172, 158)
    _blend(canvas, _soft_shadow(h, w, 620, 1405, 230, 34, 24) * 0.45, (95, 112, 100))
    cx = 600.0
    body = _mask(
        h,
        w,
        lambda m, s: cv2.fillPoly(
            m,
            [
                _poly(
                    [
                        (cx - 190, 1400),
                        (cx - 205, 1370),
                        (cx - 205, 560),
                        (cx - 185, 470),
                        (cx - 95, 400),
                        (cx - 95, 330),
                        (cx + 95, 330),
                        (cx + 95, 400),
                        (cx + 185, 470),
                        (cx + 205, 560),
                        (cx + 205, 1370),
                        (cx + 190, 1400),
                    ],
                    s,
                )
            ],
            255,
            lineType=cv2.LINE_8,
        ),
    )
    shade = _cylinder_shading(xx, cx, 205, light=-0.45)[..., None]
    _blend(canvas, body, np.clip(np.array([228, 112, 92], np.float32) * shade, 0, 255))
    cap = _mask(
        h,
        w,
        lambda m, s: cv2.rectangle(
            m, (int((cx - 110) * s), int(200 * s)), (int((cx + 110) * s), int(335 * s)), 255, -1
        ),
    )
    steel = np.clip(
        np.array([200, 202, 206], np.float32) * _cylinder_shading(xx, cx, 110)[..., None], 0, 255
    )
    steel *= (1.0 + 0.04 * np.sin(yy / 3.0))[..., None]  # machined grooves
    _blend(canvas, cap, steel)
    loop = _mask(
        h,
        w,
        lambda m, s: cv2.ellipse(
            m,
            (int(cx * s), int(200 * s)),
            (int(70 * s), int(60 * s)),
            0,
            180,
            360,
            255,
            int(26 * s),
        ),
    )
    _blend(canvas, loop, (70, 72, 78))
    return _finish(canvas, rng, noise=2.0)


def running_sneaker(rng: np.random.Generator) -> Image.Image:
    """A side view of a sneaker on a warm studio gradient."""
    h, w = 1100, 1600
    yy, xx = _grid(h, w)
    top = np.array([236, 222, 200], np.float32)
    bottom = np.array([188, 160, 132], np.float32)
    t = (yy / h)[..., None]
    canvas = top * (1 - t) + bottom * t
    _blend(canvas, _soft_shadow(h, w, 800, 840, 610, 38, 26) * 0.5, (110, 92, 76))
    upper = _mask(
        h,
        w,
        lambda m, s: cv2.fillPoly(
            m,
            [
                _poly(
                    [
                        (230, 780),
                        (250, 640),
                        (330, 560),
                        (520, 520),
                        (700, 430),
                        (760, 330),
                        (900, 300),
                        (1020, 330),
                        (1080, 420),
                        (1180, 470),
                        (1330, 560),
                        (1400, 660),
                        (1380, 780),
                    ],
                    s,
                )
            ],
            255,
        ),
    )
    shade = (0.75 + 0.35 * (1 - (yy - 300) / 500.0)).clip(0.7, 1.15)[..., None]
    _blend(canvas, upper, np.clip(np.array([40, 96, 160], np.float32) * shade, 0, 255))
    stripe = _mask(
        h,
        w,
        lambda m, s: cv2.fillPoly(
            m, [_poly([(520, 720), (760, 560), (1080, 520), (820, 640), (600, 740)], s)], 255
        ),
    )
    _blend(canvas, stripe, (245, 240, 232))
    for i in range(5):  # laces
        x0 = 760 + i * 62
        lace = _mask(
            h,
            w,
            lambda m, s, x0=x0, i=i: cv2.line(
                m,
                (int(x0 * s), int((360 + i * 22) * s)),
                (int((x0 + 70) * s), int((420 + i * 22) * s)),
                255,
                int(14 * s),
            ),
        )
        _blend(canvas, lace, (238, 238, 238))
    sole = _mask(
        h,
        w,
        lambda m, s: cv2.fillPoly(
            m,
            [_poly([(215, 770), (1400, 770), (1425, 800), (1390, 850), (260, 850), (200, 815)], s)],
            255,
        ),
    )
    sole_shade = (1.0 - 0.25 * np.clip((yy - 770) / 80.0, 0, 1))[..., None]
    _blend(canvas, sole, np.clip(np.array([246, 244, 238], np.float32) * sole_shade, 0, 255))
    tread = sole * ((np.sin(xx / 7.0) > 0.6) & (yy > 832)).astype(np.float32)
    _blend(canvas, tread * 0.6, (120, 118, 112))
    return _finish(canvas, rng, noise=2.4)


def _cluttered_room(h: int, w: int, rng: np.random.Generator) -> Array:
    """An out-of-focus shelf scene: wood table, books, plants, picture frames, paper texture."""
    yy, _ = _grid(h, w)
    canvas = np.empty((h, w, 3), np.float32)
    canvas[:] = (196, 188, 176)
    wall_noise = cv2.GaussianBlur(rng.normal(0, 18, (h, w)).astype(np.float32), (0, 0), 6)
    canvas += wall_noise[..., None]
    palette = [
        (120, 60, 50),
        (60, 90, 120),
        (70, 110, 70),
        (120, 170, 190),
        (90, 80, 110),
        (160, 160, 150),
        (40, 40, 45),
        (210, 120, 80),
    ]
    clutter = canvas.copy()
    for _ in range(60):
        colour = np.array(palette[rng.integers(len(palette))], np.float32)
        x, y = int(rng.integers(0, w)), int(rng.integers(0, int(h * 0.75)))
        if rng.random() < 0.6:
            bw, bh = int(rng.integers(30, 140)), int(rng.integers(80, 320))
            cv2.rectangle(clutter, (x, y), (x + bw, y + bh), colour.tolist(), -1)
        else:
            cv2.circle(clutter, (x, y), int(rng.integers(20, 110)), colour.tolist(), -1)
    canvas = cv2.GaussianBlur(clutter, (0, 0), 9)  # shallow depth of field
    table = yy > h * 0.72
    grain = 150 + 25 * np.sin(np.arange(w, dtype=np.float32)[None, :] / 11.0 + yy / 37.0)
    wood = np.stack([grain * 0.95, grain * 0.68, grain * 0.45], axis=-1)
    canvas[table] = wood[table]
    return canvas


def brass_desk_lamp(rng: np.random.Generator) -> Image.Image:
    """A mustard-shaded desk lamp on a wooden desk in front of a busy, blurred shelf."""
    h, w = 1200, 1600
    _, xx = _grid(h, w)
    canvas = _cluttered_room(h, w, rng)
    _blend(canvas, _soft_shadow(h, w, 800, 1040, 250, 30, 18) * 0.55, (60, 40, 25))
    base = _mask(
        h,
        w,
        lambda m, s: cv2.ellipse(
            m, (int(800 * s), int(1010 * s)), (int(200 * s), int(42 * s)), 0, 0, 360, 255, -1
        ),
    )
    brass = np.clip(
        np.array([190, 150, 70], np.float32) * _cylinder_shading(xx, 800, 200)[..., None], 0, 255
    )
    _blend(canvas, base, brass)
    stem = _mask(
        h,
        w,
        lambda m, s: cv2.line(
            m, (int(800 * s), int(1000 * s)), (int(860 * s), int(560 * s)), 255, int(26 * s)
        ),
    )
    _blend(canvas, stem, brass)
    arm = _mask(
        h,
        w,
        lambda m, s: cv2.line(
            m, (int(860 * s), int(560 * s)), (int(680 * s), int(330 * s)), 255, int(22 * s)
        ),
    )
    _blend(canvas, arm, brass)
    shade = _mask(
        h,
        w,
        lambda m, s: cv2.fillPoly(
            m, [_poly([(560, 180), (760, 180), (900, 470), (420, 470)], s)], 255
        ),
    )
    light = _cylinder_shading(xx, 660, 260, light=-0.3)[..., None]
    _blend(canvas, shade, np.clip(np.array([222, 168, 40], np.float32) * light, 0, 255))
    bulb = _mask(
        h,
        w,
        lambda m, s: cv2.ellipse(
            m, (int(660 * s), int(470 * s)), (int(240 * s), int(22 * s)), 0, 0, 360, 255, -1
        ),
    )
    _blend(canvas, bulb, (255, 246, 214))
    return _finish(canvas, rng, noise=2.6)


def wireless_headphones(rng: np.random.Generator) -> Image.Image:
    """Over-ear headphones cut out on a transparent background (RGBA PNG)."""
    h, w = 1200, 1200
    _, xx = _grid(h, w)
    colour = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)

    def paint(mask: Array, rgb: Array | tuple[float, float, float]) -> None:
        _blend(colour, mask, rgb)
        np.maximum(alpha, mask, out=alpha)

    band = _mask(
        h,
        w,
        lambda m, s: cv2.ellipse(
            m,
            (int(600 * s), int(560 * s)),
            (int(380 * s), int(400 * s)),
            0,
            180,
            360,
            255,
            int(56 * s),
        ),
    )
    paint(band, (48, 50, 56))
    pad = _mask(
        h,
        w,
        lambda m, s: cv2.ellipse(
            m,
            (int(600 * s), int(560 * s)),
            (int(372 * s), int(392 * s)),
            0,
            200,
            340,
            255,
            int(30 * s),
        ),
    )
    paint(pad, (120, 100, 90))
    for cx in (230, 970):
        cup = _mask(
            h,
            w,
            lambda m, s, cx=cx: cv2.ellipse(
                m, (int(cx * s), int(700 * s)), (int(130 * s), int(190 * s)), 0, 0, 360, 255, -1
            ),
        )
        shade = _cylinder_shading(xx, cx, 130)[..., None]
        paint(cup, np.clip(np.array([225, 222, 215], np.float32) * shade, 0, 255))
        ring = _mask(
            h,
            w,
            lambda m, s, cx=cx: cv2.ellipse(
                m,
                (int(cx * s), int(700 * s)),
                (int(96 * s), int(150 * s)),
                0,
                0,
                360,
                255,
                int(10 * s),
            ),
        )
        paint(ring, (150, 120, 80))
    colour += rng.normal(0.0, 0.6, colour.shape).astype(np.float32)
    rgba = np.dstack([np.clip(colour, 0, 255), alpha * 255.0]).astype(np.uint8)
    rgba[alpha == 0, :3] = 0
    return Image.fromarray(rgba, "RGBA")


def glass_scented_candle(rng: np.random.Generator) -> Image.Image:
    """A candle in an amber jar on linen, shot in portrait on a phone (see `save_phone_jpeg`)."""
    h, w = 1600, 1200
    yy, xx = _grid(h, w)
    canvas = np.empty((h, w, 3), np.float32)
    canvas[:] = (226, 218, 204)
    weave = 4.0 * (np.sin(xx / 2.3) + np.sin(yy / 2.7))
    canvas += (weave + cv2.GaussianBlur(rng.normal(0, 10, (h, w)).astype(np.float32), (0, 0), 3))[
        ..., None
    ]
    _blend(canvas, _soft_shadow(h, w, 640, 1190, 300, 40, 26) * 0.45, (120, 108, 90))
    cx = 600.0
    jar = _mask(
        h,
        w,
        lambda m, s: (
            cv2.rectangle(
                m,
                (int((cx - 270) * s), int(620 * s)),
                (int((cx + 270) * s), int(1180 * s)),
                255,
                -1,
            ),
            cv2.ellipse(
                m, (int(cx * s), int(1180 * s)), (int(270 * s), int(30 * s)), 0, 0, 180, 255, -1
            ),
        ),
    )
    amber = np.clip(
        np.array([176, 98, 34], np.float32) * _cylinder_shading(xx, cx, 270)[..., None], 0, 255
    )
    _blend(canvas, jar, amber)
    label = jar * ((yy > 800) & (yy < 1020) & (np.abs(xx - cx) < 200)).astype(np.float32)
    _blend(canvas, label, (242, 236, 222))
    for i, width in enumerate((260, 180, 220)):  # printed lines on the label
        y0 = 850 + i * 50
        line = jar * ((yy > y0) & (yy < y0 + 16) & (np.abs(xx - cx) < width / 2)).astype(np.float32)
        _blend(canvas, line, (70, 60, 50))
    lid = _mask(
        h,
        w,
        lambda m, s: cv2.rectangle(
            m, (int((cx - 280) * s), int(540 * s)), (int((cx + 280) * s), int(625 * s)), 255, -1
        ),
    )
    _blend(
        canvas,
        lid,
        np.clip(
            np.array([40, 40, 42], np.float32) * _cylinder_shading(xx, cx, 280)[..., None] * 1.6,
            0,
            255,
        ),
    )
    return _finish(canvas, rng, noise=2.8)


def save_phone_jpeg(image: Image.Image, path: Path) -> None:
    """Store the pixels rotated 90° counter-clockwise with EXIF orientation 6, as phones do."""
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x010F] = "ShelfReady Sample Phone"  # Make
    exif[0x0110] = "Synthetic Camera"  # Model
    image.transpose(Image.Transpose.ROTATE_90).save(path, "JPEG", quality=86, exif=exif)


SAMPLES: dict[str, Callable[[np.random.Generator], Image.Image]] = {
    "ceramic-coffee-mug.jpg": ceramic_coffee_mug,
    "stainless-water-bottle.jpg": stainless_water_bottle,
    "running-sneaker.jpg": running_sneaker,
    "brass-desk-lamp.jpg": brass_desk_lamp,
    "wireless-headphones.png": wireless_headphones,
    "glass-scented-candle.jpg": glass_scented_candle,
}
PHONE_STYLE = {"glass-scented-candle.jpg"}


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, paint in SAMPLES.items():
        image = paint(np.random.default_rng(RNG_SEED + len(name)))
        path = out_dir / name
        if name in PHONE_STYLE:
            save_phone_jpeg(image, path)
        elif name.endswith(".png"):
            image.save(path, "PNG", optimize=True)
        else:
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=86)
            path.write_bytes(buffer.getvalue())
        print(f"{path}: {image.width}x{image.height}, {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main(
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parent.parent / "samples"
    )
