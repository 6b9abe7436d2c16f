"""A deterministic listing writer that needs no network: templates filled from the analysis.

It exists so the pipeline runs without an API key (demo, CI). Every fragment taken from the
product record or the seller is cleaned first (HTML, contact details, other brands, banned
claims, shouting, internal notes), the copy is built from the recognised attributes (type,
colour, material, size from the specifications) and the facts the seller's regenerate
feedback states, and the draft goes through the same review as Claude's. It claims no
variants: one product, its dominant colour. A camera file name (IMG_1234, DSC_, PXL_,
Screenshot ...) is never a product name. An offline draft is never approved: its review
says `writer: offline`, `needs_review: true` and why, in those fields, never in the copy.
English, Chinese, Japanese and German have templates (the whole listing in that language);
other languages fall back to English. Image prompts are always English (image models follow
English best) with on-image callout text in the listing language.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

from shelfready_core.ai import StageResult
from shelfready_core.schemas import ListingDraft, ListingRequest, ListingReview, ProductAnalysis
from shelfready_listing.feedback import FeedbackFacts, facts_from_feedback
from shelfready_listing.marketplace import check_listing
from shelfready_listing.offline_templates import COLOUR_PARTS, GLOSSARY, TEMPLATES
from shelfready_listing.review import ReviewContext, review_draft
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
from shelfready_listing.vocabulary import (
    ACRONYMS,
    INTERNAL_NOTE_PATTERNS,
    MATERIAL_TERMS,
    PRODUCT_TERMS,
    TITLE_STOPWORDS,
)

logger = logging.getLogger(__name__)

# Said in the review's reasons, never in the copy: shoppers must not read it.
OFFLINE_REASON = (
    "drafted offline without AI from the recognised attributes; check every fact before publishing"
)
# Camera and screenshot default names say nothing about the product.
CAMERA_NAME_RE = re.compile(
    r"^(?:img|image|dsc[nf]?|pxl|mvimg|photo|pic|picture|screenshot|screen shot|whatsapp image"
    r"|unidentified product|product|untitled)(?:[\s_-]*[\d_\-\s.:]*)*$"
    r"|^(?:img|dsc[nf]?|pxl|mvimg)[\s_-]*\d",
    re.IGNORECASE,
)
_INTERNAL_RE = re.compile("|".join(f"(?:{p})" for p in INTERNAL_NOTE_PATTERNS), re.IGNORECASE)


def is_camera_name(name: str) -> bool:
    """'IMG_2041', 'DSC_0042', 'PXL_20240101_123456', 'Screenshot 2024-01-01' -> True."""
    return bool(CAMERA_NAME_RE.search(name.strip()))


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
        composer = _Composer(product, request, rules, lang)
        first_draft = composer.draft()
        ctx = ReviewContext(
            rules=rules, request=request.model_copy(update={"language": lang}), product=product
        )
        reviewed = review_draft(first_draft, ctx)
        draft = reviewed.draft
        violations = check_listing(
            draft,
            rules,
            brand=request.brand,
            language=lang,
            brand_marks=product.brand_marks,
        )
        if violations:  # the composer and review should prevent this; say so, do not hide it
            logger.warning("offline listing breaks %s rule(s): %s", len(violations), violations)
        reasons = [OFFLINE_REASON, *composer.caveats, *reviewed.reasons]
        review = ListingReview(
            writer="offline",
            fixes=reviewed.fixes,
            needs_review=True,
            review_reasons=list(dict.fromkeys(reasons)),
            calls=0,
        )
        return StageResult(
            value=draft,
            notes={
                "writer": "offline",
                "language": lang,
                "violations": violations,
                "review": review,
                "first_draft": first_draft,
            },
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
        self.caveats: list[str] = []
        stated: FeedbackFacts = facts_from_feedback(request.feedback)
        self.name = self.product_name(stated, request, product)
        self.product_type = self.type_of(product, stated)
        self.materials = self.clean_all(
            [stated.material] if stated.material else product.materials or self.named_materials()
        )
        # One product, one colour: recognition's first (dominant) colour, or the stated one.
        # Listing every palette colour reads as colour variants that do not exist.
        self.colours = self.clean_all([stated.colour] if stated.colour else product.colors[:1])
        emphasis = self.clean_all(request.emphasis)
        self.features = _unique(
            emphasis
            + self.clean_all(request.features)
            + self.clean_all(self.recognised(product.functional_cues))
            + self.clean_all(self.recognised(product.interactive_features))
        )
        self.scenarios = self.clean_all(self.recognised(product.use_scenarios))
        self.audience = self.clean_all(self.recognised(product.target_audience))
        specifications = dict(request.specifications)
        if stated.size and not any(k.casefold() == "size" for k in specifications):
            specifications["Size"] = stated.size
        self.specs = [
            (k2, v2)
            for k, v in specifications.items()
            if (k2 := self.clean(k)) and (v2 := self.clean(v))
        ]

    def product_name(
        self, stated: FeedbackFacts, request: ListingRequest, product: ProductAnalysis
    ) -> str | None:
        """The stated, the seller's or the recognised name; never a camera file name."""
        for candidate in (stated.name, request.product_name, product.product_name):
            if not candidate:
                continue
            cleaned = self.clean(candidate)
            if cleaned and not is_camera_name(cleaned):
                return cleaned
            if cleaned and "unidentified" not in cleaned.casefold():
                self.caveats.append(
                    f"the product name {cleaned!r} looks like a camera file name, so it was "
                    "not used; give the product name"
                )
        return None

    def type_of(self, product: ProductAnalysis, stated: FeedbackFacts) -> str:
        kind = self.clean(product.product_type)
        if kind and kind.casefold() != "product" and not is_camera_name(kind) and not stated.name:
            return kind
        if self.name:  # the last words of a name are usually the kind of thing
            words = [w for w in self.name.split() if w.casefold() not in MATERIAL_TERMS]
            if words:
                return " ".join(words[-2:]).casefold()
        if self.request.category:
            leaf = re.split(r"\s*[>/|]\s*", self.request.category)[-1]
            if leaf.strip():
                return leaf.strip().casefold()
        self.caveats.append("recognition could not tell what the product is; name it")
        return "product"

    def named_materials(self) -> list[str]:
        """Materials the product name states ('Ceramic Coffee Mug' -> ceramic)."""
        text = (self.name or "").casefold()
        found = [m for m in MATERIAL_TERMS if re.search(rf"\b{re.escape(m)}\b", text)]
        # 'stainless steel' wins over 'stainless' and 'steel'.
        return [m for m in found if not any(m != o and m in o for o in found)]

    # -- cleaning ---------------------------------------------------------------------

    def clean(self, text: str) -> str | None:
        """A fragment safe to publish, or None when it cannot be made so.

        Fragments with claims, contact details or other brands are dropped whole: cutting the
        offending words out ("best fit ever" -> "fit ever") leaves copy nobody would write.
        """
        text = strip_html(text)
        if not text or has_contact_details(text, self.request.market) or _INTERNAL_RE.search(text):
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

    def names_other_colour(self, text: str) -> bool:
        """Whether text names a recognised colour this listing does not claim."""
        chosen = {c.casefold() for c in self.colours}
        return any(mentions(text, c) for c in self.product.colors if c.casefold() not in chosen)

    @property
    def own_keywords(self) -> list[str]:
        """Recognition's keywords without the palette colours this listing does not claim."""
        others = {c.casefold() for c in self.product.colors} - {c.casefold() for c in self.colours}
        return [k for k in self.product.keywords if k.casefold() not in others]

    def recognised(self, texts: Iterable[str]) -> list[str]:
        """Recognition's free text (English) where the listing language can use it.

        The offline writer cannot translate a phrase, and an English phrase in a German or
        Japanese listing is not that language: such phrases are used only when the glossary
        knows them or when they are already written in the listing's script.
        """
        if self.lang == "en":
            return list(texts)
        usable = []
        for text in texts:
            native = self.local(text)
            if native != text or (self.lang in {"zh", "ja"} and has_cjk(text)):
                usable.append(native)
        return usable

    def clean_all(self, texts: Iterable[str]) -> list[str]:
        return _unique(c for t in texts if (c := self.clean(t)))

    def local(self, term: str) -> str:
        """The glossary translation of a colour, material or product type, else the term."""
        if self.lang == "en":
            return term
        key = term.casefold()
        native = GLOSSARY.get(key, {}).get(self.lang) or PRODUCT_TERMS.get(key, {}).get(self.lang)
        if native:
            return native
        words = key.split()
        if len(words) > 1:  # 'insulated water bottle' -> 'water bottle' -> 'bottle'
            return self.local(" ".join(words[1:]))
        return term

    @property
    def local_type(self) -> str:
        return self.local(self.product_type)

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
        if self.lang == "en":
            head = self.name or self.product_type
            if self.product_type.casefold() not in head.casefold():
                head = f"{head} {self.product_type}"
        else:
            # The English name would leave English words in a Japanese title: build it from
            # the native words for the material and the product type instead.
            parts = [self.local(m) for m in self.materials[:1]] + [self.local_type]
            head = ("" if self.lang in {"zh", "ja"} else " ").join(parts)
            if self.lang == "de":
                head = " ".join(p[:1].upper() + p[1:] for p in head.split(" "))
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
            joiner = " " if self.lang in {"zh", "ja"} else ", "
            candidate = f"{title}{joiner}{attribute}"
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
        kind = self.local_type
        design = (
            t.design.format(items=self.join(self.features, budget))
            if self.features
            else t.design_fallback.format(product_type=kind)
        )
        scenarios = t.scenarios.format(
            scenarios=self.join(self.scenario_list, budget), product_type=kind
        )
        audience = t.audience.format(audience=self.join(self.audience_list, 80), product_type=kind)
        specs = (
            t.specs.format(specs=self.join(self.spec_lines, budget, specs=True))
            if self.specs
            else t.specs_fallback.format(product_type=kind)
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
            return t.colours_only.format(colours=colours, product_type=self.local_type)
        return t.materials_fallback.format(product_type=self.local_type)

    def description(self) -> str:
        t = self.t
        paragraphs = []
        if self.lang == "en":  # recognition writes English; keep its sentences that are clean
            sentences = re.split(r"(?<=[.!?])\s+", self.product.description)
            summary = " ".join(
                c.rstrip(".") + "."
                for s in sentences
                if (c := self.clean(s)) and not self.names_other_colour(c)
            )
            if summary:
                paragraphs.append(summary)
        if self.features:
            first = self.join(self.features, self.list_budget)
            paragraphs.append(t.intro.format(product_type=self.local_type, first_feature=first))
        paragraphs.append(_strip_headline(self.materials_bullet()))
        paragraphs.append(
            t.closing.format(
                audience=self.join(self.audience_list, 100),
                scenarios=self.join(self.scenario_list, 120),
            )
        )
        if self.specs:
            paragraphs.append(t.specs.format(specs=self.join(self.spec_lines, 400, specs=True)))
        limit = self.rules.description_max_chars or 5000
        return "\n\n".join(dict.fromkeys(paragraphs))[:limit]

    def keywords(self) -> list[str]:
        candidates = [self.local_type, *self.clean_all(self.recognised(self.own_keywords))]
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
        sources = [*self.recognised(self.own_keywords), *self.scenarios, *self.audience]
        sources += self.features
        sources += [self.local(c) for c in self.colours + self.materials]
        # The category path ("Home & Kitchen > Mugs") names departments shoppers browse.
        category = self.request.category or self.product.category
        if category.casefold() != "uncategorized":
            sources += self.recognised(re.split(r"\s*[>/|]\s*", category))
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
