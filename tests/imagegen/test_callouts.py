"""Selling-point callouts come from the listing's bullets, shortened between words, in any
language: the seller's features where the bullets quote them, else each bullet's heading."""

from __future__ import annotations

import pytest

from shelfready_imagegen.callouts import callouts
from shelfready_imagegen.text import bullet_title, units

SNEAKER_BULLETS = [
    "Easy everyday use: Breathable knit upper, Cushioned foam midsole and Grippy rubber outsole.",
    "Considered finish: a teal running sneaker that suits your space and style.",
    "Ready when you need it: a running sneaker suited to daily use.",
    "Made for everyday users: a practical running sneaker that fits everyday life.",
    "Clear specifications: Dimensions: 29 x 11 x 12 cm; Upper: knit textile; Sole: rubber.",
]
SNEAKER_FEATURES = ["Breathable knit upper", "Cushioned foam midsole", "Grippy rubber outsole"]


def test_quoted_features_are_the_callouts_not_the_generic_lead_ins() -> None:
    assert callouts(SNEAKER_BULLETS, SNEAKER_FEATURES) == SNEAKER_FEATURES


def test_without_features_each_bullet_gives_its_heading() -> None:
    assert callouts(SNEAKER_BULLETS, []) == [
        "Easy everyday use",
        "Considered finish",
        "Ready when you need it",
        "Made for everyday users",
        "Clear specifications",
    ]


def test_a_feature_the_bullets_do_not_quote_is_not_shown() -> None:
    """The callouts stay the listing's: a feature the writer dropped (or reworded) is not
    added, and one quoted feature alone is topped up with the other bullets' headings."""
    bullets = ["Soft grip: Cushioned handle for long walks", "Light: weighs 200 g", "Folds flat"]
    assert callouts(bullets, ["Cushioned handle", "Lifetime warranty"]) == [
        "Cushioned handle",
        "Light",
        "Folds flat",
    ]


def test_a_long_feature_is_shortened_between_words() -> None:
    feature = "Keeps drinks cold for 24 hours on the hottest summer days"
    bullets = [f"Easy everyday use: {feature}, Fits most cup holders and Leak-proof cap."]
    texts = callouts(bullets, [feature, "Fits most cup holders", "Leak-proof cap"])
    assert texts[0] == "Keeps drinks cold for 24 hours"  # not "... hours on"
    assert texts[1:] == ["Fits most cup holders", "Leak-proof cap"]


def test_german_features_and_headings() -> None:
    features = [
        "Verstellbarer Arm und Schirm",
        "Beschwerter Fuß, der sicher auf jedem Schreibtisch und jeder Kommode steht",
        "Warmweiße LED-Lampe inklusive",
    ]
    bullets = [
        f"Einfache Handhabung: {features[0]}, {features[1]} und {features[2]}.",
        "Robustes Material: aus Stahl mit Messingoberfläche, gemacht für den täglichen Gebrauch.",
    ]
    texts = callouts(bullets, features, "de")
    assert texts[0] == "Verstellbarer Arm und Schirm" and texts[2] == features[2]
    # Seven words at most, cut between words: the relative clause cut short is left out.
    assert texts[1] == "Beschwerter Fuß"
    assert callouts(bullets, [], "de") == ["Einfache Handhabung", "Robustes Material"]


def test_japanese_features_and_bracketed_headings() -> None:
    features = ["折りたたみ式", "最大30時間の連続再生", "柔らかいイヤークッション"]
    bullets = [
        "【使いやすい設計】折りたたみ式、最大30時間の連続再生、柔らかいイヤークッションで、"
        "毎日の使用がかんたんです。",
        "【丈夫な素材】アルミニウムを採用し、カラーはホワイト。日常使いに耐える作りです。",
    ]
    assert callouts(bullets, features, "ja") == features
    # The heading inside 【】 is the callout, without its brackets or the sentence after it.
    assert callouts(bullets, [], "ja") == ["使いやすい設計", "丈夫な素材"]


@pytest.mark.parametrize(
    ("bullet", "language", "title"),
    [
        ("Keeps drinks cold for 24 hours with a double wall", "en", "Keeps drinks cold"),
        ("【便捷设计】可折叠，日常使用简单方便。", "zh", "便捷设计"),
        (
            "最大30時間の連続再生が可能なワイヤレスヘッドホンで、通勤や旅行に最適です",
            "ja",
            "最大30時間の連続再生",
        ),
    ],
)
def test_titles_never_end_on_a_cut_number_or_a_particle(
    bullet: str, language: str, title: str
) -> None:
    assert bullet_title(bullet, language) == title


def test_a_japanese_title_ends_on_a_phrase_boundary_or_just_before_its_particle() -> None:
    bullet = "最大30時間の連続再生が可能なワイヤレスヘッドホンで、通勤や旅行に最適です"
    phrases = units(bullet, "ja")
    title = bullet_title(bullet, "ja")
    ends = {len("".join(phrases[: i + 1])) for i in range(len(phrases))}
    assert len(title) in ends or (len(title) + 1 in ends and bullet[len(title)] == "が")


def test_a_japanese_feature_keeps_its_head_noun() -> None:
    """In Japanese the thing named comes last: 柔らかいメモリーフォームのイヤークッション cut to
    a title's 14 characters would lose イヤークッション, what the feature is about."""
    features = [
        "最大30時間の連続再生",
        "柔らかいメモリーフォームのイヤークッション",
        "旅行に便利な折りたたみ式",
    ]
    bullets = [f"【使いやすい設計】{'、'.join(features)}で、毎日の使用がかんたんです。"]
    assert callouts(bullets, features, "ja") == features
