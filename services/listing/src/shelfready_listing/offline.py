"""A deterministic listing writer that needs no network: templates filled from the analysis.

It exists so the pipeline runs without an API key (demo, CI). Every fragment taken from the
product record or the seller is cleaned first (HTML, contact details, other brands, banned
claims, shouting), the copy is assembled within the marketplace limits, and the description
ends with a line saying it was drafted offline. English, Chinese, Japanese and German have
templates; other languages fall back to English. Image prompts are always English (image
models follow English best) with on-image callout text in the listing language.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

from shelfready_core.ai import StageResult
from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_listing.marketplace import check_listing
from shelfready_listing.offline_templates import COLOUR_PARTS, GLOSSARY, TEMPLATES
from shelfready_listing.rules import MarketplaceRules, rules_for
from shelfready_listing.text_checks import (
    all_caps_words,
    banned_phrases_in,
    competitor_brands,
    has_cjk,
    has_contact_details,
    is_decorative_symbol,
    mentions,
    primary_language,
    repeated_title_words,
    strip_html,
    title_words,
    title_words_in_search_terms,
    utf8_len,
)
from shelfready_listing.vocabulary import ACRONYMS, TITLE_STOPWORDS

logger = logging.getLogger(__name__)

OFFLINE_NOTICE = {
    "en": "(Drafted offline without AI; review before publishing.)",
    "zh": "（离线生成，未使用 AI；发布前请审核。）",
    "ja": "（AIを使わずオフラインで作成しました。公開前にご確認ください。）",
    "de": "(Offline ohne KI erstellt; vor der Veröffentlichung prüfen.)",
}
BULLET_BUDGET = 240  # under the 250-character readability mark of every marketplace
MAX_KEYWORDS = 15
# Title case leaves these lower-case: the words a title may repeat (same list as the rules).
SMALL_WORDS = TITLE_STOPWORDS["en"]
UNITS = frozenset(
    [
        "ml",
        "l",
        "cl",
        "g",
        "kg",
        "mg",
        "oz",
        "lb",
        "lbs",
        "mm",
        "cm",
        "m",
        "in",
        "ft",
        "w",
        "v",
        "mah",
    ]
)


class OfflineListingWriter:
    """ListingWriter without a model: deterministic, rule-compliant, clearly labelled."""

    def write(self, product: ProductAnalysis, request: ListingRequest) -> StageResult[ListingDraft]:
        rules = rules_for(request.marketplace, request.market)
        lang = primary_language(request.language)
        if lang not in TEMPLATES:
            logger.info("offline writer has no %s templates; writing English", lang)
            lang = "en"
        draft = _Composer(product, request, rules, lang).draft()
        violations = check_listing(
            draft,
            rules,
            brand=request.brand,
            language=lang,
            brand_marks=product.brand_marks,
        )
        if violations:  # the composer should prevent this; say so rather than hide it
            logger.warning("offline listing breaks %s rule(s): %s", len(violations), violations)
        return StageResult(
            value=draft,
            notes={"writer": "offline", "language": lang, "violations": violations},
        )


class _Composer:
    """Builds one draft; holds the cleaned inputs so each field is a small method."""

    def __init__(
        self,
        product: ProductAnalysis,
        request: ListingRequest,
        rules: MarketplaceRules,
        lang: str,
    ) -> None:
        self.product = product
        self.request = request
        self.rules = rules
        self.lang = lang
        self.t = TEMPLATES[lang]
        self.brand = request.brand.strip() if request.brand and request.brand.strip() else None
        self.others = competitor_brands(self.brand, product.brand_marks)
        self.product_type = self.clean(product.product_type) or "product"
        self.name = self.clean(request.product_name or "") or self.clean(product.product_name)
        self.materials = self.clean_all(product.materials)
        self.colours = self.clean_all(product.colors)
        emphasis = self.clean_all(request.emphasis)
        self.features = _unique(
            emphasis
            + self.clean_all(request.features)
            + self.clean_all(product.functional_cues)
            + self.clean_all(product.interactive_features)
        )
        self.scenarios = self.clean_all(product.use_scenarios)
        self.audience = self.clean_all(product.target_audience)
        self.specs = [
            (k2, v2)
            for k, v in request.specifications.items()
            if (k2 := self.clean(k)) and (v2 := self.clean(v))
        ]

    # -- cleaning ---------------------------------------------------------------------

    def clean(self, text: str) -> str | None:
        """A fragment safe to publish, or None when it cannot be made so.

        Fragments with claims, contact details or other brands are dropped whole: cutting the
        offending words out ("best fit ever" -> "fit ever") leaves copy nobody would write.
        """
        text = strip_html(text)
        if not text or has_contact_details(text, self.request.market):
            return None
        if any(mentions(text, name) for name in self.others):
            return None
        for word in all_caps_words(text, self.brand):
            text = text.replace(word, word.capitalize())
        text = "".join(c for c in text if not is_decorative_symbol(c))
        text = re.sub(r"\s{2,}", " ", text).strip(" ,;:.")
        if not text or banned_phrases_in(text, self.lang, self.rules):
            return None
        return text

    def clean_all(self, texts: Iterable[str]) -> list[str]:
        return _unique(c for t in texts if (c := self.clean(t)))

    def local(self, term: str) -> str:
        """The glossary translation of a colour or material, else the term as given."""
        if self.lang == "en":
            return term
        return GLOSSARY.get(term.casefold(), {}).get(self.lang, term)

    def join(self, items: Sequence[str], budget: int, *, specs: bool = False) -> str:
        """Items joined naturally (specs with semicolons), as many as fit in `budget`."""
        chosen: list[str] = []
        for item in items:
            candidate = self._joined([*chosen, item], specs)
            if len(candidate) > budget and chosen:
                break
            chosen.append(item)
        return self._joined(chosen, specs)

    def _joined(self, items: Sequence[str], specs: bool) -> str:
        if specs:
            return ("；" if self.lang in {"zh", "ja"} else "; ").join(items)
        if len(items) <= 1:
            return "".join(items)
        return self.t.list_separator.join(items[:-1]) + self.t.last_separator + items[-1]

    @property
    def list_budget(self) -> int:
        """Room for a list inside one sentence; CJK sentences must stay short to read well."""
        return 60 if self.lang in {"zh", "ja"} else BULLET_BUDGET - 40

    @property
    def spec_lines(self) -> list[str]:
        return [f"{k}: {v}" for k, v in self.specs]

    @property
    def scenario_list(self) -> list[str]:
        return self.scenarios or [self.t.any_scenario]

    @property
    def audience_list(self) -> list[str]:
        return self.audience or [self.t.any_audience]

    # -- fields -----------------------------------------------------------------------

    def draft(self) -> ListingDraft:
        title = self.title()
        bullets = self.bullets()
        return ListingDraft(
            title=title,
            bullet_points=bullets,
            description=self.description(),
            keywords=self.keywords(),
            search_terms=self.search_terms(title),
            image_prompts=self.image_prompts(),
        )

    def title(self) -> str:
        head = self.name or self.product_type
        if self.product_type.casefold() not in head.casefold():
            head = f"{head} {self.product_type}"
        if self.brand and not head.casefold().startswith(self.brand.casefold()):
            head = f"{self.brand} {head}"
        head = self.title_safe(head)
        originals = self.materials[:1] + self.colours[:1]
        originals += [v for _, v in self.specs if len(v) <= 20 and re.search(r"\d", v)][:1]
        title = head
        for original in originals:
            attribute = self.title_safe(self.local(original))
            if not attribute or any(
                a.casefold() in title.casefold() for a in (original, attribute)
            ):
                continue
            candidate = f"{title}, {attribute}" if self.lang != "zh" else f"{title} {attribute}"
            if len(candidate) <= self.rules.title_max_chars and not repeated_title_words(
                candidate, self.lang, self.rules.title_max_word_repeats
            ):
                title = candidate
        if len(title) > self.rules.title_max_chars:
            title = title[: self.rules.title_max_chars].rsplit(" ", 1)[0]
        return title if self.lang == "de" else _title_case(title)

    def title_safe(self, text: str) -> str:
        brand = self.brand or ""
        rest = text[len(brand) :] if brand and text.startswith(brand) else text
        rest = "".join(" " if c in self.rules.forbidden_title_chars else c for c in rest)
        return re.sub(r"\s{2,}", " ", (text[: len(text) - len(rest)] + rest)).strip(" ,")

    def bullets(self) -> list[str]:
        t = self.t
        budget = self.list_budget
        design = (
            t.design.format(items=self.join(self.features, budget))
            if self.features
            else t.design_fallback
        )
        scenarios = t.scenarios.format(scenarios=self.join(self.scenario_list, budget))
        audience = t.audience.format(
            audience=self.join(self.audience_list, 80), product_type=self.product_type
        )
        specs = (
            t.specs.format(specs=self.join(self.spec_lines, budget, specs=True))
            if self.specs
            else t.specs_fallback
        )
        bullets = (design, self.materials_bullet(), scenarios, audience, specs)
        return [b[:BULLET_BUDGET] for b in bullets]

    def materials_bullet(self) -> str:
        t = self.t
        colours = self.join([self.local(c) for c in self.colours], 60)
        if self.materials:
            colour_part = COLOUR_PARTS[self.lang].format(colours=colours) if colours else ""
            return t.materials.format(
                materials=self.join([self.local(m) for m in self.materials], 80),
                colour_part=colour_part,
            )
        if colours:
            return t.colours_only.format(colours=colours)
        return t.materials_fallback

    def description(self) -> str:
        t = self.t
        paragraphs = []
        if self.lang == "en":  # recognition writes English; keep its sentences that are clean
            sentences = re.split(r"(?<=[.!?])\s+", self.product.description)
            summary = " ".join(c.rstrip(".") + "." for s in sentences if (c := self.clean(s)))
            if summary:
                paragraphs.append(summary)
        if self.features:
            first = self.join(self.features, self.list_budget)
            paragraphs.append(t.intro.format(product_type=self.product_type, first_feature=first))
        paragraphs.append(_strip_headline(self.materials_bullet()))
        paragraphs.append(
            t.closing.format(
                audience=self.join(self.audience_list, 100),
                scenarios=self.join(self.scenario_list, 120),
            )
        )
        if self.specs:
            paragraphs.append(t.specs.format(specs=self.join(self.spec_lines, 400, specs=True)))
        limit = (self.rules.description_max_chars or 5000) - 80
        body = "\n\n".join(paragraphs)[:limit]
        return f"{body}\n\n{OFFLINE_NOTICE[self.lang]}"

    def keywords(self) -> list[str]:
        candidates = [self.product_type, *self.clean_all(self.product.keywords)]
        candidates += [self.local(m) for m in self.materials] + self.scenarios
        limit_chars = self.rules.tag_max_chars or 60
        limit_count = self.rules.tag_max_count or MAX_KEYWORDS
        words = [
            k
            for k in _unique(candidates)
            if len(k) <= limit_chars and not (self.brand and mentions(k, self.brand))
        ]
        return words[:limit_count]

    def search_terms(self, title: str) -> str:
        limit = self.rules.search_terms_byte_limit
        if limit is None:
            return ""
        sources = [*self.product.keywords, *self.scenarios, *self.audience, *self.features]
        sources += [self.local(c) for c in self.colours + self.materials]
        # The category path ("Home & Kitchen > Mugs") names departments shoppers browse.
        sources += re.split(r"\s*[>/|]\s*", self.request.category or self.product.category)
        tokens: list[str] = []
        for source in sources:
            cleaned = self.clean(source)
            if not cleaned or (self.brand and mentions(cleaned, self.brand)):
                continue
            for token in re.split(r"[\s,;/]+", cleaned.casefold()):
                token = token.strip(".()[]'\"")
                if (
                    (len(token) < 3 and not has_cjk(token))
                    or token in tokens
                    or (not title_words(token, self.lang) and not has_cjk(token))
                    or title_words_in_search_terms(token, title, self.lang)
                    or banned_phrases_in(token, self.lang, self.rules)
                ):
                    continue
                if utf8_len(" ".join([*tokens, token])) >= limit:
                    return " ".join(tokens)
                tokens.append(token)
        return " ".join(tokens)

    def image_prompts(self) -> list[str]:
        subject = self.name or self.product_type
        looks = ", ".join(self.colours[:2] + self.materials[:2])
        looks = f" ({looks})" if looks else ""
        cues = self.clean_all(self.product.functional_cues)
        detail = (cues or self.features or self.materials or ["its build and finish"])[0]
        scenario = (self.scenarios or ["everyday use"])[0]
        people = (self.audience or ["an adult"])[0]
        dimensions = "; ".join(self.spec_lines) or "height and width"
        callouts = ", ".join(f'"{h}"' for h in self.t.headlines)
        return [
            f"Main image: the {subject}{looks} alone on a pure white background (RGB 255, "
            "255, 255), the whole product in frame and filling about 85% of it, soft even "
            "studio light, no text, logos, props, borders or watermark.",
            f"Lifestyle scene (bullet 3): the {self.product_type} in use during {scenario}, "
            f"handled by {people}, natural light, realistic setting, product clearly visible.",
            f"Detail close-up (bullets 1-2): macro shot of the {self.product_type} showing "
            f"{detail}, crisp focus on texture and build quality, neutral background.",
            f"Dimensions image (bullet 5): the {self.product_type} on white with thin "
            f"measurement lines and labels for {dimensions}.",
            f"Selling points (bullets 1-4): the {self.product_type} on a light background "
            f"with three short on-image callouts in the listing language: {callouts}.",
        ]


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(item.casefold(), item)
    return list(seen.values())


def _strip_headline(bullet: str) -> str:
    """A bullet as a description sentence: without its '【...】' or 'Headline:' lead."""
    bullet = re.sub(r"^【[^】]*】", "", bullet)
    head, sep, rest = bullet.partition(": ")
    return rest[:1].upper() + rest[1:] if sep and len(head) < 30 else bullet


def _title_case(title: str) -> str:
    """Amazon style: capitalise each word except short joining words, units and acronyms."""
    words = title.split(" ")
    out = []
    for index, word in enumerate(words):
        bare = word.strip(",").casefold()
        keep = (
            (index > 0 and bare in SMALL_WORDS)
            or bare in UNITS
            or word.upper() in ACRONYMS
            or not word[:1].islower()
            or has_cjk(word)
        )
        out.append(word if keep else "-".join(p[:1].upper() + p[1:] for p in word.split("-")))
    return " ".join(out)
