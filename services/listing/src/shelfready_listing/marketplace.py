"""Marketplace listing rules as data, and the checks that hold a draft to them.

One frozen `MarketplaceRules` per marketplace (plus market overrides such as Amazon UK's
150-character titles). `find_violations` returns structured records; `check_listing` turns them
into the human-readable lines the Claude repair turn quotes. Character limits count characters;
byte limits count UTF-8 bytes (a CJK character is 3 bytes).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import phonenumbers

from shelfready_core.schemas import ListingDraft

logger = logging.getLogger(__name__)

# Amazon: "! $ ? _ { } ^ ¬ ¦" are not allowed in titles unless part of the brand.
AMAZON_FORBIDDEN_TITLE_CHARS = frozenset("!$?_{}^¬¦")


@dataclass(frozen=True)
class MarketplaceRules:
    """The published limits of one marketplace (optionally one market of it)."""

    marketplace: str
    market: str = "*"  # "*" = every market without an override
    title_max_chars: int = 200
    # Readability range for the quality score, not a hard limit.
    title_recommended_chars: tuple[int, int] = (40, 80)
    brand_first: bool = False
    bullet_count: int = 5
    bullet_soft_max_chars: int = 250  # readability; scored, not enforced
    bullet_hard_max_chars: int = 500  # the field limit; enforced
    description_max_chars: int | None = None
    description_recommended_chars: tuple[int, int] = (300, 2000)
    description_allows_html: bool = False
    # Exclusive upper bound in UTF-8 bytes ("under 250 bytes"); None = no search-terms field.
    search_terms_byte_limit: int | None = None
    search_terms_exclude_title_words: bool = False
    # Keywords double as tags where the marketplace has them (Etsy: 13 tags of 20 characters).
    tag_max_count: int | None = None
    tag_max_chars: int | None = None
    forbidden_title_chars: frozenset[str] = frozenset()
    title_forbids_symbols: bool = False  # decorative symbols and emoji
    title_max_word_repeats: int = 2  # keyword stuffing
    extra_banned_phrases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How messages name the rule's owner: 'amazon' or 'amazon UK'."""
        return self.marketplace if self.market == "*" else f"{self.marketplace} {self.market}"


AMAZON = MarketplaceRules(
    marketplace="amazon",
    title_max_chars=200,
    title_recommended_chars=(40, 80),  # Amazon recommends under 80 for readability
    brand_first=True,
    bullet_soft_max_chars=250,
    bullet_hard_max_chars=500,
    description_max_chars=2000,
    search_terms_byte_limit=250,
    search_terms_exclude_title_words=True,
    forbidden_title_chars=AMAZON_FORBIDDEN_TITLE_CHARS,
    title_forbids_symbols=True,
)
ETSY = MarketplaceRules(
    marketplace="etsy",
    title_max_chars=140,
    title_recommended_chars=(30, 100),
    tag_max_count=13,
    tag_max_chars=20,
)
SHOPIFY = MarketplaceRules(
    marketplace="shopify",
    title_max_chars=255,
    title_recommended_chars=(20, 70),  # search engines show about 70 characters
    description_allows_html=True,
)
EBAY = MarketplaceRules(
    marketplace="ebay",
    title_max_chars=80,
    title_recommended_chars=(40, 80),  # eBay rewards using the whole 80
    description_allows_html=True,
    extra_banned_phrases=("l@@k", "wow"),
)

MARKETPLACES: dict[str, MarketplaceRules] = {
    r.marketplace: r for r in (AMAZON, ETSY, SHOPIFY, EBAY)
}
MARKET_OVERRIDES: dict[tuple[str, str], MarketplaceRules] = {
    # Amazon UK's generic title guide asks for at most 150 characters.
    ("amazon", "UK"): replace(AMAZON, market="UK", title_max_chars=150),
}
_MARKET_ALIASES = {"GB": "UK"}


