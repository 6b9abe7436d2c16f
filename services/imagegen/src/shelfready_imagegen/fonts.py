"""The font for text on images: Noto Sans CJK (Latin, Chinese, Japanese, Korean in one file).

It comes from the `manimgx-fonts-cjk` PyPI package (a dependency of this service, SIL OFL 1.1),
so every machine that installs the project has it; no system font package is needed. The file
is a variable-weight collection; the face index picks the regional glyph forms.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from importlib import resources
from pathlib import Path

from PIL import ImageFont

logger = logging.getLogger(__name__)

FONT_PACKAGE = "manimgx_fonts_cjk"
FONT_FILE = "NotoSansCJK-VF.otf.ttc"
# Face order inside the collection: JP, KR, SC, TC, HK.
FACE_BY_LANGUAGE = {"ja": 0, "ko": 1, "zh": 2, "zh-cn": 2, "zh-hans": 2, "zh-tw": 3, "zh-hant": 3}
DEFAULT_FACE = 2  # Simplified Chinese forms; Latin glyphs are identical in every face
REGULAR, BOLD = 400, 700


class FontUnavailableError(RuntimeError):
    """The CJK font package is not installed."""


@lru_cache(maxsize=1)
def font_path() -> Path:
    try:
        path = Path(str(resources.files(FONT_PACKAGE).joinpath(FONT_FILE)))
    except ModuleNotFoundError as exc:
        raise FontUnavailableError(
            f"the {FONT_PACKAGE} package (PyPI: manimgx-fonts-cjk) is not installed; "
            "it provides the CJK font used for text on images"
        ) from exc
    if not path.is_file():
        raise FontUnavailableError(f"{FONT_FILE} is missing from the {FONT_PACKAGE} package")
    return path


def face_for_language(language: str) -> int:
    code = language.strip().lower().replace("_", "-")
    return FACE_BY_LANGUAGE.get(code, FACE_BY_LANGUAGE.get(code.split("-")[0], DEFAULT_FACE))


@lru_cache(maxsize=64)
def get_font(size: int, *, weight: int = REGULAR, language: str = "en") -> ImageFont.FreeTypeFont:
    """A FreeType font at `size` px and `weight` (100-900) for text in `language`."""
    font = ImageFont.truetype(str(font_path()), size, index=face_for_language(language))
    font.set_variation_by_axes([weight])
    return font
