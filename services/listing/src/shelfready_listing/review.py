"""The listing review: one place that sorts what is wrong with a draft into three kinds.

- structural: no usable draft as written (a required field empty, a refusal or a placeholder
  such as "[Brand]" or "lorem ipsum"). The Claude writer spends one repair turn on these; a
  draft that still has them is salvaged by dropping the offending sentences when that leaves
  every field filled, and is unusable otherwise.
- mechanical: a rule code can satisfy (lengths, bytes, brand first, title words in search
  terms, repeated title words, banned characters, HTML, ALL CAPS, emoji, trailing
  punctuation, internal notes). Fixed here, each fix recorded, no model call.
- judgement: something a person should decide (promotional or medical claims, another
  brand, contact details, claims the recognition does not support). The Claude writer may
  spend one repair turn naming exactly these; what remains is removed where a whole sentence,
  keyword or title word can go cleanly, and otherwise kept and reported as a reason for review.

Both writers (Claude and offline) send their drafts through `review_draft`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_listing.marketplace import labelled_fields
from shelfready_listing.rules import MarketplaceRules
from shelfready_listing.text_checks import (
    EMAIL_RE,
    HTML_RE,
    URL_RE,
    all_caps_words,
    banned_phrases_in,
    competitor_brands,
    has_cjk,
    is_decorative_symbol,
    mentions,
    phone_numbers_in,
    primary_language,
    strip_html,
    title_words,
    utf8_len,
)
from shelfready_listing.vocabulary import (
    COLOUR_TERMS,
    INTERNAL_NOTE_PATTERNS,
    PLACEHOLDER_PATTERNS,
    REFUSAL_PATTERNS,
    SUPPORT_NEEDED_CLAIMS,
    TITLE_STOPWORDS,
    VARIANT_PATTERNS,
)


class Kind(StrEnum):
    STRUCTURAL = "structural"
    MECHANICAL = "mechanical"
    JUDGEMENT = "judgement"


@dataclass(frozen=True)
class Finding:
    """One problem: its kind, the field it is in, a code, the sentence to show, the text."""

    kind: Kind
    field: str
    code: str
    message: str
    phrase: str = ""


@dataclass(frozen=True)
class ReviewContext:
    """What a draft is judged against: the rules, the seller's request and the recognition."""

    rules: MarketplaceRules
    request: ListingRequest
    product: ProductAnalysis

    @property
    def brand(self) -> str | None:
        brand = self.request.brand
        return brand.strip() if brand and brand.strip() else None

    @property
    def lang(self) -> str:
        return primary_language(self.request.language)

    @property
    def region(self) -> str:
        return self.request.market

    @property
    def known_text(self) -> str:
        """Everything the recognition and the seller said, case-folded: what claims may rest on."""
        request = self.request
        parts = [
            self.product.model_dump_json(exclude={"bounding_box", "confidence"}),
            request.product_name or "",
            request.category or "",
            " ".join(request.features),
            " ".join(f"{k} {v}" for k, v in request.specifications.items()),
            " ".join(request.emphasis),
            request.feedback or "",
        ]
        return " ".join(parts).casefold()


@dataclass
class Review:
    """A reviewed draft: the draft after fixes, what was fixed, and what a person must judge."""

    draft: ListingDraft
    fixes: list[str] = field(default_factory=list)
    unresolved: list[Finding] = field(default_factory=list)

    @property
    def needs_review(self) -> bool:
        return bool(self.unresolved)

    @property
    def reasons(self) -> list[str]:
        return list(dict.fromkeys(f.message for f in self.unresolved))


# --- sentences ----------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def _drop_sentences(text: str, bad: Callable[[str], bool]) -> str | None:
    """The text without the sentences `bad` picks, paragraphs kept; None if nothing is left."""
    paragraphs = []
    for paragraph in text.split("\n\n"):
        kept = [s for s in sentences(paragraph) if not bad(s)]
        if kept:
            paragraphs.append(_join_sentences(kept))
    return "\n\n".join(paragraphs) if paragraphs else None