def rules_for(marketplace: str, market: str = "US") -> MarketplaceRules:
    """The rules for a marketplace in a market; unknown markets get the marketplace's defaults."""
    key = marketplace.strip().lower()
    if key not in MARKETPLACES:
        known = ", ".join(sorted(MARKETPLACES))
        raise ValueError(f"unknown marketplace {marketplace!r}; known marketplaces: {known}")
    market_key = market.strip().upper()
    market_key = _MARKET_ALIASES.get(market_key, market_key)
    return MARKET_OVERRIDES.get((key, market_key), MARKETPLACES[key])


# --- vocabularies -------------------------------------------------------------------------

# Promotional, subjective, time-sensitive and medical claims, per output language. English
# applies to every language (copy often mixes in English), the language's own list on top.
BANNED_PHRASES: dict[str, tuple[str, ...]] = {
    "en": (
        "best",
        "best seller",
        "bestseller",
        "best-selling",
        "#1",
        "no. 1",
        "no.1",
        "number one",
        "100%",
        "guarantee",
        "guaranteed",
        "free shipping",
        "free delivery",
        "hot item",
        "sale",
        "on sale",
        "discount",
        "cheapest",
        "lowest price",
        "great gift",
        "perfect",
        "limited time",
        "buy now",
        "order now",
        "top rated",
        "5-star",
        "five-star",
        "cure",
        "cures",
        "treat",
        "treats",
        "heals",
        "fda approved",
        "fda-approved",
        "fda cleared",
        "anti-bacterial",
        "antibacterial",
        "antimicrobial",
        "anti-microbial",
        "antiviral",
        "anti-viral",
        "anti-fungal",
        "antifungal",
        "kills germs",
    ),
    "zh": (
        "最好",
        "最佳",
        "第一",
        "保证",
        "顶级",
        "极品",
        "最便宜",
        "包邮",
        "免运费",
        "特价",
        "促销",
        "治疗",
        "治愈",
        "抗菌",
        "杀菌",
        "国家级",
        "万能",
    ),
    "ja": (
        "最高",
        "一番",
        "保証",
        "最安",
        "世界一",
        "日本一",
        "完璧",
        "絶対",
        "送料無料",
        "激安",
        "セール",
        "治る",
        "治療",
        "抗菌",
        "殺菌",
    ),
    "de": (
        "beste",
        "bester",
        "bestes",
        "besten",
        "garantiert",
        "geld-zurück-garantie",
        "kostenloser versand",
        "versandkostenfrei",
        "perfekt",
        "perfekte",
        "perfekter",
        "perfektes",
        "perfekten",
        "nummer 1",
        "nr. 1",
        "sonderangebot",
        "heilt",
        "heilen",
        "antibakteriell",
    ),
}

# "100% cotton" states a material, not a promise: "100%" next to one of these is allowed.
MATERIAL_WORDS = (
    "cotton",
    "linen",
    "silk",
    "wool",
    "merino",
    "cashmere",
    "polyester",
    "nylon",
    "leather",
    "bamboo",
    "recycled",
    "baumwolle",
    "leinen",
    "seide",
    "wolle",
    "leder",
    "棉",
    "羊毛",
    "真丝",
    "亚麻",
    "綿",
    "ウール",
    "シルク",
    "麻",
)

# A small list of well-known brands that must not appear in a seller's copy.
COMPETITOR_BRANDS = (
    "Amazon Basics",
    "AmazonBasics",
    "Samsung",
    "Sony",
    "Nike",
    "Adidas",
    "Yeti",
    "Hydro Flask",
    "Owala",
    "CamelBak",
    "Contigo",
    "Anker",
    "Dyson",
    "Lego",
    "IKEA",
    "Logitech",
    "Bose",
    "KitchenAid",
    "Tupperware",
    "Le Creuset",
    "Lululemon",
    "Under Armour",
    "Xiaomi",
    "Huawei",
)

