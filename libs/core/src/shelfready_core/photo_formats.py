"""The photo formats ShelfReady accepts, shared by every place that checks an upload.

HEIC/HEIF (the iPhone default) decodes through pillow-heif, registered with Pillow on import
here so every place that uses this table can open what it accepts. pillow-heif applies the
file's rotation while decoding and resets the EXIF orientation to 1, so `exif_transpose`
after it is a no-op rather than a second turn; AVIF is Pillow's own and keeps its EXIF
orientation for `exif_transpose` to apply.
"""

from __future__ import annotations

import pillow_heif

pillow_heif.register_heif_opener()

# Pillow format name -> (content type, file extension). MPO is what many phones write.
ACCEPTED_FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
    "TIFF": ("image/tiff", "tiff"),
    "BMP": ("image/bmp", "bmp"),
    "HEIF": ("image/heic", "heic"),
    "AVIF": ("image/avif", "avif"),
}

# For messages to sellers: MPO is a JPEG as far as they are concerned.
ACCEPTED_NAMES = ", ".join(sorted(set(ACCEPTED_FORMATS) - {"MPO"}))
