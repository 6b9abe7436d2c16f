"""The offline writer's fixed wording per language (en, zh, ja, de) and its small glossary."""

from __future__ import annotations

from dataclasses import dataclass

from shelfready_listing.vocabulary import COLOUR_TERMS, MATERIAL_TERMS


@dataclass(frozen=True)
class Templates:
    """The fixed wording of one language; {items} etc. are filled with cleaned fragments."""

    list_separator: str
    last_separator: str
    design: str
    design_fallback: str
    materials: str
    colours_only: str
    materials_fallback: str
    scenarios: str
    audience: str
    specs: str
    specs_fallback: str
    intro: str
    closing: str
    headlines: tuple[str, str, str]
    any_scenario: str
    any_audience: str


TEMPLATES: dict[str, Templates] = {
    "en": Templates(
        list_separator=", ",
        last_separator=" and ",
        design="Easy everyday use: {items}.",
        design_fallback="Easy everyday use: a {product_type} with a simple, practical design.",
        materials="Durable build: made of {materials}{colour_part}, chosen to hold up to "
        "regular use.",
        colours_only="Considered finish: a {colours} {product_type} that suits your space and "
        "style.",
        materials_fallback="Solid construction: a {product_type} made to hold up to regular use.",
        scenarios="Ready when you need it: a {product_type} suited to {scenarios}.",
        audience="Made for {audience}: a practical {product_type} that fits everyday life.",
        specs="Clear specifications: {specs}.",
        specs_fallback="Clear details: check the product images for the size and "
        "proportions of the {product_type} before you order.",
        intro="Key features of this {product_type}: {first_feature}.",
        closing="Designed for {audience} and suited to {scenarios}.",
        headlines=("Easy to use", "Durable build", "Everyday ready"),
        any_scenario="daily use",
        any_audience="everyday users",
    ),
    "zh": Templates(
        list_separator="、",
        last_separator="和",
        design="【便捷设计】{items}，日常使用简单方便。",
        design_fallback="【便捷设计】简洁实用的{product_type}，日常使用简单方便。",
        materials="【耐用材质】采用{materials}制成{colour_part}，经久耐用，适合日常使用。",
        colours_only="【精致外观】{colours}{product_type}，轻松搭配不同空间与风格。",
        materials_fallback="【做工扎实】{product_type}结构稳固，经得起日常频繁使用。",
        scenarios="【多种场景】这款{product_type}适合{scenarios}等场景使用。",
        audience="【贴心之选】为{audience}设计，是融入日常生活的实用{product_type}。",
        specs="【规格清晰】{specs}。",
        specs_fallback="【规格清晰】下单前请参阅商品图片了解{product_type}的尺寸与比例。",
        intro="这款{product_type}的核心特点是{first_feature}。",
        closing="专为{audience}设计，适合{scenarios}。",
        headlines=("使用方便", "材质耐用", "日常好帮手"),
        any_scenario="居家和日常",
        any_audience="日常用户",
    ),
    "ja": Templates(
        list_separator="、",
        last_separator="、",
        design="【使いやすい設計】{items}で、毎日の使用がかんたんです。",
        design_fallback="【使いやすい設計】シンプルで実用的な{product_type}で、毎日の使用がかんたんです。",
        materials="【丈夫な素材】{materials}を採用{colour_part}。日常使いに耐える作りです。",
        colours_only="【デザイン】{colours}の{product_type}です。さまざまな空間やスタイルになじみます。",
        materials_fallback="【しっかりした作り】毎日の使用に耐える丈夫な{product_type}です。",
        scenarios="【さまざまなシーンに】この{product_type}は{scenarios}などに適しています。",
        audience="【こんな方に】{audience}に向けた、日常になじむ実用的な{product_type}です。",
        specs="【仕様】{specs}。",
        specs_fallback="【仕様】{product_type}のサイズや比率は商品画像でご確認ください。",
        intro="この{product_type}の特長は{first_feature}です。",
        closing="{audience}に向けて設計され、{scenarios}に適しています。",
        headlines=("使いやすい", "丈夫な素材", "毎日に活躍"),
        any_scenario="毎日の使用",
        any_audience="毎日使う方",
    ),
    "de": Templates(
        list_separator=", ",
        last_separator=" und ",
        design="Einfache Handhabung: {items}.",
        design_fallback="Einfache Handhabung: {product_type} mit sc"
        "hlichtem, praktischem Design für jeden Tag.",
        materials="Robustes Material: aus {materials}{colour_part}, gemacht für den täglichen "
        "Gebrauch.",
        colours_only="Durchdachte Optik: {product_type} in {colours}, passend zu Raum und Stil.",
        materials_fallback="Solide Verarbeitung: {product_type},"
        " gemacht für den täglichen Gebrauch.",
        scenarios="Vielseitig einsetzbar: {product_type}, geeignet für {scenarios}.",
        audience="Durchdacht für {audience}: ein praktischer Begleiter ({product_type}) im Alltag.",
        specs="Klare Angaben: {specs}.",
        specs_fallback="Klare Angaben: Größe und Proportionen ({"
        "product_type}) zeigen die Produktbilder.",
        intro="Die wichtigsten Merkmale ({product_type}): {first_feature}.",
        closing="Gedacht für {audience} und geeignet für {scenarios}.",
        headlines=("Einfach zu nutzen", "Robustes Material", "Für jeden Tag"),
        any_scenario="den Alltag",
        any_audience="den Alltag",
    ),
}

COLOUR_PARTS = {
    "en": " in {colours}",
    "zh": "，{colours}配色",
    "ja": "し、カラーは{colours}",
    "de": " in {colours}",
}

# Common colours and materials, so the offline copy reads in the listing language.
GLOSSARY: dict[str, dict[str, str]] = {
    **COLOUR_TERMS,
    **MATERIAL_TERMS,
    "clear": {"zh": "透明", "ja": "クリア", "de": "Transparent"},
}