# Words a title may repeat freely (Amazon: prepositions, articles and conjunctions).
TITLE_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "a",
            "an",
            "the",
            "and",
            "or",
            "nor",
            "but",
            "for",
            "of",
            "in",
            "on",
            "at",
            "to",
            "by",
            "with",
            "from",
            "into",
            "onto",
            "per",
            "via",
            "as",
            "x",
            "&",
            "-",
            "up",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "den",
            "dem",
            "des",
            "ein",
            "eine",
            "einen",
            "einem",
            "einer",
            "und",
            "oder",
            "für",
            "mit",
            "von",
            "zu",
            "zum",
            "zur",
            "im",
            "in",
            "am",
            "an",
            "auf",
            "aus",
            "bei",
            "x",
        ]
    ),
}

# Upper-case words of 4+ letters that are acronyms, not shouting (shorter ones never count).
# fmt: off
ACRONYMS = frozenset((
    "OLED", "QLED", "AMOLED", "HDMI", "HEPA", "PTFE", "PFOA", "PFAS", "DSLR", "RFID", "ASTM",
    "ANSI", "NFPA", "NIOSH", "CMYK", "WIFI", "LIDAR", "XXXL", "XXXXL", "UHMW", "EPDM", "NEMA",
))
# fmt: on
_CAPS_MIN_LETTERS = 4

_CJK_RANGES = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff66-\uff9f"
_CJK_RE = re.compile(f"[{_CJK_RANGES}]")
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|net|org|shop|store|io|co|uk|de|jp|cn|info|biz)\b(?:/\S*)?",
    re.IGNORECASE,
)
_HTML_RE = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?\s*>|&(?:[a-zA-Z]+|#\d+);")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# Runs of letters other than CJK (which has no case): "不含BPA" yields "BPA".
_LETTERS_RE = re.compile(rf"[^\W\d_{_CJK_RANGES}]+")


def primary_language(language: str) -> str:
    """'zh-CN' -> 'zh'."""
    return re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0] or "en"


def is_cjk_language(language: str) -> bool:
    return primary_language(language) in {"zh", "ja", "ko"}


def has_cjk(text: str) -> bool:
    return bool(_CJK_RE.search(text))


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """One broken rule: which field, what kind (for scoring), and the sentence to show."""

    field: str
    kind: str
    message: str


def check_listing(
    draft: ListingDraft,
    rules: MarketplaceRules,
    *,
    brand: str | None,
    language: str,
    brand_marks: Sequence[str] = (),
) -> list[str]:
    """Human-readable rule violations of a draft; empty when it complies.

    `brand_marks` are brand names recognition saw on the product; when the seller names a
    brand of their own, any other mark counts as a competitor brand.
    """
    return [
        v.message
        for v in find_violations(
            draft, rules, brand=brand, language=language, brand_marks=brand_marks
        )
    ]


def find_violations(
    draft: ListingDraft,
    rules: MarketplaceRules,
    *,
    brand: str | None,
    language: str,
    brand_marks: Sequence[str] = (),
) -> list[Violation]:
    lang = primary_language(language)
    brand = brand.strip() if brand and brand.strip() else None
    found: list[Violation] = []
    found += _title_violations(draft.title, rules, brand, lang)
    found += _bullet_violations(draft.bullet_points, rules, lang)
    found += _description_violations(draft.description, rules)
    found += _search_terms_violations(draft.search_terms, draft.title, rules, brand, lang)
    found += _tag_violations(draft.keywords, rules)
    others = competitor_brands(brand, brand_marks)
    for field, text in labelled_fields(draft, rules):
        found += _content_violations(field, text, rules, lang, others, brand)
    return found


