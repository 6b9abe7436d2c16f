"""The photo formats ShelfReady accepts, shared by every place that checks an upload."""

from __future__ import annotations

# Pillow format name -> (content type, file extension). MPO is what many phones write.
ACCEPTED_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
    "TIFF": ("image/tiff", "tiff"),
    "BMP": ("image/bmp", "bmp"),
}

# For messages to sellers: MPO is a JPEG as far as they are concerned.
ACCEPTED_NAMES = ", ".join(sorted(set(ACCEPTED_FORMATS) - {"MPO"}))
