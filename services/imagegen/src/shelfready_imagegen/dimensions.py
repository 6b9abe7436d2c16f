"""Product dimensions read from the seller's specifications ("Dimensions": "10 x 8 x 25 cm").

Combined values follow the marketplace convention length x width x height, taken here as the
drawing's width x depth x height; two values are width x height; a single "Size" measures the
product's longest side. Named keys (Height, Width, Depth/Length, Diameter) override.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER = r"(\d+(?:[.,]\d+)?)"
UNIT = r"(mm|cm|m|in|inch|inches|ft|feet|\"|″|''|毫米|厘米|公分|米|英寸)"
MEASURE = re.compile(rf"{NUMBER}\s*{UNIT}?", re.IGNORECASE)
SEPARATOR = re.compile(r"\s*[x×X*]\s*")
COMBINED = re.compile(
    rf"^\s*{NUMBER}\s*{UNIT}?(?:\s*[x×X*]\s*{NUMBER}\s*{UNIT}?)(?:\s*[x×X*]\s*{NUMBER}\s*{UNIT}?)?",
    re.IGNORECASE,
)
SINGLE = re.compile(rf"^\s*(?:[A-Za-z]+\s*)?{NUMBER}\s*{UNIT}", re.IGNORECASE)

COMBINED_KEYS = ("dimension", "measurement", "size", "尺寸", "寸法", "サイズ", "规格")
HEIGHT_KEYS = ("height", "tall", "高")
WIDTH_KEYS = ("width", "wide", "宽", "幅", "寬")
DEPTH_KEYS = ("depth", "length", "deep", "长", "長", "深", "奥行")
DIAMETER_KEYS = ("diameter", "直径", "直徑")
UNIT_NAMES = {
    "inch": "in",
    "inches": "in",
    '"': "in",
    "″": "in",
    "''": "in",
    "feet": "ft",
    "毫米": "mm",
    "厘米": "cm",
    "公分": "cm",
    "米": "m",
    "英寸": "in",
}


@dataclass(frozen=True)
class Measure:
    value: float
    unit: str

    @property
    def label(self) -> str:
        number = f"{self.value:.2f}".rstrip("0").rstrip(".")
        return f"{number} {self.unit}" if self.unit else number


@dataclass(frozen=True)
class Dimensions:
    width: Measure | None = None
    height: Measure | None = None
    depth: Measure | None = None
    longest: Measure | None = None  # a bare "Size": drawn along the product's longer side

    def __bool__(self) -> bool:
        return any((self.width, self.height, self.depth, self.longest))


def parse_dimensions(specifications: dict[str, str]) -> Dimensions | None:
    """Dimensions found in the specifications, or None when they name none."""
    width = height = depth = longest = None
    for key, value in specifications.items():
        name = key.strip().lower()
        if _matches(name, COMBINED_KEYS):
            combined = _parse_combined(value)
            if combined:
                width = width or combined.width
                height = height or combined.height
                depth = depth or combined.depth
                longest = longest or combined.longest
    for key, value in specifications.items():
        name = key.strip().lower()
        single = _parse_single(value)
        if single is None:
            continue
        if _matches(name, HEIGHT_KEYS):
            height = single
        elif _matches(name, WIDTH_KEYS) or _matches(name, DIAMETER_KEYS):
            width = single
        elif _matches(name, DEPTH_KEYS):
            depth = single
    found = Dimensions(width, height, depth, longest)
    return found if found else None


def _matches(name: str, keys: tuple[str, ...]) -> bool:
    return any(key in name for key in keys)


def _parse_combined(value: str) -> Dimensions | None:
    match = COMBINED.match(value.replace(",", ".") if "x" in value.lower() else value)
    if match:
        groups = match.groups()
        numbers = [groups[i] for i in (0, 2, 4) if groups[i]]
        units = [groups[i] for i in (1, 3, 5)]
        shared = next((u for u in reversed(units) if u), "")
        measures = [
            Measure(_number(n), _unit(u or shared)) for n, u in zip(numbers, units, strict=False)
        ]
        if len(measures) == 3:
            return Dimensions(width=measures[0], depth=measures[1], height=measures[2])
        return Dimensions(width=measures[0], height=measures[1])
    single = _parse_single(value)
    return Dimensions(longest=single) if single else None


def _parse_single(value: str) -> Measure | None:
    match = SINGLE.match(value)
    if not match:
        return None
    return Measure(_number(match.group(1)), _unit(match.group(2)))


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _unit(text: str | None) -> str:
    if not text:
        return ""
    lowered = text.lower()
    return UNIT_NAMES.get(lowered, UNIT_NAMES.get(text, lowered))