def labelled_fields(draft: ListingDraft, rules: MarketplaceRules) -> Iterator[tuple[str, str]]:
    """Every customer-facing text of a draft with the name messages use for it."""
    yield "title", draft.title
    for number, bullet in enumerate(draft.bullet_points, start=1):
        yield f"bullet {number}", bullet
    yield "description", draft.description
    if draft.search_terms:
        yield "search terms", draft.search_terms
    tag = "tag" if rules.tag_max_count else "keyword"
    for number, keyword in enumerate(draft.keywords, start=1):
        yield f"{tag} {number}", keyword


def competitor_brands(brand: str | None, brand_marks: Sequence[str]) -> list[str]:
    """Brands the copy must not name: the fixed list plus foreign marks seen on the product."""
    own = brand.casefold() if brand else None
    names = list(COMPETITOR_BRANDS)
    if own:  # without a seller brand the marks on the product are most likely its own brand
        names += [m.strip() for m in brand_marks if m.strip()]
    unique: dict[str, str] = {}
    for name in names:
        key = name.casefold()
        if key != own and (own is None or key not in own):
            unique.setdefault(key, name)
    return list(unique.values())


# --- field checks -------------------------------------------------------------------------


def _title_violations(
    title: str, rules: MarketplaceRules, brand: str | None, lang: str
) -> Iterator[Violation]:
    stripped = title.strip()
    if not stripped:
        yield Violation("title", "title_empty", "title is empty")
        return
    if len(title) > rules.title_max_chars:
        yield Violation(
            "title",
            "title_length",
            f"title is {len(title)} characters; {rules.label} allows at most "
            f"{rules.title_max_chars}",
        )
    if rules.brand_first and brand and not stripped.casefold().startswith(brand.casefold()):
        yield Violation("title", "brand_first", f"title must start with the brand {brand!r}")
    without_brand = _remove(stripped, brand) if brand else stripped
    bad_chars = sorted({c for c in without_brand if c in rules.forbidden_title_chars})
    if bad_chars:
        shown = " ".join(bad_chars)
        yield Violation(
            "title",
            "title_chars",
            f"title contains characters {rules.label} forbids in titles: {shown}",
        )
    if rules.title_forbids_symbols:
        symbols = sorted({c for c in without_brand if is_decorative_symbol(c)})
        if symbols:
            yield Violation(
                "title",
                "title_symbols",
                f"title contains decorative symbols or emoji: {' '.join(symbols)}",
            )
    repeated = repeated_title_words(stripped, lang, rules.title_max_word_repeats)
    if repeated:
        listed = ", ".join(f"{w!r} ({n} times)" for w, n in repeated)
        yield Violation(
            "title",
            "title_repeats",
            f"title repeats words more than {rules.title_max_word_repeats} times: {listed}",
        )


def _bullet_violations(
    bullets: Sequence[str], rules: MarketplaceRules, lang: str
) -> Iterator[Violation]:
    if len(bullets) != rules.bullet_count:
        yield Violation(
            "bullets",
            "bullet_count",
            f"there are {len(bullets)} bullet points; {rules.label} listings need "
            f"{rules.bullet_count}",
        )
    for number, bullet in enumerate(bullets, start=1):
        if not bullet.strip():
            yield Violation(f"bullet {number}", "bullet_empty", f"bullet {number} is empty")
        elif len(bullet) > rules.bullet_hard_max_chars:
            yield Violation(
                f"bullet {number}",
                "bullet_length",
                f"bullet {number} is {len(bullet)} characters; {rules.label} allows at most "
                f"{rules.bullet_hard_max_chars}",
            )


def _description_violations(description: str, rules: MarketplaceRules) -> Iterator[Violation]:
    if not description.strip():
        yield Violation("description", "description_empty", "description is empty")
    limit = rules.description_max_chars
    if limit is not None and len(description) > limit:
        yield Violation(
            "description",
            "description_length",
            f"description is {len(description)} characters; {rules.label} allows at most {limit}",
        )