def _join_sentences(parts: Sequence[str]) -> str:
    out = ""
    for part in parts:
        part = part.strip()
        if out and not (has_cjk(out[-1]) or has_cjk(part[:1])):
            out += " "
        out += part
    return out


@lru_cache(maxsize=64)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _internal(text: str) -> bool:
    return bool(_compiled(INTERNAL_NOTE_PATTERNS).search(text))


def _unusable_text(text: str) -> str | None:
    match = _compiled(REFUSAL_PATTERNS + PLACEHOLDER_PATTERNS).search(text)
    return match.group(0) if match else None


def _customer_texts(draft: ListingDraft) -> list[tuple[str, str]]:
    texts = [("title", draft.title)]
    texts += [(f"bullet {n}", b) for n, b in enumerate(draft.bullet_points, start=1)]
    texts += [("description", draft.description), ("search terms", draft.search_terms)]
    texts += [(f"keyword {n}", k) for n, k in enumerate(draft.keywords, start=1)]
    return texts


# --- structural ---------------------------------------------------------------------------


def structural_findings(draft: ListingDraft, ctx: ReviewContext) -> list[Finding]:
    """Problems that leave no usable draft: empty required fields, refusals, placeholders."""
    found: list[Finding] = []
    if not draft.title.strip():
        found.append(Finding(Kind.STRUCTURAL, "title", "empty", "title is empty"))
    if not draft.description.strip():
        found.append(Finding(Kind.STRUCTURAL, "description", "empty", "description is empty"))
    if len(draft.bullet_points) != ctx.rules.bullet_count:
        found.append(
            Finding(
                Kind.STRUCTURAL,
                "bullets",
                "bullet_count",
                f"there are {len(draft.bullet_points)} bullet points; "
                f"{ctx.rules.bullet_count} are needed",
            )
        )
    for number, bullet in enumerate(draft.bullet_points, start=1):
        if not bullet.strip():
            found.append(
                Finding(Kind.STRUCTURAL, f"bullet {number}", "empty", f"bullet {number} is empty")
            )
    for name, text in _customer_texts(draft):
        phrase = _unusable_text(text)
        if phrase:
            found.append(
                Finding(
                    Kind.STRUCTURAL,
                    name,
                    "refusal_or_placeholder",
                    f"{name} contains a refusal or placeholder ({phrase!r}); write the real copy",
                    phrase,
                )
            )
    return found


def salvage_structural(draft: ListingDraft, ctx: ReviewContext) -> tuple[ListingDraft, list[str]]:
    """Drop refusal and placeholder sentences when every field stays filled.

    Raises ValueError when no usable draft is left (that is the only failure a draft has).
    """
    if any(f.code != "refusal_or_placeholder" for f in structural_findings(draft, ctx)):
        raise ValueError("; ".join(f.message for f in structural_findings(draft, ctx)))
    bad = lambda s: _unusable_text(s) is not None  # noqa: E731
    fixes: list[str] = []
    title = draft.title
    if bad(title):
        raise ValueError(f"title is a refusal or placeholder: {title!r}")
    bullets = []
    for number, bullet in enumerate(draft.bullet_points, start=1):
        kept = _drop_sentences(bullet, bad) if bad(bullet) else bullet
        if kept is None:
            raise ValueError(f"bullet {number} is only a refusal or placeholder")
        if kept != bullet:
            fixes.append(f"bullet {number}: removed a refusal or placeholder sentence")
        bullets.append(kept)
    description = draft.description
    if bad(description):
        kept = _drop_sentences(description, bad)
        if kept is None:
            raise ValueError("the description is only a refusal or placeholder")
        description = kept
        fixes.append("description: removed a refusal or placeholder sentence")
    keywords = [k for k in draft.keywords if not bad(k)]
    if len(keywords) != len(draft.keywords):
        fixes.append("keywords: removed placeholders")
    terms = " ".join(t for t in draft.search_terms.split() if not bad(t))
    if terms != draft.search_terms.strip():
        fixes.append("search terms: removed placeholders")
    salvaged = draft.model_copy(
        update={
            "bullet_points": bullets,
            "description": description,
            "keywords": keywords,
            "search_terms": terms,
        }
    )
    return salvaged, fixes


