"""The original photo as we keep it: metadata and anything appended to the file dropped.

A seller's file can carry GPS positions and camera serials (EXIF, XMP), comments, embedded
thumbnails, or a ZIP or HTML document appended after the image. JPEGs are rewritten
losslessly: the segments that decode the picture are copied, the orientation is kept in a
minimal EXIF block (the image stage turns the photo by it), everything else and every byte
after the end-of-image marker is dropped. Other formats are decoded at full size anyway (they
cannot be draft-decoded) and are re-encoded from their pixels, already turned upright: WebP as
WebP, everything else (PNG, GIF, TIFF, BMP, HEIC, AVIF) as PNG.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from shelfready_core.decode_budget import check_decode_budget
from shelfready_core.errors import InvalidInput

SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RST0-7: no length field
_APP0, _APP2, _APP14, _COM = 0xE0, 0xE2, 0xEE, 0xFE
ORIENTATION = 0x0112


@dataclass(frozen=True)
class CleanOriginal:
    data: bytes
    content_type: str
    extension: str


def clean_original(data: bytes, image_format: str, name: str) -> CleanOriginal:
    """`data` (an accepted photo) without metadata or trailing bytes, and its stored type."""
    if image_format == "JPEG":
        return CleanOriginal(clean_jpeg(data, name), "image/jpeg", "jpg")
    if image_format == "WEBP":
        return CleanOriginal(_reencode(data, "WEBP", name), "image/webp", "webp")
    return CleanOriginal(_reencode(data, "PNG", name), "image/png", "png")


def _keep(marker: int, payload: bytes) -> bool:
    """Which segments stay: everything but APPn and comments, except the JFIF header, the
    colour profile and Adobe's colour-transform flag, which change how the pixels decode."""
    if marker == _COM:
        return False
    if not 0xE0 <= marker <= 0xEF:
        return True
    return (
        (marker == _APP0 and payload.startswith(b"JFIF\x00"))
        or (marker == _APP2 and payload.startswith(b"ICC_PROFILE\x00"))
        or (marker == _APP14 and payload.startswith(b"Adobe"))
    )


def _orientation_segment(data: bytes) -> bytes:
    """An APP1 segment holding only the photo's EXIF orientation (none when upright)."""
    with Image.open(io.BytesIO(data)) as image:
        orientation = image.getexif().get(ORIENTATION, 1)
    if orientation == 1:
        return b""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    payload = exif.tobytes()
    return b"\xff\xe1" + (len(payload) + 2).to_bytes(2, "big") + payload


def clean_jpeg(data: bytes, name: str) -> bytes:
    damaged = InvalidInput(f"{name!r} is damaged or truncated: broken JPEG structure")
    if data[:2] != b"\xff\xd8":
        raise damaged
    out = [b"\xff\xd8", _orientation_segment(data)]
    i, size = 2, len(data)
    while i < size:
        if data[i] != 0xFF:
            raise damaged
        while i < size and data[i] == 0xFF:  # fill bytes may precede a marker
            i += 1
        if i >= size:
            raise damaged
        marker = data[i]
        i += 1
        if marker == EOI:
            out.append(b"\xff\xd9")
            return b"".join(out)  # whatever follows the image is dropped
        if marker in _STANDALONE or marker == SOI:
            out.append(bytes((0xFF, marker)))
            continue
        if i + 2 > size:
            raise damaged
        length = int.from_bytes(data[i : i + 2], "big")
        if length < 2 or i + length > size:
            raise damaged
        if _keep(marker, data[i + 2 : i + length]):
            out.append(bytes((0xFF, marker)) + data[i : i + length])
        i += length
        if marker == SOS:
            end = _entropy_end(data, i)
            if end < 0:
                raise damaged
            out.append(data[i:end])
            i = end
    raise damaged  # no end-of-image marker


def _entropy_end(data: bytes, start: int) -> int:
    """Where the entropy-coded data after SOS ends: the first marker that is not a stuffed
    0xFF00, a restart marker or a fill byte. -1 when the file ends first."""
    j = start
    while True:
        j = data.find(b"\xff", j)
        if j < 0 or j + 1 >= len(data):
            return -1
        following = data[j + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            j += 1
            continue
        return j


def _reencode(data: bytes, image_format: str, name: str) -> bytes:
    try:
        with Image.open(io.BytesIO(data)) as opened:
            check_decode_budget(opened, name)
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"{name!r} is damaged or truncated: {exc}") from exc
    buffer = io.BytesIO()
    if image_format == "WEBP":
        image.save(buffer, "WEBP", quality=95, method=4)
    else:
        image.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()