def _search_terms_violations(
    search_terms: str, title: str, rules: MarketplaceRules, brand: str | None, lang: str
) -> Iterator[Violation]:
    limit = rules.search_terms_byte_limit
    if limit is None:
        return
    size = utf8_len(search_terms)
    if size >= limit:
        yield Violation(
            "search terms",
            "search_terms_bytes",
            f"search terms are {size} bytes; {rules.label} allows fewer than {limit}"
            + (" (UTF-8: each CJK character counts 3 bytes)" if has_cjk(search_terms) else ""),
        )
    if brand and mentions(search_terms, brand):
        yield Violation(
            "search terms",
            "search_terms_brand",
            f"search terms contain the brand name {brand!r}; leave brand names out",
        )
    if rules.search_terms_exclude_title_words:
        brand_words = set(title_words(brand, lang)) if brand else set()
        repeats = [
            w
            for w in title_words_in_search_terms(search_terms, title, lang)
            if w not in brand_words
        ]
        if repeats:
            listed = ", ".join(repr(w) for w in repeats[:10])
            yield Violation(
                "search terms",
                "search_terms_title_words",
                f"search terms repeat words already in the title: {listed}",
            )


def _tag_violations(keywords: Sequence[str], rules: MarketplaceRules) -> Iterator[Violation]:
    if rules.tag_max_count is not None and len(keywords) > rules.tag_max_count:
        yield Violation(
            "tags",
            "tag_count",
            f"there are {len(keywords)} tags; {rules.label} allows at most {rules.tag_max_count}",
        )
    if rules.tag_max_chars is not None:
        for number, keyword in enumerate(keywords, start=1):
            if len(keyword) > rules.tag_max_chars:
                yield Violation(
                    f"tag {number}",
                    "tag_length",
                    f"tag {number} {keyword!r} is {len(keyword)} characters; {rules.label} "
                    f"allows at most {rules.tag_max_chars}",
                )


def _content_violations(
    field: str,
    text: str,
    rules: MarketplaceRules,
    lang: str,
    others: Sequence[str],
    brand: str | None,
) -> Iterator[Violation]:
    for phrase in banned_phrases_in(text, lang, rules):
        yield Violation(field, "banned_claim", f"{field} contains banned claim {phrase!r}")
    for email in _EMAIL_RE.findall(text):
        yield Violation(field, "contact", f"{field} contains an e-mail address ({email})")
    for url in _URL_RE.findall(_EMAIL_RE.sub(" ", text)):
        yield Violation(field, "contact", f"{field} contains a URL ({url})")
    for number in phone_numbers_in(text):
        yield Violation(field, "contact", f"{field} contains a phone number ({number})")
    html_allowed = field == "description" and rules.description_allows_html
    if not html_allowed and _HTML_RE.search(text):
        yield Violation(field, "html", f"{field} contains HTML or markup; use plain text")
    for name in others:
        if mentions(text, name, allow_compatible=True):
            yield Violation(field, "competitor_brand", f"{field} names another brand ({name})")
    if field == "title" or field.startswith("bullet"):
        shouting = all_caps_words(text, brand)
        if shouting:
            listed = ", ".join(repr(w) for w in shouting)
            yield Violation(
                field, "all_caps", f"{field} has words in ALL CAPS ({listed}); use normal case"
            )


# --- text helpers -------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole-word match for alphabetic phrases; plain substring for CJK (no spaces to split on)."""
    body = r"\s*".join(re.escape(part) for part in phrase.split())
    if has_cjk(phrase):
        return re.compile(body, re.IGNORECASE)
    start = r"\b" if re.match(r"\w", phrase) else r"(?<!\w)"
    end = r"\b" if re.search(r"\w$", phrase) else r"(?!\w)"
    if phrase.endswith("%"):
        end = ""
    return re.compile(start + body + end, re.IGNORECASE)