# --- mechanical ---------------------------------------------------------------------------

_TRAILING = " .,;:!?-–—|/·•"
_EMOJI_KEEP = set("™®©")


def _remove_symbols(text: str, *, all_symbols: bool) -> str:
    """Emoji out of any text; every decorative symbol (™ ® © too) when `all_symbols`."""

    def drop(char: str) -> bool:
        return is_decorative_symbol(char) and (all_symbols or char not in _EMOJI_KEEP)

    return "".join(c for c in text if not drop(c))


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r" +([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def _tidy_title(title: str) -> str:
    title = _tidy(title)
    title = re.sub(r"^[\s,;:|/–—-]+", "", title)
    return title.rstrip(_TRAILING)


def _cut(text: str, limit: int, *, sentences_first: bool) -> str:
    """Text within `limit` characters, cut at a sentence end when one fits, else a word."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if sentences_first:
        ends = [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$)", head)]
        if ends and ends[-1] >= limit // 3:
            return head[: ends[-1]].rstrip()
    if has_cjk(head):
        return head.rstrip(_TRAILING)
    space = head.rfind(" ")
    return (head[:space] if space > limit // 3 else head).rstrip(_TRAILING)


def _uncap(text: str, brand: str | None) -> str:
    for word in all_caps_words(text, brand):
        text = re.sub(rf"\b{re.escape(word)}\b", word.capitalize(), text)
    return text


class _Fixer:
    """Applies the mechanical fixes to one draft, keeping a line for each."""

    def __init__(self, draft: ListingDraft, ctx: ReviewContext) -> None:
        self.ctx = ctx
        self.rules = ctx.rules
        self.brand = ctx.brand
        self.lang = ctx.lang
        self.fixes: list[str] = []
        self.title = draft.title
        self.bullets = list(draft.bullet_points)
        self.description = draft.description
        self.keywords = list(draft.keywords)
        self.search_terms = draft.search_terms
        self.image_prompts = list(draft.image_prompts)

    def note(self, before: str, after: str, message: str) -> str:
        if before != after:
            self.fixes.append(message)
        return after

    def run(self) -> ListingDraft:
        self.internal_notes()
        self.markup_and_symbols()
        self.fix_title()
        self.fix_bullets()
        self.fix_description()
        self.fix_keywords()
        self.fix_search_terms()
        return ListingDraft(
            title=self.title,
            bullet_points=self.bullets,
            description=self.description,
            keywords=self.keywords,
            search_terms=self.search_terms,
            image_prompts=self.image_prompts,
        )

    def internal_notes(self) -> None:
        for number, bullet in enumerate(self.bullets, start=1):
            if _internal(bullet):
                kept = _drop_sentences(bullet, _internal)
                if kept is not None:
                    self.bullets[number - 1] = kept
                    self.fixes.append(f"bullet {number}: removed internal notes")
        if _internal(self.description):
            kept = _drop_sentences(self.description, _internal)
            if kept is not None:
                self.description = kept
                self.fixes.append("description: removed internal notes")
        if _internal(self.title):
            cleaned = _tidy_title(_compiled(INTERNAL_NOTE_PATTERNS).sub(" ", self.title))
            self.title = self.note(self.title, cleaned, "title: removed internal notes")
        kept_keywords = [k for k in self.keywords if not _internal(k)]
        if len(kept_keywords) != len(self.keywords):
            self.keywords = kept_keywords
            self.fixes.append("keywords: removed internal notes")

    def markup_and_symbols(self) -> None:
        html_ok = self.rules.description_allows_html
        self.title = self.note(self.title, _tidy(strip_html(self.title)), "title: removed HTML")
        for i, bullet in enumerate(self.bullets):
            self.bullets[i] = self.note(
                bullet, _tidy(strip_html(bullet)), f"bullet {i + 1}: removed HTML"
            )
        if not html_ok and HTML_RE.search(self.description):
            self.description = self.note(
                self.description,
                "\n\n".join(_tidy(strip_html(p)) for p in self.description.split("\n\n")),
                "description: removed HTML (plain text only)",
            )
        all_symbols = self.rules.title_forbids_symbols
        self.title = self.note(
            self.title,
            _tidy(_remove_symbols(self.title, all_symbols=all_symbols)),
            "title: removed emoji or decorative symbols",
        )
        for i, bullet in enumerate(self.bullets):
            self.bullets[i] = self.note(
                bullet,
                _tidy(_remove_symbols(bullet, all_symbols=False)),
                f"bullet {i + 1}: removed emoji",
            )
        self.description = self.note(
            self.description,
            "\n\n".join(
                _tidy(_remove_symbols(p, all_symbols=False)) for p in self.description.split("\n\n")
            ),
            "description: removed emoji",
        )
        self.title = self.note(
            self.title, _uncap(self.title, self.brand), "title: ALL CAPS words set in normal case"
        )
        for i, bullet in enumerate(self.bullets):
            self.bullets[i] = self.note(
                bullet,
                _uncap(bullet, self.brand),
                f"bullet {i + 1}: ALL CAPS words set in normal case",
            )

    def fix_title(self) -> None:
        rules, brand = self.rules, self.brand
        if rules.forbidden_title_chars:
            head = brand if brand and self.title.startswith(brand) else ""
            rest = "".join(
                " " if c in rules.forbidden_title_chars else c for c in self.title[len(head) :]
            )
            self.title = self.note(
                self.title,
                _tidy_title(head + rest),
                f"title: removed characters {rules.label} forbids in titles",
            )
        if rules.brand_first and brand and not self.title.casefold().startswith(brand.casefold()):
            rest = re.sub(re.escape(brand), " ", self.title, flags=re.IGNORECASE)
            self.title = self.note(
                self.title,
                _tidy_title(f"{brand} {_tidy_title(rest)}"),
                f"title: moved the brand {brand!r} to the front",
            )
        self.title = self.note(
            self.title, self._without_repeats(self.title), "title: removed repeated words"
        )
        self.title = self.note(
            self.title, _tidy_title(self.title), "title: removed trailing punctuation"
        )
        limit = rules.title_max_chars
        if len(self.title) > limit:
            cut = _tidy_title(_cut(self.title, limit, sentences_first=False))
            self.title = self.note(
                self.title, cut, f"title: shortened to {len(cut)} characters (limit {limit})"
            )

    def _without_repeats(self, title: str) -> str:
        stop = TITLE_STOPWORDS.get(self.lang, TITLE_STOPWORDS["en"])
        counts: Counter[str] = Counter()
        out = []
        for token in title.split(" "):
            words = title_words(token, self.lang)
            key = words[0] if len(words) == 1 else None
            if key and key not in stop:
                counts[key] += 1
                if counts[key] > self.rules.title_max_word_repeats:
                    continue
            out.append(token)
        return _tidy_title(" ".join(out))

    def fix_bullets(self) -> None:
        limit = self.rules.bullet_hard_max_chars
        for i, bullet in enumerate(self.bullets):
            if len(bullet) > limit:
                cut = _cut(bullet, limit, sentences_first=True)
                self.bullets[i] = self.note(
                    bullet,
                    cut,
                    f"bullet {i + 1}: shortened to {len(cut)} characters (limit {limit})",
                )

    def fix_description(self) -> None:
        limit = self.rules.description_max_chars
        if limit is not None and len(self.description) > limit:
            cut = _cut(self.description, limit, sentences_first=True)
            self.description = self.note(
                self.description,
                cut,
                f"description: shortened to {len(cut)} characters (limit {limit})",
            )

    def fix_keywords(self) -> None:
        unique = list(dict.fromkeys(k.strip() for k in self.keywords if k.strip()))
        if len(unique) != len(self.keywords):
            self.fixes.append("keywords: removed duplicates")
        max_chars, max_count = self.rules.tag_max_chars, self.rules.tag_max_count
        if max_chars is not None:
            short = [k for k in unique if len(k) <= max_chars]
            if len(short) != len(unique):
                self.fixes.append(f"tags: removed tags over {max_chars} characters")
            unique = short
        if max_count is not None and len(unique) > max_count:
            unique = unique[:max_count]
            self.fixes.append(f"tags: kept the first {max_count}")
        self.keywords = unique

    def fix_search_terms(self) -> None:
        limit = self.rules.search_terms_byte_limit
        if limit is None:
            self.search_terms = self.note(
                self.search_terms, "", f"search terms: cleared ({self.rules.label} has none)"
            )
            return
        before = self.search_terms
        tokens = [t.strip(".,;:!?\"'()[]") for t in re.split(r"[\s,;]+", before.casefold())]
        brand_words = set(title_words(self.brand, self.lang)) if self.brand else set()
        in_title = set(title_words(self.title, self.lang))
        title_folded = self.title.casefold()
        kept: list[str] = []
        dropped_title, dropped_brand = False, False
        for token in tokens:
            if not token or token in kept:
                continue
            if token in brand_words or (self.brand and mentions(token, self.brand)):
                dropped_brand = True
                continue
            if self.rules.search_terms_exclude_title_words and (
                token in in_title or (has_cjk(token) and len(token) >= 2 and token in title_folded)
            ):
                dropped_title = True
                continue
            kept.append(token)
        while kept and utf8_len(" ".join(kept)) >= limit:
            kept.pop()
        self.search_terms = " ".join(kept)
        if dropped_title:
            self.fixes.append("search terms: removed words already in the title")
        if dropped_brand:
            self.fixes.append("search terms: removed the brand name")
        if utf8_len(before) >= limit:
            self.fixes.append(f"search terms: shortened to under {limit} bytes")
        elif not (dropped_title or dropped_brand) and self.search_terms != before.strip():
            self.fixes.append("search terms: normalised to lower-case words, each once")


def fix_mechanical(draft: ListingDraft, ctx: ReviewContext) -> tuple[ListingDraft, list[str]]:
    """The draft with every mechanical rule satisfied by code, and a line per fix."""
    fixer = _Fixer(draft, ctx)
    fixed = fixer.run()
    return fixed, list(dict.fromkeys(fixer.fixes))


# --- judgement ----------------------------------------------------------------------------

_COMPARISON_RE = re.compile(
    r"\b(?:than|unlike|compared (?:to|with)|alternative to|similar to|replaces?|like)\s+"
    r"(?:an?\s+|the\s+)?((?:[A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+)?)"
)
_MARKED_NAME_RE = re.compile(r"\b([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?)\s*[™®]")


def _colour_words(lang: str) -> dict[str, str]:
    """Colour word (in the listing language and English) -> its English name."""
    words = {en: en for en in COLOUR_TERMS}
    for en, native in COLOUR_TERMS.items():
        if lang in native:
            words[native[lang].casefold()] = en
    return words


def judgement_findings(draft: ListingDraft, ctx: ReviewContext) -> list[Finding]:
    """Claims, other brands, contact details and unsupported claims, field by field."""
    found: list[Finding] = []
    others = competitor_brands(ctx.brand, ctx.product.brand_marks)
    known = ctx.known_text
    own = (ctx.brand or "").casefold()
    for name, text in labelled_fields(draft, ctx.rules):
        for phrase in banned_phrases_in(text, ctx.lang, ctx.rules):
            found.append(
                Finding(Kind.JUDGEMENT, name, "claim", f"{name}: claim {phrase!r}", phrase)
            )
        for contact in _contacts(text, ctx.region):
            found.append(
                Finding(
                    Kind.JUDGEMENT, name, "contact", f"{name}: contact details ({contact})", contact
                )
            )
        for brand in others:
            if mentions(text, brand, allow_compatible=True):
                found.append(
                    Finding(
                        Kind.JUDGEMENT,
                        name,
                        "brand",
                        f"{name}: names another brand ({brand})",
                        brand,
                    )
                )
        for brand in _unknown_names(text, own, known):
            if not any(
                f.code == "brand" and f.phrase.casefold() == brand.casefold() for f in found
            ):
                found.append(
                    Finding(
                        Kind.JUDGEMENT,
                        name,
                        "unknown_brand",
                        f"{name}: names a brand the seller did not give ({brand})",
                        brand,
                    )
                )
        found += _unsupported(name, text, ctx, known)
    return found


def _contacts(text: str, region: str) -> list[str]:
    found = EMAIL_RE.findall(text)
    found += URL_RE.findall(EMAIL_RE.sub(" ", text))
    found += phone_numbers_in(text, region)
    return list(dict.fromkeys(found))


def _unknown_names(text: str, own: str, known: str) -> list[str]:
    """Capitalised names a comparison or a ™/® marks, that neither seller nor photo gave."""
    names = [m.group(1) for m in _COMPARISON_RE.finditer(text)]
    names += [m.group(1) for m in _MARKED_NAME_RE.finditer(text)]
    out = []
    for name in names:
        folded = name.casefold()
        if own and (folded in own or own in folded):
            continue
        if folded in known or folded in TITLE_STOPWORDS["en"]:
            continue
        out.append(name)
    return list(dict.fromkeys(out))


def _unsupported(name: str, text: str, ctx: ReviewContext, known: str) -> list[Finding]:
    found: list[Finding] = []
    folded = text.casefold()
    flat_known = re.sub(r"[\s-]+", "", known)
    for claim in SUPPORT_NEEDED_CLAIMS:
        if mentions(text, claim) and re.sub(r"[\s-]+", "", claim) not in flat_known:
            found.append(
                Finding(
                    Kind.JUDGEMENT,
                    name,
                    "unsupported",
                    f"{name}: claims {claim!r}, which neither the photo nor the seller states",
                    claim,
                )
            )
    match = _compiled(VARIANT_PATTERNS).search(text)
    seller = " ".join([*ctx.request.features, *ctx.request.specifications.values()]).casefold()
    if match and not any(w in seller for w in ("variant", "available in", "colours", "colors")):
        found.append(
            Finding(
                Kind.JUDGEMENT,
                name,
                "variant",
                f"{name}: promises variants the photo does not show ({match.group(0).strip()!r})",
                match.group(0),
            )
        )
    seen = {c.casefold() for c in ctx.product.colors}
    words = _colour_words(ctx.lang)
    supported = [
        w for w, en in words.items() if w in known or any(en in s or s in en for s in seen)
    ]
    # '藏青色' (navy, seen) holds '青色' (teal): take the supported words out first.
    for word in sorted(supported, key=len, reverse=True):
        folded = folded.replace(word, " ")
    for word in words:
        if word in supported:
            continue
        present = word in folded if has_cjk(word) else mentions(folded, word)
        if present and not _names_other_thing(text, word):
            found.append(
                Finding(
                    Kind.JUDGEMENT,
                    name,
                    "colour",
                    f"{name}: says {word!r}, a colour the recognition did not see"
                    + (f" (it saw {', '.join(ctx.product.colors)})" if ctx.product.colors else ""),
                    word,
                )
            )
    return found


def _names_other_thing(text: str, word: str) -> bool:
    """'orange juice', 'gold standard', 'white noise': the colour word names something else."""
    return bool(
        re.search(rf"\b{re.escape(word)}\s+(?:juice|standard|noise|paper|list)\b", text, re.I)
    )


# --- dropping what a person would otherwise have to judge ---------------------------------


def _field_index(name: str) -> int:
    return int(name.rsplit(" ", 1)[1]) - 1


def drop_judgement(
    draft: ListingDraft, findings: Sequence[Finding]
) -> tuple[ListingDraft, list[str], list[Finding]]:
    """Remove each finding where a sentence, keyword, search term or title word can go cleanly.

    Returns the new draft, the fixes made and the findings that had to stay.
    """
    title = draft.title
    bullets = list(draft.bullet_points)
    description = draft.description
    keywords = list(draft.keywords)
    terms = draft.search_terms
    fixes: list[str] = []
    kept: list[Finding] = []
    for finding in findings:
        phrase = finding.phrase
        hit = _hit_test(phrase)
        where = finding.field
        if where == "title":
            shorter = _tidy_title(_remove_phrase(title, phrase))
            if len(title_words(shorter, "en")) >= 2 or (has_cjk(shorter) and len(shorter) >= 4):
                title = shorter
                fixes.append(f"title: removed {phrase!r}")
                continue
        elif where.startswith("bullet"):
            index = _field_index(where)
            remaining = _drop_sentences(bullets[index], hit)
            if remaining is not None and len(remaining) >= 25:
                bullets[index] = remaining
                fixes.append(f"{where}: removed the sentence with {phrase!r}")
                continue
        elif where == "description":
            remaining = _drop_sentences(description, hit)
            if remaining is not None and len(remaining) >= 80:
                description = remaining
                fixes.append(f"description: removed the sentence with {phrase!r}")
                continue
        elif where.startswith(("keyword", "tag")):
            index = _field_index(where)
            if index < len(keywords) and keywords[index] and hit(keywords[index]):
                keywords[index] = ""
                fixes.append(f"{where}: removed {draft.keywords[index]!r}")
                continue
        elif where == "search terms":
            terms = _tidy(_remove_phrase(terms, phrase))
            fixes.append(f"search terms: removed {phrase!r}")
            continue
        kept.append(finding)
    dropped = ListingDraft(
        title=title,
        bullet_points=bullets,
        description=description,
        keywords=[k for k in keywords if k],
        search_terms=terms,
        image_prompts=list(draft.image_prompts),
    )
    return dropped, fixes, kept


def _hit_test(phrase: str) -> Callable[[str], bool]:
    if has_cjk(phrase) or not re.search(r"\w", phrase):
        return lambda text: phrase.casefold() in text.casefold()
    return lambda text: mentions(text, phrase)


def _remove_phrase(text: str, phrase: str) -> str:
    if has_cjk(phrase) or not re.match(r"\w", phrase):
        return text.replace(phrase, " ")
    return re.sub(rf"\b{re.escape(phrase)}\b", " ", text, flags=re.IGNORECASE)


# --- the whole review ---------------------------------------------------------------------


def review_draft(draft: ListingDraft, ctx: ReviewContext) -> Review:
    """Fix the mechanical, drop the judgement findings that can go, report the rest."""
    fixed, fixes = fix_mechanical(draft, ctx)
    findings = judgement_findings(fixed, ctx)
    dropped, drop_fixes, _ = drop_judgement(fixed, findings)
    fixes += drop_fixes
    # Dropping words can leave new mechanical work (a comma at the end, a short title).
    final, more = fix_mechanical(dropped, ctx)
    fixes += more
    unresolved = judgement_findings(final, ctx)
    return Review(draft=final, fixes=list(dict.fromkeys(fixes)), unresolved=unresolved)


def repair_instructions(findings: Iterable[Finding]) -> list[str]:
    """The lines a repair turn quotes: exactly the problems found, nothing generic."""
    return list(dict.fromkeys(f.message for f in findings))
