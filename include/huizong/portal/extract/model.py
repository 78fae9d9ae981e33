"""The records extraction returns: one statistic, one text table, one page."""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields

from huizong.portal.normalize import NormalizedText
from huizong.portal.notice import (
    NoticeMeta,
)


@dataclass(frozen=True)
class Statistic:
    """One figure of a page with its provenance and meaning."""

    quote: str
    start: int
    end: int
    raw_start: int
    raw_end: int
    value: float | int
    unit: str | None
    qualifier: str
    indicator: str | None
    indicator_name: str | None
    org: str | None
    org_code: str | None
    period: str | None
    kind: str
    figure: str = ""
    row_header: str | None = None
    col_header: str | None = None
    checks: tuple[dict[str, object], ...] = ()
    form: str | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            out[item.name] = [dict(c) for c in value] if item.name == "checks" else value
        return out


_STATISTIC_DEFAULTS = {
    item.name: item.default for item in fields(Statistic) if item.default is not MISSING
}


if any(item.default_factory is not MISSING for item in fields(Statistic)):
    raise RuntimeError("_new_statistic fills defaults, not default factories")


def new_statistic(values: dict[str, object]) -> Statistic:
    """``Statistic(**values)`` for the figure loop, which builds one per figure.

    The frozen dataclass ``__init__`` sets each of the 19 fields through
    ``object.__setattr__``; filling the instance dict at once costs a third of that.
    """
    statistic = object.__new__(Statistic)
    attributes = vars(statistic)
    attributes.update(_STATISTIC_DEFAULTS)
    attributes.update(values)
    return statistic


@dataclass(frozen=True)
class TextTable:
    """A table found in normalized text; cells carry their normalized offsets."""

    rows: tuple[tuple[tuple[str, int, int], ...], ...]
    start: int
    end: int
    # The units of a unit line above the table (单位：户、人、万元 → "户、人、万元").
    unit: str | None = None
    # Rows split at single spaces: header words are not aligned with the columns.
    spaced: bool = False
    # Header rows an HTML table declares (<th> rows, <thead>); None when read from text.
    header_rows: int | None = None


@dataclass(frozen=True)
class PageExtraction:
    normalized: NormalizedText
    notice: NoticeMeta
    statistics: list[Statistic]
    tables: tuple[TextTable, ...] = ()
    org: str | None = None
    org_code: str | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "org": self.org,
            "org_code": self.org_code,
            "notice": self.notice.to_dict(),
            "statistics": [s.to_dict() for s in self.statistics],
        }
