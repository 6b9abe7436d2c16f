"""The values a seller may ask for: marketplaces, markets (countries) and listing languages.

Checked when a workflow is submitted, before anything is stored, queued or paid for.
`MARKETPLACES` must name the same marketplaces as the listing service's rule table (a test
keeps the two in step).
"""

from __future__ import annotations

import re


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


MARKETPLACES: tuple[str, ...] = ("amazon", "ebay", "etsy", "shopify")

# ISO 3166-1 alpha-2, plus UK (what Amazon and sellers call GB).
MARKETS: frozenset[str] = _codes(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW UK
    """
)

# ISO 639-1 codes of languages listings are written in.
LANGUAGES: frozenset[str] = _codes(
    """
    af am ar az be bg bn bs ca cs cy da de el en es et eu fa fi fil fr ga gl gu he hi hr hu
    hy id is it ja ka kk km kn ko ky lo lt lv mk ml mn mr ms mt my nb ne nl no pa pl ps pt
    ro ru si sk sl so sq sr sv sw ta te th tl tr uk ur uz vi zh zu
    """
)
SCRIPTS = frozenset({"hans", "hant", "latn", "cyrl", "arab"})
_LANGUAGE_TAG = re.compile(r"([a-z]{2,3})(?:[-_]([a-z]{2}|[a-z]{4}|[0-9]{3}))?")


def normalise_market(value: str) -> str:
    market = value.strip().upper()
    if market not in MARKETS:
        raise ValueError(
            f"unknown market {value[:20]!r}: use a two-letter country code such as US, UK, DE, JP"
        )
    return market


def normalise_marketplace(value: str) -> str:
    marketplace = value.strip().lower()
    if marketplace not in MARKETPLACES:
        raise ValueError(
            f"unknown marketplace {value[:40]!r}; known marketplaces: {', '.join(MARKETPLACES)}"
        )
    return marketplace


def normalise_language(value: str) -> str:
    """A language tag such as en, de, zh-tw or pt-BR: a known language, optionally with a
    region (country or UN M.49 number) or a script."""
    tag = value.strip().lower().replace("_", "-")
    match = _LANGUAGE_TAG.fullmatch(tag)
    if match is None or match.group(1) not in LANGUAGES:
        raise ValueError(f"unknown language {value[:20]!r}: use a code such as en, de, zh, ja")
    subtag = match.group(2)
    if subtag and not (subtag.upper() in MARKETS or subtag in SCRIPTS or subtag.isdigit()):
        raise ValueError(f"unknown language region or script {subtag!r} in {value[:20]!r}")
    return tag
