"""The CJK font really renders CJK glyphs; bullet titles; wrapping; dimension parsing."""

from __future__ import annotations

import unicodedata

import numpy as np
import pytest
from PIL import Image, ImageDraw

from shelfready_imagegen.dimensions import Measure, parse_dimensions
from shelfready_imagegen.fonts import face_for_language, font_path, get_font
from shelfready_imagegen.text import bullet_title, wrap


def _glyph(text: str, language: str = "zh") -> np.ndarray:
    font = get_font(64, language=language)
    image = Image.new("L", (96, 96), 0)
    ImageDraw.Draw(image).text((16, 8), text, font=font, fill=255)
    return np.asarray(image) > 128


@pytest.mark.parametrize(("first", "second", "language"), [("你", "好", "zh"), ("日", "本", "ja")])
def test_cjk_glyphs_render_as_real_distinct_shapes(first: str, second: str, language: str) -> None:
    a, b = _glyph(first, language), _glyph(second, language)
    # Not tofu: non-empty, different from each other and from the font's .notdef glyph,
    # which is what a character the font lacks would render as (U+E000 is a private-use code).
    notdef = _glyph("\ue000", language)
    assert a.sum() > 100 and b.sum() > 100
    assert (a != b).sum() > 100
    assert (a != notdef).sum() > 100 and (b != notdef).sum() > 100


def test_font_comes_from_the_python_package() -> None:
    assert font_path().name == "NotoSansCJK-VF.otf.ttc"
    assert font_path().stat().st_size > 10_000_000


def test_bold_is_heavier_than_regular() -> None:
    def ink(weight: int) -> int:
        image = Image.new("L", (300, 100), 0)
        ImageDraw.Draw(image).text((5, 5), "Bold", font=get_font(64, weight=weight), fill=255)
        return int((np.asarray(image) > 128).sum())

    assert ink(700) > ink(400) * 1.2


def test_face_for_language() -> None:
    assert face_for_language("ja") == 0
    assert face_for_language("zh-TW") == 3
    assert face_for_language("zh_CN") == 2
    assert face_for_language("en") == 2


@pytest.mark.parametrize(
    ("bullet", "title"),
    [
        ("Keeps drinks hot: double-wall ceramic holds heat", "Keeps drinks hot"),
        ("LEAK-PROOF LID — no drips in your bag", "LEAK-PROOF LID"),
        ("Generous 350 ml capacity for your morning coffee", "Generous 350 ml capacity"),
        ("保温持久：双层陶瓷长时间保持温度", "保温持久"),
        ("食洗機対応で毎日のお手入れが簡単、しかも丈夫です", "食洗機対応で毎日のお手入れが簡単"),
        ("• Soft grip", "Soft grip"),
    ],
)
def test_bullet_title(bullet: str, title: str) -> None:
    assert bullet_title(bullet) == title


def test_wrap_breaks_latin_at_spaces_and_cjk_anywhere() -> None:
    font = get_font(40)
    latin = wrap("Durable double wall stainless steel bottle", font, 260)
    assert len(latin) > 1 and all(font.getlength(line) <= 260 for line in latin)
    assert " ".join(latin) == "Durable double wall stainless steel bottle"
    cjk = wrap("双层不锈钢保温杯长时间保持温度", font, 200)
    assert len(cjk) > 1 and "".join(cjk) == "双层不锈钢保温杯长时间保持温度"


def test_parse_combined_dimensions() -> None:
    dims = parse_dimensions({"Product Dimensions": "10 x 8 x 25 cm"})
    assert dims is not None
    assert (dims.width, dims.depth, dims.height) == (
        Measure(10, "cm"),
        Measure(8, "cm"),
        Measure(25, "cm"),
    )
    assert dims.height.label == "25 cm"


def test_parse_named_and_single_dimensions() -> None:
    dims = parse_dimensions({"Height": "25.5 cm", "Width": '4"', "Colour": "Blue"})
    assert dims is not None
    assert dims.height == Measure(25.5, "cm") and dims.width == Measure(4, "in")
    size = parse_dimensions({"Size": "12 in"})
    assert size is not None and size.longest == Measure(12, "in") and size.height is None
    assert parse_dimensions({"尺寸": "10×20厘米"}) is not None


@pytest.mark.parametrize("specs", [{}, {"Size": "M"}, {"Material": "Ceramic"}, {"Height": "tall"}])
def test_no_dimensions_means_none(specs: dict[str, str]) -> None:
    assert parse_dimensions(specs) is None


JA_BULLET = "電子レンジと食洗機に対応した丈夫な陶器のマグカップで毎日のコーヒーが楽しくなります"


def test_japanese_wraps_between_phrases_never_inside_a_word() -> None:
    from shelfready_imagegen.text import units

    font = get_font(48, language="ja")
    phrases = units(JA_BULLET, "ja")
    assert "".join(phrases) == JA_BULLET and len(phrases) > 4
    for width in (340, 420, 520):  # at least the widest phrase (7 characters at 48 px)
        lines = wrap(JA_BULLET, font, width, "ja")
        assert "".join(lines) == JA_BULLET
        assert all(font.getlength(line) <= width for line in lines)
        # Every break falls on a phrase boundary: マグカップ, 食洗機, コーヒー stay whole.
        ends = {len("".join(lines[: i + 1])) for i in range(len(lines))}
        boundaries = {len("".join(phrases[: i + 1])) for i in range(len(phrases))}
        assert ends <= boundaries
        for word in ("マグカップ", "食洗機", "コーヒー", "電子レンジ"):
            assert any(word in line for line in lines), (word, lines)


def test_japanese_titles_are_shortened_at_a_phrase_boundary() -> None:
    title = bullet_title(JA_BULLET, "ja")
    assert len(title) <= 14 and JA_BULLET.startswith(title)
    from shelfready_imagegen.text import units

    boundaries = {len("".join(units(JA_BULLET, "ja")[: i + 1])) for i in range(20)}
    assert len(title) in boundaries


@pytest.mark.parametrize(
    ("bullet", "language", "title"),
    [
        ("Robuste Flasche aus Edelstahl für unterwegs", "de", "Robuste Flasche aus Edelstahl"),
        ("Grande capacité de 750 ml pour toute la journée", "fr", "Grande capacité de 750 ml"),
        ("Tapa hermética con cierre para la mochila", "es", "Tapa hermética con cierre"),
    ],
)
def test_titles_never_end_on_a_small_word_in_other_languages(
    bullet: str, language: str, title: str
) -> None:
    assert bullet_title(bullet, language) == title


def test_an_over_long_word_breaks_between_grapheme_clusters() -> None:
    font = get_font(40)
    word = "Cre\u0300me-bru\u0302le\u0301e-Kaffeebecher-Geschenkset"  # combining accents
    lines = wrap(word, font, 180)
    assert len(lines) > 1 and "".join(lines) == word
    assert not any(unicodedata.combining(line[0]) for line in lines)
