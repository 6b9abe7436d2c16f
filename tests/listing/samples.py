"""Hand-written listings and product records for the listing tests (good and bad, en and zh)."""

from __future__ import annotations

from shelfready_core.schemas import ListingDraft, ProductAnalysis

BRAND = "Acme"


def bottle() -> ProductAnalysis:
    return ProductAnalysis(
        product_type="water bottle",
        product_name="Insulated Stainless Steel Water Bottle",
        category="Sports & Outdoors > Water Bottles",
        materials=["stainless steel", "silicone"],
        colors=["navy blue"],
        functional_cues=["screw lid", "double-wall vacuum insulation", "wide mouth"],
        interactive_features=["twist-off lid", "carry loop"],
        use_scenarios=["hiking", "gym workouts", "office"],
        target_audience=["commuters", "hikers"],
        keywords=["insulated water bottle", "stainless steel", "leakproof", "wide mouth"],
        confidence=0.92,
        description="A navy insulated water bottle with a screw lid and a carry loop.",
    )


def tshirt() -> ProductAnalysis:
    """Seller-ish noise on purpose: claims, shouting, a URL, another brand's mark."""
    return ProductAnalysis(
        product_type="t-shirt",
        product_name="Organic Cotton Crew Neck T-Shirt",
        category="Clothing > Men > Shirts",
        materials=["100% cotton"],
        colors=["white", "black"],
        functional_cues=["SUPER SOFT ribbed collar", "best fit ever", "see www.shirts.example.com"],
        interactive_features=["machine washable"],
        use_scenarios=["casual wear", "layering under a jacket"],
        target_audience=["men"],
        keywords=["cotton t-shirt", "crew neck", "organic cotton", "Nike style tee"],
        brand_marks=["Nike"],
        confidence=0.8,
        description="A plain white crew neck t-shirt in soft cotton. Perfect for summer!",
    )


def mug() -> ProductAnalysis:
    """Sparse record: no audience, no cues; a brand mark seen but no seller brand."""
    return ProductAnalysis(
        product_type="coffee mug",
        product_name="Ceramic Coffee Mug",
        category="Home & Kitchen > Mugs",
        materials=["ceramic"],
        colors=[],
        keywords=["coffee mug"],
        brand_marks=["Yeti"],
        confidence=0.7,
        description="A white ceramic mug with a round handle.",
    )


GOOD_EN = ListingDraft(
    title="Acme Insulated Water Bottle, 750 ml Stainless Steel, Leakproof Lid, Navy Blue",
    bullet_points=[
        "Cold drinks all day: double-wall vacuum insulation keeps water cold for up to 24 hours "
        "and coffee warm for 12, so you can sip on your own schedule.",
        "No leaks in your bag: the screw lid seals with a silicone ring, so the bottle can ride "
        "upside down next to your laptop without spills.",
        "Easy to clean and fill: the wide mouth takes ice cubes and a bottle brush, and the "
        "powder coat keeps its grip when your hands are wet.",
        "Ready for trail and office: a sturdy carry loop clips to a backpack, and the slim body "
        "fits most car cup holders and bike cages.",
        "Clear specifications: holds 750 ml (25 oz), stands 26 cm tall, weighs 380 g, and is "
        "made of 18/8 stainless steel with a BPA-free lid.",
    ],
    description=(
        "The Acme insulated water bottle keeps drinks at the temperature you poured them. "
        "Its double-wall steel body does not sweat, so your bag stays dry.\n\n"
        "The leakproof screw lid and the carry loop make it an easy companion for hiking, "
        "gym workouts and long days at the office.\n\n"
        "Wash the lid by hand and the body with a bottle brush. The wide mouth makes both "
        "quick jobs."
    ),
    keywords=["insulated water bottle", "stainless steel bottle", "leakproof", "wide mouth"],
    search_terms="thermos flask hydration canteen hiking gym commuter school sports reusable",
    image_prompts=[
        "Main image: the navy bottle alone on a pure white background.",
        "Lifestyle: the bottle clipped to a hiking backpack on a mountain trail.",
        "Close-up of the screw lid and silicone seal.",
        "Dimensions: the bottle with height 26 cm and diameter 7.5 cm labels.",
        'Selling points: callouts "Cold 24 h", "Leakproof", "Wide mouth".',
    ],
)

BAD_EN = ListingDraft.model_construct(
    title=(
        "Acme #1 Best Water Bottle - Water Bottle for Gym, Water Bottle for Hiking, Stainless "
        "Steel Insulated Bottle Keeps Cold 24 Hours Hot 12 Hours, Leakproof Lid, Wide Mouth, "
        "BPA Free, Navy Blue, 750 ml, Gift for Men and Women"
    ),
    bullet_points=[
        "100% leakproof guaranteed: the lid never leaks. Order at www.acme-bottles.com today.",
        "100% leakproof guaranteed: the lid never leaks. Order at www.acme-bottles.com now.",
        "Keeps drinks cold.",
        "Great bottle.",
    ],
    description="Best bottle.",
    keywords=["water bottle"],
    search_terms=" ".join(["insulated hydration canteen thermos reusable"] * 6)[:268],
    image_prompts=["Main image"] * 5,
)

GOOD_ZH = ListingDraft(
    title="Acme 保温杯 750毫升 不锈钢真空保温水杯 防漏杯盖 藏青色",
    bullet_points=[
        "【长效保温】双层真空结构，冷饮保冷约24小时，热饮保温约12小时，随时喝到合适温度的水。",
        "【防漏设计】螺旋杯盖配硅胶密封圈，倒放在包里也不易洒漏，通勤出行更安心。",
        "【清洗方便】宽口设计可直接放入冰块，也方便用杯刷清洗，日常打理省时省力。",
        "【户外随行】提环可挂在背包上，杯身纤细，能放进大多数车载杯架和自行车水壶架。",
        "【规格参数】容量750毫升，高26厘米，重380克，杯身为不锈钢，杯盖不含BPA。",
    ],
    description=(
        "这款不锈钢水杯采用双层真空保温结构，杯身外壁不凝水，背包里的物品保持干燥。\n\n"
        "防漏杯盖和提环让它适合登山、健身和办公室等多种场景。\n\n"
        "杯盖建议手洗，杯身可用杯刷清洁。宽口设计让清洗和加冰都很轻松。"
        "作为一只日常使用的保温杯，它容量适中，重量轻巧，适合放在通勤包或运动包中随身携带。"
        "\n\n附赠一把杯刷，开箱即可使用。"
    ),
    keywords=["保温杯", "不锈钢水杯", "防漏"],
    search_terms="运动水壶 户外水瓶 健身 登山 通勤 学生",
    image_prompts=GOOD_EN.image_prompts,
)

BAD_ZH = ListingDraft.model_construct(
    title="Acme 最好的保温杯 第一品牌 " + "保温杯不锈钢真空水杯" * 5,
    bullet_points=[
        "【品质】100%保证不漏水，联系我们：shop@acme.example.com",
        "【品质】100%保证不漏水，联系我们：shop@acme.example.com。",
        "【保温】保温效果好。",
        "【材质】不锈钢。",
    ],
    description="最好的水杯。",
    keywords=["保温杯"],
    search_terms="运动水壶户外水瓶健身" * 9,  # 90 CJK characters = 270 UTF-8 bytes
    image_prompts=["主图"] * 5,
)
