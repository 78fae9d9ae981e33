"""The indicator catalog: what form FL-01 asks for, as data.

The catalog lives in ``data/indicators.csv`` and ``data/derived_indicators.csv``
so that a new form or indicator is a data change, not a code change. Every
stage (portal extraction, returns parsing, warehouse seed, quality rules) reads
it from here.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Indicator:
    code: str
    form: str
    name: str
    unit: str
    temporal: str  # "stock" (value at period end) or "flow" (sums over periods)
    additive: bool
    bound_by: str | None  # a 其中-style row that must not exceed this code
    bound_severity: str | None  # "error" or "warn"
    aliases: tuple[str, ...]

    @property
    def is_money(self) -> bool:
        return self.unit == "元"

    @property
    def is_count(self) -> bool:
        return self.unit != "元"


@dataclass(frozen=True)
class DerivedIndicator:
    code: str
    form: str
    name: str
    unit: str
    numerator: str
    denominator: str
    scale: int


def _read_csv(name: str) -> list[dict[str, str]]:
    with resources.files("huizong.data").joinpath(name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@cache
def indicators(form: str = "FL-01") -> dict[str, Indicator]:
    """Base indicators of ``form`` keyed by their row code (``"01"`` … ``"24"``)."""
    out: dict[str, Indicator] = {}
    for row in _read_csv("indicators.csv"):
        if row["form"] != form:
            continue
        out[row["code"]] = Indicator(
            code=row["code"],
            form=row["form"],
            name=row["name"],
            unit=row["unit"],
            temporal=row["temporal"],
            additive=row["additive"].strip().lower() == "true",
            bound_by=row["bound_by"] or None,
            bound_severity=row["bound_severity"] or None,
            aliases=tuple(a for a in row["aliases"].split("|") if a),
        )
    return out


@cache
def derived_indicators(form: str = "FL-01") -> dict[str, DerivedIndicator]:
    return {
        row["code"]: DerivedIndicator(
            code=row["code"],
            form=row["form"],
            name=row["name"],
            unit=row["unit"],
            numerator=row["numerator"],
            denominator=row["denominator"],
            scale=int(row["scale"]),
        )
        for row in _read_csv("derived_indicators.csv")
        if row["form"] == form
    }


def known_forms() -> frozenset[str]:
    return frozenset(row["form"] for row in _read_csv("indicators.csv"))


_NAME_NOISE = re.compile(r"[\s\u3000“”\"'‘’「」（）()\[\]【】:：、，,.。其中]")


def normalize_name(name: str) -> str:
    """Canonical form of an indicator name for matching typed-in row labels.

    Bracket styles, quotes, spaces and the 其中 prefix vary between hand-typed
    workbooks; ``村(社区) 妇联组织数`` and ``村（社区）妇联组织数`` must match.
    """
    text = unicodedata.normalize("NFKC", name or "")
    text = re.sub(r"^\s*其中\s*[:：]?", "", text)
    return _NAME_NOISE.sub("", text)


@cache
def _by_normalized_name(form: str) -> dict[str, str]:
    return {normalize_name(ind.name): code for code, ind in indicators(form).items()}


def code_for_name(name: str, form: str = "FL-01") -> str | None:
    """Row code for a typed indicator name, or None if it is not in the catalog."""
    return _by_normalized_name(form).get(normalize_name(name))