def mentions(text: str, phrase: str, *, allow_compatible: bool = False) -> bool:
    for match in _phrase_pattern(phrase).finditer(text):
        before = text[max(0, match.start() - 20) : match.start()].casefold()
        if allow_compatible and re.search(r"(compatible with|fits)\s*$", before):
            continue
        return True
    return False


def banned_phrase_list(lang: str, rules: MarketplaceRules | None = None) -> list[str]:
    phrases = list(BANNED_PHRASES["en"])
    if lang != "en":
        phrases += BANNED_PHRASES.get(lang, ())
    if rules is not None:
        phrases += rules.extra_banned_phrases
    return phrases


def banned_phrases_in(text: str, lang: str, rules: MarketplaceRules | None = None) -> list[str]:
    """Banned phrases found in text, canonical spelling, longest match wins ('best seller')."""
    spans: list[tuple[int, int, str]] = []
    for phrase in banned_phrase_list(lang, rules):
        for match in _phrase_pattern(phrase).finditer(text):
            if phrase.endswith("%") and _names_material(text, match.start(), match.end()):
                continue
            spans.append((match.start(), match.end(), phrase))
    kept: list[str] = []
    for start, end, phrase in spans:
        inside_longer = any(
            s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans
        )
        if not inside_longer and phrase not in kept:
            kept.append(phrase)
    return kept


def _names_material(text: str, start: int, end: int) -> bool:
    window = text[max(0, start - 6) : end + 14].casefold()
    return any(word in window for word in MATERIAL_WORDS)


def phone_numbers_in(text: str, region: str = "US") -> list[str]:
    """Valid phone numbers in text (libphonenumber); international '+' numbers in any region."""
    region = "GB" if region.upper() == "UK" else region.upper()
    found: list[str] = []
    for candidate_region in dict.fromkeys((region, "US", "GB", "DE", "JP", "CN")):
        for match in phonenumbers.PhoneNumberMatcher(text, candidate_region):
            if match.raw_string not in found:
                found.append(match.raw_string)
    return found


def has_contact_details(text: str, region: str = "US") -> bool:
    """True when text holds an e-mail address, a URL or a phone number."""
    return bool(_EMAIL_RE.search(text) or _URL_RE.search(text) or phone_numbers_in(text, region))


def strip_html(text: str) -> str:
    return re.sub(r"\s{2,}", " ", _HTML_RE.sub(" ", text)).strip()


def all_caps_words(text: str, brand: str | None = None) -> list[str]:
    words = []
    """Shouted words; hyphenated parts count on their own (USB-C is not shouting)."""
    for word in _LETTERS_RE.findall(text):
        if (
            len(word) >= _CAPS_MIN_LETTERS
            and word.isupper()
            and word not in ACRONYMS
            and not (brand and word.casefold() in brand.casefold())
            and word not in words
        ):
            words.append(word)
    return words


def title_words(text: str, lang: str) -> list[str]:
    """Case-folded non-CJK words of a title that count toward repetition (no stopwords).

    CJK has no spaces to split words on; its runs are cut out so "保温杯Acme" still yields
    "acme", and CJK repetition is judged by substring elsewhere.
    """
    stop = TITLE_STOPWORDS.get(lang, TITLE_STOPWORDS["en"])
    words = _WORD_RE.findall(_CJK_RE.sub(" ", text))
    return [w.casefold() for w in words if w.casefold() not in stop]


def repeated_title_words(title: str, lang: str, max_repeats: int) -> list[tuple[str, int]]:
    counts = Counter(title_words(title, lang))
    return [(word, n) for word, n in counts.items() if n > max_repeats]


def title_words_in_search_terms(search_terms: str, title: str, lang: str) -> list[str]:
    """Search-term tokens already in the title: whole words, or substrings for CJK tokens."""
    in_title = set(title_words(title, lang))
    stop = TITLE_STOPWORDS.get(lang, TITLE_STOPWORDS["en"])
    repeats: list[str] = []
    for token in search_terms.split():
        folded = token.casefold().strip(",;")
        if not folded or folded in stop or folded in repeats:
            continue
        if (has_cjk(folded) and len(folded) >= 2 and folded in title.casefold()) or (
            folded in in_title
        ):
            repeats.append(folded)
    return repeats


