"""The offline writer's fixed wording per language (en, zh, ja, de) and its small glossary."""

from __future__ import annotations

from dataclasses import dataclass


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
        design_fallback="Easy everyday use: a simple, practical design for daily routines.",
        materials="Durable build: made of {materials}{colour_part}, chosen to hold up to "
        "regular use.",
        colours_only="Considered finish: available in {colours} to suit your space and style.",
        materials_fallback="Solid construction: made to hold up to regular, everyday use.",
        scenarios="Ready when you need it: suited to {scenarios}.",
        audience="Made for {audience}: a practical {product_type} that fits everyday life.",
        specs="Clear specifications: {specs}.",
        specs_fallback="Clear details: check the product images for size and proportions "
        "before you order.",
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
        design_fallback="【便捷设计】简洁实用的设计，日常使用简单方便。",
        materials="【耐用材质】采用{materials}制成{colour_part}，经久耐用，适合日常使用。",
        colours_only="【精致外观】提供{colours}，轻松搭配不同空间与风格。",
        materials_fallback="【做工扎实】结构稳固，经得起日常频繁使用。",
        scenarios="【多种场景】适合{scenarios}等场景使用。",
        audience="【贴心之选】为{audience}设计，是融入日常生活的实用{product_type}。",
        specs="【规格清晰】{specs}。",
        specs_fallback="【规格清晰】下单前请参阅商品图片了解尺寸与比例。",
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
        design_fallback="【使いやすい設計】シンプルで実用的なデザインで、毎日の使用がかんたんです。",
        materials="【丈夫な素材】{materials}を採用{colour_part}。日常使いに耐える作りです。",
        colours_only="【デザイン】{colours}をご用意。さまざまな空間やスタイルになじみます。",
        materials_fallback="【しっかりした作り】毎日の使用に耐える丈夫な作りです。",
        scenarios="【さまざまなシーンに】{scenarios}などに適しています。",
        audience="【こんな方に】{audience}に向けた、日常になじむ実用的な{product_type}です。",
        specs="【仕様】{specs}。",
        specs_fallback="【仕様】サイズや比率は商品画像でご確認ください。",
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
        design_fallback="Einfache Handhabung: ein schlichtes, praktisches Design für jeden Tag.",
        materials="Robustes Material: aus {materials}{colour_part}, gemacht für den täglichen "
        "Gebrauch.",
        colours_only="Durchdachte Optik: erhältlich in {colours}, passend zu Raum und Stil.",
        materials_fallback="Solide Verarbeitung: gemacht für den täglichen Gebrauch.",
        scenarios="Vielseitig einsetzbar: geeignet für {scenarios}.",
        audience="Durchdacht für {audience}: ein praktischer Begleiter ({product_type}) im Alltag.",
        specs="Klare Angaben: {specs}.",
        specs_fallback="Klare Angaben: Größe und Proportionen zeigen die Produktbilder.",
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
    "black": {"zh": "黑色", "ja": "ブラック", "de": "Schwarz"},
    "white": {"zh": "白色", "ja": "ホワイト", "de": "Weiß"},
    "red": {"zh": "红色", "ja": "レッド", "de": "Rot"},
    "blue": {"zh": "蓝色", "ja": "ブルー", "de": "Blau"},
    "navy": {"zh": "藏青色", "ja": "ネイビー", "de": "Marineblau"},
    "green": {"zh": "绿色", "ja": "グリーン", "de": "Grün"},
    "yellow": {"zh": "黄色", "ja": "イエロー", "de": "Gelb"},
    "grey": {"zh": "灰色", "ja": "グレー", "de": "Grau"},
    "gray": {"zh": "灰色", "ja": "グレー", "de": "Grau"},
    "silver": {"zh": "银色", "ja": "シルバー", "de": "Silber"},
    "gold": {"zh": "金色", "ja": "ゴールド", "de": "Gold"},
    "pink": {"zh": "粉色", "ja": "ピンク", "de": "Rosa"},
    "purple": {"zh": "紫色", "ja": "パープル", "de": "Lila"},
    "orange": {"zh": "橙色", "ja": "オレンジ", "de": "Orange"},
    "brown": {"zh": "棕色", "ja": "ブラウン", "de": "Braun"},
    "beige": {"zh": "米色", "ja": "ベージュ", "de": "Beige"},
    "clear": {"zh": "透明", "ja": "クリア", "de": "Transparent"},
    "stainless steel": {"zh": "不锈钢", "ja": "ステンレス", "de": "Edelstahl"},
    "steel": {"zh": "钢", "ja": "スチール", "de": "Stahl"},
    "plastic": {"zh": "塑料", "ja": "プラスチック", "de": "Kunststoff"},
    "wood": {"zh": "木材", "ja": "木材", "de": "Holz"},
    "bamboo": {"zh": "竹", "ja": "竹", "de": "Bambus"},
    "glass": {"zh": "玻璃", "ja": "ガラス", "de": "Glas"},
    "ceramic": {"zh": "陶瓷", "ja": "セラミック", "de": "Keramik"},
    "cotton": {"zh": "棉", "ja": "綿", "de": "Baumwolle"},
    "leather": {"zh": "皮革", "ja": "レザー", "de": "Leder"},
    "silicone": {"zh": "硅胶", "ja": "シリコン", "de": "Silikon"},
    "aluminium": {"zh": "铝", "ja": "アルミ", "de": "Aluminium"},
    "aluminum": {"zh": "铝", "ja": "アルミ", "de": "Aluminium"},
    "metal": {"zh": "金属", "ja": "金属", "de": "Metall"},
    "polyester": {"zh": "涤纶", "ja": "ポリエステル", "de": "Polyester"},
    "nylon": {"zh": "尼龙", "ja": "ナイロン", "de": "Nylon"},
    "wool": {"zh": "羊毛", "ja": "ウール", "de": "Wolle"},
    "rubber": {"zh": "橡胶", "ja": "ゴム", "de": "Gummi"},
    "paper": {"zh": "纸", "ja": "紙", "de": "Papier"},
}