def is_decorative_symbol(char: str) -> bool:
    # "So" covers emoji, dingbats, ™ ® ©; variation selectors ride along with emoji.
    return unicodedata.category(char) == "So" or "\ufe00" <= char <= "\ufe0f"


def _remove(text: str, part: str) -> str:
    return re.sub(re.escape(part), " ", text, flags=re.IGNORECASE)


def describe_rules(rules: MarketplaceRules, language: str) -> str:
    """The rules as prose for the model's system prompt, generated from the same table."""
    lang = primary_language(language)
    lines = [
        f"Marketplace: {rules.label}.",
        f"- Title: at most {rules.title_max_chars} characters including spaces; aim for "
        f"{rules.title_recommended_chars[0]}-{rules.title_recommended_chars[1]} for readability.",
    ]
    if rules.brand_first:
        lines.append(
            "- Title structure: Brand + model/product line + product type + key "
            "attributes (size, colour, quantity). Start the title with the brand."
        )
    else:
        lines.append("- Title: lead with the product type and its most searched attributes.")
    if rules.forbidden_title_chars:
        lines.append(
            "- Never use these characters in the title: "
            + " ".join(sorted(rules.forbidden_title_chars))
            + "; no emoji or decorative symbols (™ ® © included)."
        )
    lines += [
        f"- Use no word more than {rules.title_max_word_repeats} times in the title "
        "(articles, prepositions and conjunctions excepted). No words in ALL CAPS "
        "(acronyms such as USB or LED are fine); numerals, not number words.",
        f"- Exactly {rules.bullet_count} bullet points, each starting with the benefit, each "
        f"under {rules.bullet_soft_max_chars} characters (hard limit "
        f"{rules.bullet_hard_max_chars}); no two bullets saying the same thing.",
    ]
    if rules.description_max_chars:
        lines.append(
            f"- Description: {rules.description_recommended_chars[0]}-"
            f"{rules.description_max_chars} characters."
        )
    lines.append(
        "- Description: HTML allowed but keep it clean."
        if rules.description_allows_html
        else "- Description: plain text only (line breaks allowed), no HTML."
    )
    if rules.search_terms_byte_limit:
        lines.append(
            f"- search_terms: fewer than {rules.search_terms_byte_limit} BYTES in UTF-8 (a "
            "Chinese or Japanese character is 3 bytes), space-separated, no commas, no brand "
            "names (own or others'), no words already in the title, no subjective or "
            "temporary terms."
        )
    else:
        lines.append(f"- search_terms: {rules.label} has no such field; leave it empty.")
    if rules.tag_max_count:
        lines.append(
            f"- keywords are the listing's tags: at most {rules.tag_max_count}, each at most "
            f"{rules.tag_max_chars} characters, natural phrases, no brand names."
        )
    else:
        lines.append("- keywords: 8-15 search phrases shoppers type, no brand names.")
    banned = ", ".join(f'"{p}"' for p in banned_phrase_list(lang, rules))
    lines += [
        "- Never use these promotional, subjective or medical claims anywhere (title, "
        f"bullets, description, search terms, keywords): {banned}. Exception: a material "
        'share such as "100% cotton" is allowed.',
        "- Nowhere: phone numbers, e-mail or postal addresses, URLs, prices, availability, "
        "shipping offers, reviews or testimonials, requests for reviews, time-sensitive "
        "claims, HTML in title or bullets, other companies' brand names (for example "
        + ", ".join(COMPETITOR_BRANDS[:8])
        + '); a compatibility statement such as "compatible with <brand>" is the only '
        "exception.",
    ]
    return "\n".join(lines)
