"""What the officials' pages read from the warehouse, scoped to a subtree.

Every function takes the engine and plain values and returns plain dicts, so
pages, CSV/Parquet downloads and the bench share one code path. Two functions
serve other stages: :func:`explained_finding_ids` (alert digests skip explained
warnings) and :func:`is_locked` (intake quarantines resubmissions of an
approved return).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from huizong.returns import readback
from huizong.web import vocab

DEFAULT_FORM = "FL-01"
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
TREND_PERIODS = 8

STATUS_LABELS = vocab.STATUS_LABELS  # kept here for older imports


def _plain(value: Any) -> Any:
    """Decimals (PostgreSQL) as floats, whole floats as ints, dates as ISO text."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, str) and _TIMESTAMP.match(value):
        return value[:19]  # SQLite hands timestamps back as text, with microseconds
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rows(engine: Engine, sql: str, params: dict | None = None) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(sa.text(sql), params or {})
        return [{k: _plain(v) for k, v in row._mapping.items()} for row in result]


def _as_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


# --- the tree -------------------------------------------------------------

def unit(engine: Engine, code: str) -> dict[str, Any] | None:
    found = _rows(
        engine,
        "SELECT unit_code, name, federation_name, level, parent_code FROM dim_org_unit "
        "WHERE unit_code = :code AND valid_to IS NULL",
        {"code": code},
    )
    return found[0] if found else None


def ancestors(engine: Engine, code: str) -> list[str]:
    """Codes from ``code``'s parent up to the root (a few lookups: trees are shallow)."""
    chain: list[str] = []
    current: str | None = code
    with engine.connect() as conn:
        while current is not None and len(chain) < 10:
            parent = conn.execute(
                sa.text(
                    "SELECT parent_code FROM dim_org_unit "
                    "WHERE unit_code = :code AND valid_to IS NULL"
                ),
                {"code": current},
            ).scalar()
            if parent is None:
                break
            parent = str(parent).strip()
            chain.append(parent)
            current = parent
    return chain


def in_subtree(engine: Engine, root: str, code: str) -> bool:
    """Whether ``code`` is ``root`` or below it."""
    return code == root or root in ancestors(engine, code)


def children(engine: Engine, code: str | None) -> list[dict[str, Any]]:
    where = "parent_code = :code" if code is not None else "parent_code IS NULL"
    return _rows(
        engine,
        f"SELECT unit_code, name, level, parent_code FROM dim_org_unit "
        f"WHERE {where} AND valid_to IS NULL ORDER BY unit_code",
        {"code": code},
    )


_TREE_CTE = """
WITH RECURSIVE tree (unit_code, top_code, depth) AS (
    SELECT unit_code, unit_code, 1 FROM dim_org_unit
    WHERE parent_code = :root AND valid_to IS NULL
    UNION ALL
    SELECT u.unit_code, t.top_code, t.depth + 1
    FROM dim_org_unit AS u
    INNER JOIN tree AS t ON u.parent_code = t.unit_code
    WHERE u.valid_to IS NULL AND t.depth < 6
)
"""


def latest_period(engine: Engine, root: str | None, form: str = DEFAULT_FORM) -> str | None:
    """The newest period anyone in the subtree (root included) has submitted for."""
    if root is None:
        sql = (
            "SELECT s.period FROM return_submission AS s "
            "INNER JOIN dim_period AS p ON s.period = p.period WHERE s.form = :form "
            "ORDER BY p.end_date DESC, p.kind DESC LIMIT 1"
        )
    else:
        sql = (
            _TREE_CTE
            + "SELECT s.period FROM return_submission AS s "
            "INNER JOIN dim_period AS p ON s.period = p.period "
            "WHERE s.form = :form AND (s.unit_code = :root "
            "OR s.unit_code IN (SELECT unit_code FROM tree)) "
            "ORDER BY p.end_date DESC, p.kind DESC LIMIT 1"
        )
    found = _rows(engine, sql, {"root": root, "form": form})
    return str(found[0]["period"]) if found else None


def unit_periods(engine: Engine, root: str | None, form: str = DEFAULT_FORM) -> list[str]:
    """Every period the subtree of ``root`` has returns or findings for, with their years.

    Newest first; a year comes before its last quarter. A finding about a year
    (a notice's annual figure, say) must be reachable from the menu even when
    the form itself is returned quarterly, and so must the year of every quarter.
    """
    if root is None:
        where, params = "1 = 1", {"form": form}
        tree = ""
    else:
        where = "(x.unit_code = :root OR x.unit_code IN (SELECT unit_code FROM tree))"
        params = {"form": form, "root": root}
        tree = _TREE_CTE
    found = _rows(
        engine,
        tree
        + f"""
        SELECT DISTINCT x.period FROM (
            SELECT unit_code, period FROM return_submission WHERE form = :form
            UNION SELECT unit_code, period FROM finding WHERE form = :form
        ) AS x WHERE {where}
        """,
        params,
    )
    named = {str(r["period"]) for r in found}
    named |= {p[:4] for p in named if len(p) > 4 and p[:4].isdigit()}
    if not named:
        return []
    keys = {f"p{i}": p for i, p in enumerate(sorted(named))}
    known = _rows(
        engine,
        f"SELECT period, kind, end_date FROM dim_period "
        f"WHERE period IN ({', '.join(':' + k for k in keys)})",
        keys,
    )
    order = {"year": 0, "quarter": 1, "month": 2}
    known.sort(key=lambda r: (str(r["end_date"]), -order.get(str(r["kind"]), 3)), reverse=True)
    return [str(r["period"]) for r in known]


def periods_with_returns(engine: Engine, form: str = DEFAULT_FORM) -> list[str]:
    return [
        str(r["period"])
        for r in _rows(
            engine,
            "SELECT DISTINCT s.period, p.end_date, p.kind FROM return_submission AS s "
            "INNER JOIN dim_period AS p ON s.period = p.period WHERE s.form = :form "
            "ORDER BY p.end_date DESC, p.kind DESC",
            {"form": form},
        )
    ]


def period_info(engine: Engine, period: str) -> dict[str, Any] | None:
    found = _rows(engine, "SELECT * FROM dim_period WHERE period = :p", {"p": period})
    return found[0] if found else None


# --- status of a subtree ----------------------------------------------------

@dataclass
class UnitStatus:
    unit_code: str
    name: str
    level: str
    parent_code: str | None
    top_code: str
    depth: int
    due_date: str | None
    due_date_source: str  # "notice" (the parent's notice set it) or "default"
    due_date_notice_id: str | None
    first_submitted_on: str | None
    versions: int
    latest_status: str | None
    timeliness: str  # on_time | late | missing | pending
    quarantined: int
    open_errors: int
    open_warnings: int
    explained: int
    approved: bool
    quarters: dict[str, str] = field(default_factory=dict)  # a year's quarters: timeliness

    @property
    def badges(self) -> list[str]:
        out = [self.timeliness]
        if self.latest_status == "blocked":
            out.append("blocked")
        if self.quarantined:
            out.append("quarantined")
        if self.open_errors:
            out.append("errors")
        if self.open_warnings > self.explained:
            out.append("warnings")
        if self.explained:
            out.append("explained")
        if self.approved:
            out.append("approved")
        return out

    @property
    def state(self) -> str:
        """The one word a row is coloured by: the most pressing badge."""
        for badge in ("approved", "errors", "quarantined", "missing", "late", "warnings"):
            if badge in self.badges:
                return badge
        return "explained" if self.explained else self.timeliness


@dataclass
class Rollup:
    expected: int = 0
    reported: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0
    quarantined: int = 0
    with_errors: int = 0
    open_warnings: int = 0
    explained: int = 0
    approved: int = 0
    blocked: int = 0  # reported, latest return 未通过审核 (counted, with its figures)

    def add(self, s: UnitStatus) -> None:
        self.expected += 1
        self.reported += s.first_submitted_on is not None
        setattr(self, s.timeliness, getattr(self, s.timeliness) + 1)
        self.quarantined += s.quarantined > 0
        self.with_errors += s.open_errors > 0
        self.open_warnings += s.open_warnings
        self.explained += s.explained
        self.approved += s.approved
        self.blocked += s.latest_status == "blocked"


@dataclass
class SubtreeReport:
    root: dict[str, Any]
    form: str
    period: str
    own: UnitStatus | None
    children: list[tuple[UnitStatus, Rollup]] = field(default_factory=list)
    total: Rollup = field(default_factory=Rollup)


def _status_rows(
    engine: Engine, where_tree: str, params: dict[str, Any], as_of: date
) -> list[UnitStatus]:
    sql = f"""
    {where_tree}
    SELECT
        t.unit_code, t.top_code, t.depth, u.name, u.level, u.parent_code,
        COALESCE(rd.due_date, p.due_date) AS due_date,
        CASE WHEN rd.due_date IS NULL THEN 'default' ELSE 'notice' END AS due_date_source,
        rd.notice_id AS due_date_notice_id,
        sub.first_submitted_on, COALESCE(sub.versions, 0) AS versions,
        latest.status AS latest_status,
        COALESCE(q.held, 0) AS quarantined,
        COALESCE(f.open_errors, 0) AS open_errors,
        COALESCE(f.open_warnings, 0) AS open_warnings,
        COALESCE(f.explained, 0) AS explained,
        CASE WHEN a.approval_id IS NULL THEN 0 ELSE 1 END AS approved
    FROM tree AS t
    INNER JOIN dim_org_unit AS u ON t.unit_code = u.unit_code AND u.valid_to IS NULL
    INNER JOIN dim_period AS p ON p.period = :period
    LEFT JOIN reporting_deadline AS rd
        ON u.parent_code = rd.parent_code AND rd.form = :form AND rd.period = :period
    LEFT JOIN (
        SELECT unit_code, MIN(submitted_on) AS first_submitted_on, COUNT(*) AS versions
        FROM return_submission WHERE form = :form AND period = :period GROUP BY unit_code
    ) AS sub ON t.unit_code = sub.unit_code
    LEFT JOIN (
        SELECT s.unit_code, s.status FROM return_submission AS s
        WHERE s.form = :form AND s.period = :period AND s.status <> 'superseded'
        AND NOT EXISTS (
            SELECT 1 FROM return_submission AS n
            WHERE n.unit_code = s.unit_code AND n.form = s.form AND n.period = s.period
            AND n.status <> 'superseded'
            AND (n.version > s.version OR (n.version = s.version AND n.received_at > s.received_at))
        )
    ) AS latest ON t.unit_code = latest.unit_code
    LEFT JOIN (
        SELECT submitted_unit_code AS unit_code, COUNT(*) AS held FROM quarantine
        WHERE status = 'held' AND period = :period AND (form = :form OR form IS NULL)
        GROUP BY submitted_unit_code
    ) AS q ON t.unit_code = q.unit_code
    LEFT JOIN (
        SELECT
            fi.unit_code,
            SUM(CASE WHEN fi.severity = 'error' THEN 1 ELSE 0 END) AS open_errors,
            SUM(CASE WHEN fi.severity = 'warn' THEN 1 ELSE 0 END) AS open_warnings,
            SUM(CASE WHEN fi.severity = 'warn' AND EXISTS (
                SELECT 1 FROM web_explanation AS e WHERE e.finding_id = fi.finding_id
            ) THEN 1 ELSE 0 END) AS explained
        FROM finding AS fi
        WHERE fi.form = :form AND fi.period = :period AND fi.resolved_at IS NULL
        GROUP BY fi.unit_code
    ) AS f ON t.unit_code = f.unit_code
    LEFT JOIN web_approval AS a
        ON t.unit_code = a.unit_code AND a.form = :form AND a.period = :period
        AND a.withdrawn_at IS NULL
    ORDER BY t.depth, t.unit_code
    """
    out: list[UnitStatus] = []
    for r in _rows(engine, sql, params):
        due = _as_date(r["due_date"])
        submitted = _as_date(r["first_submitted_on"])
        if submitted is not None:
            timeliness = "on_time" if due is None or submitted <= due else "late"
        else:
            timeliness = "pending" if due is not None and as_of <= due else "missing"
        out.append(
            UnitStatus(
                unit_code=str(r["unit_code"]).strip(),
                name=r["name"],
                level=r["level"],
                parent_code=(str(r["parent_code"]).strip() if r["parent_code"] else None),
                top_code=str(r["top_code"]).strip(),
                depth=int(r["depth"]),
                due_date=due.isoformat() if due else None,
                due_date_source=r["due_date_source"],
                due_date_notice_id=r["due_date_notice_id"],
                first_submitted_on=submitted.isoformat() if submitted else None,
                versions=int(r["versions"]),
                latest_status=r["latest_status"],
                timeliness=timeliness,
                quarantined=int(r["quarantined"]),
                open_errors=int(r["open_errors"]),
                open_warnings=int(r["open_warnings"]),
                explained=int(r["explained"]),
                approved=bool(r["approved"]),
            )
        )
    return out


def year_quarters(engine: Engine, form: str, period: str) -> list[str]:
    """The quarters a year is returned in, when ``form`` is returned by quarter.

    Empty for a period that is not a year, or a form nobody returns by quarter.
    A unit that did send a return for the year itself is judged and counted by
    that return; the quarters stand in for the year only where it did not.
    """
    if not (len(period) == 4 and period.isdigit()):
        return []
    with engine.connect() as conn:
        quarterly = conn.execute(
            sa.text(
                "SELECT 1 FROM return_submission WHERE form = :f AND period LIKE :q LIMIT 1"
            ),
            {"f": form, "q": "____Q_"},
        ).first()
    return [f"{period}Q{q}" for q in range(1, 5)] if quarterly is not None else []


_YEAR_ORDER = ("missing", "late", "on_time", "pending")


def _statuses(
    engine: Engine, where_tree: str, params: dict[str, Any], as_of: date
) -> list[UnitStatus]:
    """:func:`_status_rows`, and for a year of a quarterly form its quarters' verdict.

    A unit's year is judged by its returns for that year: missing if a quarter
    that is due is missing, late if a quarter came late, on time once the due
    quarters came on time, not yet due before the first quarter is. Findings,
    approval and quarantine stay those of the year itself.
    """
    year = _status_rows(engine, where_tree, params, as_of)
    quarters = year_quarters(engine, params["form"], params["period"])
    if not quarters:
        return year
    by_quarter = [
        {s.unit_code: s for s in _status_rows(engine, where_tree, {**params, "period": q}, as_of)}
        for q in quarters
    ]
    for s in year:
        parts = [q[s.unit_code] for q in by_quarter if s.unit_code in q]
        if not parts or s.first_submitted_on is not None:
            continue
        seen = {p.timeliness for p in parts}
        s.timeliness = next(t for t in _YEAR_ORDER if t in seen)
        submitted = [p.first_submitted_on for p in parts if p.first_submitted_on]
        s.first_submitted_on = min(submitted) if submitted else None
        s.versions = sum(p.versions for p in parts)
        statuses = [p.latest_status for p in parts if p.latest_status]
        s.latest_status = "blocked" if "blocked" in statuses else (statuses[-1] if statuses
                                                                    else None)
        s.quarters = {q: p.timeliness for q, p in zip(quarters, parts, strict=False)}
    return year


def unit_status(
    engine: Engine, code: str, form: str, period: str, *, as_of: date | None = None
) -> UnitStatus | None:
    tree = (
        "WITH tree (unit_code, top_code, depth) AS "
        "(SELECT CAST(:code AS CHAR(12)), CAST(:code AS CHAR(12)), 0)"
    )
    found = _statuses(
        engine, tree, {"code": code, "form": form, "period": period}, as_of or beijing_today()
    )
    return found[0] if found else None


def subtree_report(
    engine: Engine, root: str, form: str, period: str, *, as_of: date | None = None
) -> SubtreeReport:
    """Each child of ``root`` with its own status and its whole subtree rolled up."""
    as_of = as_of or beijing_today()
    root_unit = unit(engine, root) or {"unit_code": root, "name": root}
    statuses = _statuses(
        engine, _TREE_CTE, {"root": root, "form": form, "period": period}, as_of
    )
    report = SubtreeReport(
        root=root_unit, form=form, period=period, own=unit_status(engine, root, form, period,
                                                                  as_of=as_of)
    )
    by_top: dict[str, Rollup] = {}
    direct: dict[str, UnitStatus] = {}
    for s in statuses:
        by_top.setdefault(s.top_code, Rollup()).add(s)
        report.total.add(s)
        if s.depth == 1:
            direct[s.unit_code] = s
    report.children = [(direct[c], by_top[c]) for c in sorted(direct)]
    return report


def beijing_today() -> date:
    from datetime import UTC, timedelta

    return (datetime.now(UTC) + timedelta(hours=8)).date()


# --- one unit's return ------------------------------------------------------

# What counts: the one definition every figure on the pages, downloads, charts
# and digests goes through. A unit's figures for a period are those of its
# latest return (highest version, then latest arrival) that the checks decided:
# published, published with warnings, or blocked (未通过审核). A blocked return
# counts with its own figures, because the checks that wrote the findings
# compared exactly those figures, and an official must see what was refused to
# correct it. Publishing keeps a blocked return's figures only in its raw file,
# so they are read back from there with the intake's own parser. Returns still
# waiting for their checks (staged) and superseded versions do not count.

COUNTED_STATUSES = readback.COUNTED_STATUSES


@dataclass
class CountedReturn:
    """A unit's counted return for one period."""

    unit_code: str
    period: str
    submission_id: str
    version: int
    status: str
    values: dict[str, dict[str, Any]]  # code -> {"current", "ytd", "last_year"}
    readable: bool = True  # False: a blocked return whose raw file is gone or altered

    @property
    def blocked(self) -> bool:
        return self.status == "blocked"


@dataclass
class Consolidation:
    """A unit's own figures beside the sum of its children's, for one period."""

    unit_code: str
    form: str
    period: str
    rows: list[dict[str, Any]]
    own: list[CountedReturn]  # the unit's counted return(s): one, or a year's quarters
    children_expected: int
    children_counted: list[dict[str, Any]]  # unit_code, name, blocked, statuses
    quarters: list[str] = field(default_factory=list)  # a year built from its quarters
    children_missing: list[str] = field(default_factory=list)  # names of children not counted

    @property
    def own_blocked(self) -> bool:
        return any(r.blocked for r in self.own)

    @property
    def blocked_children(self) -> list[str]:
        return [c["name"] for c in self.children_counted if c["blocked"]]

    @property
    def note(self) -> str:
        """What the 下级合计 column counts, said on the page (one sentence)."""
        counted = f"{len(self.children_counted)}/{self.children_expected}"
        parts = [f"下级合计按各下级最新一版报表计算（{counted} 个下级已报）" if not self.quarters
                 else f"下级合计按各下级各季度最新一版报表计算（{counted} 个下级报送了本年报表）"]
        if self.blocked_children:
            parts.append(
                f"，含{len(self.blocked_children)}份未通过审核的报表"
                f"（{'、'.join(self.blocked_children)}）"
            )
        if self.quarters:
            parts.append("；全年数由四个季度的报表得出：存量指标取第四季度数，流量指标为四个季度之和"
                         "（四个季度报齐才有）")
        return "".join(parts) + "。"


def _counted_submissions(
    engine: Engine, code: str, form: str, periods: list[str], *, with_children: bool
) -> dict[tuple[str, str], dict[str, Any]]:
    """(unit, period) → the counted submission row, for ``code`` (and its children)."""
    keys = {f"p{i}": p for i, p in enumerate(periods)}
    units = "s.unit_code = :code"
    if with_children:
        units += (" OR s.unit_code IN (SELECT unit_code FROM dim_org_unit "
                  "WHERE parent_code = :code AND valid_to IS NULL)")
    found = _rows(
        engine,
        "SELECT s.submission_id, s.unit_code, s.period, s.version, s.status, s.channel, "
        "s.source_uri, s.raw_sha256, s.raw_path, s.received_at, s.submitted_at, "
        "COALESCE(s.submitted_at, s.received_at) AS submitted_or_received "
        "FROM return_submission AS s WHERE s.form = :form "
        f"AND s.period IN ({', '.join(':' + k for k in keys)}) AND ({units}) "
        f"AND s.status IN ({', '.join(repr(x) for x in COUNTED_STATUSES)})",
        {"code": code, "form": form, **keys},
    )
    rank = readback.publish_rank
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in found:
        r["unit_code"] = str(r["unit_code"]).strip()
        r["submission_id"] = str(r["submission_id"]).strip()
        key = (r["unit_code"], str(r["period"]))
        if key not in latest or rank(r) > rank(latest[key]):
            latest[key] = r
    return latest


def _published_values(
    engine: Engine, chosen: list[dict[str, Any]], form: str, indicator: str | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """The facts of the chosen submissions, read by the facts' key (unit, form, …, period)."""
    out: dict[str, dict[str, dict[str, Any]]] = {r["submission_id"]: {} for r in chosen}
    if not chosen:
        return out
    only = " AND indicator_code = :ind" if indicator else ""
    stmt = sa.text(
        "SELECT source_ref, indicator_code, value_current, value_ytd, value_last_year "
        "FROM fact_indicator_value WHERE unit_code IN :units AND form = :form "
        f"AND period IN :periods AND source = 'return'{only}"
    ).bindparams(sa.bindparam("units", expanding=True), sa.bindparam("periods", expanding=True))
    params = {
        "units": sorted({r["unit_code"] for r in chosen}),
        "periods": sorted({str(r["period"]) for r in chosen}),
        "form": form,
        "ind": indicator,
    }
    with engine.connect() as conn:
        for r in conn.execute(stmt, params):
            ref = str(r.source_ref).strip()
            if ref not in out:
                continue  # an older or newer version's facts
            out[ref][str(r.indicator_code)] = {
                "current": _plain(r.value_current),
                "ytd": _plain(r.value_ytd),
                "last_year": _plain(r.value_last_year),
            }
    return out


def _read_blocked(row: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    cells = readback.blocked_return_values(row)
    if cells is None:
        return None
    return {code: {k: _plain(v) for k, v in c.items()} for code, c in cells.items()}


def counted_returns(
    engine: Engine, code: str, form: str, periods: list[str], *, with_children: bool = True,
    indicator: str | None = None,
) -> dict[tuple[str, str], CountedReturn]:
    """The counted return of ``code`` (and each child) per period: see ``COUNTED_STATUSES``.

    ``indicator`` limits the published figures read to one row (a chart needs one).
    """
    chosen = _counted_submissions(engine, code, form, periods, with_children=with_children)
    published = _published_values(
        engine, [r for r in chosen.values() if r["status"] != "blocked"], form, indicator
    )
    out: dict[tuple[str, str], CountedReturn] = {}
    for key, r in chosen.items():
        readable = True
        if r["status"] == "blocked":
            values = _read_blocked({**r, "form": form})
            readable = values is not None
            values = values or {}
        else:
            values = published.get(r["submission_id"], {})
        out[key] = CountedReturn(
            unit_code=key[0], period=key[1], submission_id=r["submission_id"],
            version=int(r["version"]), status=str(r["status"]), values=values, readable=readable,
        )  # fmt: skip
    return out


def _indicator_rows(engine: Engine, form: str) -> list[dict[str, Any]]:
    return _rows(
        engine,
        "SELECT indicator_code, name AS indicator_name, unit, temporal, additive "
        "FROM dim_indicator WHERE form = :form AND temporal <> 'derived' ORDER BY indicator_code",
        {"form": form},
    )


def _annual(temporal: str, parts: list[dict[str, Any] | None], column: str) -> Any:
    """A year's figure from its four quarters' (stock: the fourth; flow: the sum of four)."""
    values = [None if p is None else p.get(column) for p in parts]
    if temporal == "stock":
        return values[-1]
    if any(v is None for v in values):
        return None
    return _plain(sum(Decimal(str(v)) for v in values))


def consolidation(
    engine: Engine, code: str, form: str, period: str, *, indicator: str | None = None
) -> Consolidation:
    """``code``'s own figures and its children's sum for ``period``: what counts, once.

    A year of a quarterly form is built from the quarters (see :func:`year_quarters`).
    ``indicator`` computes that one row only (the same way).
    """
    quarters = year_quarters(engine, form, period)
    kids = children(engine, code)
    counted = counted_returns(engine, code, form, [period, *quarters], indicator=indicator)
    indicators = [i for i in _indicator_rows(engine, form)
                  if indicator is None or i["indicator_code"] == indicator]
    return _consolidate(code, form, period, quarters, kids, counted, indicators)


def _consolidate(
    code: str, form: str, period: str, quarters: list[str], kids: list[dict[str, Any]],
    counted: dict[tuple[str, str], CountedReturn], indicators: list[dict[str, Any]],
) -> Consolidation:
    """:func:`consolidation` from what it read (the charts read many periods at once)."""

    def figures(unit_code: str) -> tuple[dict[str, dict[str, Any]], list[CountedReturn]]:
        direct = counted.get((unit_code, period))
        if direct is not None or not quarters:
            return (direct.values, [direct]) if direct is not None else ({}, [])
        parts = [counted.get((unit_code, q)) for q in quarters]
        present = [p for p in parts if p is not None]
        by_code: dict[str, dict[str, Any]] = {}
        for ind in indicators:
            c = ind["indicator_code"]
            cells = [None if p is None else p.values.get(c) for p in parts]
            by_code[c] = {col: _annual(ind["temporal"], cells, col)
                          for col in ("current", "ytd", "last_year")}
            by_code[c]["ytd"] = by_code[c]["current"]
        return (by_code if present else {}), present

    own_values, own_returns = figures(code)
    child_values: list[tuple[dict[str, Any], dict[str, dict[str, Any]], list[CountedReturn]]] = []
    for kid in kids:
        values, returns = figures(str(kid["unit_code"]).strip())
        child_values.append((kid, values, returns))
    rows: list[dict[str, Any]] = []
    for ind in indicators:
        c = ind["indicator_code"]
        own = own_values.get(c, {})
        kid_figures = [v[c]["current"] for _, v, _ in child_values
                       if c in v and v[c].get("current") is not None]
        total = _plain(sum(Decimal(str(v)) for v in kid_figures)) if kid_figures else None
        additive = bool(ind["additive"])
        current = own.get("current")
        rows.append({
            "indicator_code": c,
            "indicator_name": ind["indicator_name"],
            "unit": ind["unit"],
            "temporal": ind["temporal"],
            "value_current": current,
            "value_ytd": own.get("ytd"),
            "value_last_year": own.get("last_year"),
            "sum_children": total if additive else None,
            "diff": (_plain(Decimal(str(current)) - Decimal(str(total)))
                     if additive and current is not None and total is not None else None),
            "children_reported": len(kid_figures),
            "children_expected": len(kids),
        })  # fmt: skip
    counted_children = [
        {
            "unit_code": str(kid["unit_code"]).strip(),
            "name": kid["name"],
            "blocked": any(r.blocked for r in returns),
            "statuses": [r.status for r in returns],
        }
        for kid, _, returns in child_values
        if returns
    ]
    return Consolidation(
        unit_code=code, form=form, period=period, rows=rows, own=own_returns,
        children_expected=len(kids), children_counted=counted_children, quarters=quarters,
        children_missing=[kid["name"] for kid, _, returns in child_values if not returns],
    )  # fmt: skip


def return_rows(engine: Engine, code: str, form: str, period: str) -> list[dict[str, Any]]:
    """The form's rows: own figures, YTD, last year, the children's sum and the difference.

    As :func:`consolidation` counts them. ``v_consolidated`` (analysts' view of
    published figures) agrees except for blocked returns, which it leaves out
    (a test holds both statements).
    """
    return consolidation(engine, code, form, period).rows


def unit_findings(engine: Engine, code: str, form: str, period: str) -> list[dict[str, Any]]:
    """Findings of the return, open ones first, each with its latest explanation."""
    return _rows(
        engine,
        """
        SELECT
            f.finding_id, f.check_name, f.severity, f.unit_code, f.form, f.period,
            f.indicator_code, f.submission_id,
            f.observed, f.expected, f.evidence, f.message_zh, f.first_seen, f.last_seen,
            f.resolved_at,
            e.explanation, e.actor_email AS explained_by, e.created_at AS explained_at
        FROM finding AS f
        LEFT JOIN web_explanation AS e
            ON f.finding_id = e.finding_id
            AND e.created_at = (
                SELECT MAX(e2.created_at) FROM web_explanation AS e2
                WHERE e2.finding_id = f.finding_id
            )
        WHERE f.unit_code = :code AND f.form = :form AND f.period = :period
        ORDER BY CASE WHEN f.resolved_at IS NULL THEN 0 ELSE 1 END,
            CASE WHEN f.severity = 'error' THEN 0 ELSE 1 END, f.indicator_code, f.check_name
        """,
        {"code": code, "form": form, "period": period},
    )


def unit_versions(engine: Engine, code: str, form: str, period: str) -> list[dict[str, Any]]:
    return _rows(
        engine,
        "SELECT submission_id, version, channel, source_uri, status, submitted_at, "
        "received_at, submitted_on, unit_name FROM return_submission "
        "WHERE unit_code = :code AND form = :form AND period = :period "
        "ORDER BY version DESC, received_at DESC",
        {"code": code, "form": form, "period": period},
    )


def unit_quarantine(engine: Engine, code: str, form: str, period: str) -> list[dict[str, Any]]:
    return _rows(
        engine,
        "SELECT quarantine_id, channel, reason, detail, received_at, status, filename "
        "FROM quarantine WHERE submitted_unit_code = :code AND period = :period "
        "AND (form = :form OR form IS NULL) ORDER BY received_at DESC",
        {"code": code, "form": form, "period": period},
    )


def submission(engine: Engine, submission_id: str) -> dict[str, Any] | None:
    found = _rows(
        engine,
        "SELECT submission_id, unit_code, form, period, version, source_uri, raw_path "
        "FROM return_submission WHERE submission_id = :sid",
        {"sid": submission_id},
    )
    return found[0] if found else None


def unit_audit(engine: Engine, code: str, limit: int = 200) -> list[dict[str, Any]]:
    return _rows(
        engine,
        "SELECT created_at, action, form, period, finding_id, actor_email, actor_unit_code, "
        "link_id, detail FROM web_audit WHERE unit_code = :code "
        "ORDER BY created_at DESC LIMIT :limit",
        {"code": code, "limit": limit},
    )


def active_approval(engine: Engine, code: str, form: str, period: str) -> dict[str, Any] | None:
    found = _rows(
        engine,
        "SELECT approval_id, approved_by_email, approved_by_unit_code, approved_at "
        "FROM web_approval WHERE unit_code = :code AND form = :form AND period = :period "
        "AND withdrawn_at IS NULL",
        {"code": code, "form": form, "period": period},
    )
    return found[0] if found else None


def approval_history(engine: Engine, code: str, form: str, period: str) -> list[dict[str, Any]]:
    return _rows(
        engine,
        "SELECT approved_by_email, approved_at, withdrawn_by_email, withdrawn_at, "
        "withdrawal_reason FROM web_approval "
        "WHERE unit_code = :code AND form = :form AND period = :period ORDER BY approved_at DESC",
        {"code": code, "form": form, "period": period},
    )


def unit_names(engine: Engine, codes: Iterable[str]) -> dict[str, str]:
    codes = sorted({c for c in codes if c})
    if not codes:
        return {}
    stmt = sa.text(
        "SELECT unit_code, name FROM dim_org_unit WHERE valid_to IS NULL AND unit_code IN :codes"
    ).bindparams(sa.bindparam("codes", expanding=True))
    with engine.connect() as conn:
        return {str(r.unit_code).strip(): r.name for r in conn.execute(stmt, {"codes": codes})}


def indicator_names(engine: Engine, form: str = DEFAULT_FORM) -> dict[str, str]:
    return {
        str(r["indicator_code"]): r["name"]
        for r in _rows(engine, "SELECT indicator_code, name FROM dim_indicator WHERE form = :f",
                       {"f": form})
    }


def notice_for_url(engine: Engine, url: str) -> str | None:
    """The stored notice (its id) a finding's quote came from, by the page's address."""
    found = _rows(
        engine,
        "SELECT notice_id FROM notice WHERE url = :url ORDER BY first_seen DESC LIMIT 1",
        {"url": url},
    )
    return str(found[0]["notice_id"]).strip() if found else None


def stored_notice_page(engine: Engine, notice_id: str) -> dict[str, Any] | None:
    """The raw landing of a notice's page: where its body is and how it was encoded."""
    found = _rows(
        engine,
        "SELECT n.notice_id, n.title, n.url, r.raw_path, r.encoding, r.fetched_at "
        "FROM notice AS n INNER JOIN raw_page AS r ON n.portal_id = r.portal_id "
        "AND n.url = r.url AND n.raw_sha256 = r.sha256 WHERE n.notice_id = :nid",
        {"nid": notice_id},
    )
    return found[0] if found else None


# --- for other stages --------------------------------------------------------

def explained_finding_ids(engine: Engine) -> set[str]:
    """Warnings a unit has explained: the alert digest does not announce these again.

    Only warnings count; an error cannot be explained away (the web refuses to
    store one, and a finding whose severity later became ``error`` is dropped here).
    """
    with engine.connect() as conn:
        return {
            str(r[0]).strip()
            for r in conn.execute(
                sa.text(
                    "SELECT DISTINCT e.finding_id FROM web_explanation AS e "
                    "INNER JOIN finding AS f ON e.finding_id = f.finding_id "
                    "WHERE f.severity = 'warn'"
                )
            )
        }


def is_locked(engine: Engine, unit_code: str, form: str, period: str) -> bool:
    """Whether the return is approved: a resubmission must be quarantined until withdrawn."""
    with engine.connect() as conn:
        return (
            conn.execute(
                sa.text(
                    "SELECT 1 FROM web_approval WHERE unit_code = :code AND form = :form "
                    "AND period = :period AND withdrawn_at IS NULL"
                ),
                {"code": unit_code, "form": form, "period": period},
            ).first()
            is not None
        )


# --- charts' data -------------------------------------------------------------

def previous_periods(engine: Engine, period: str, n: int = TREND_PERIODS) -> list[str]:
    """``period`` and the ``n - 1`` before it of the same kind, oldest first."""
    found = _rows(
        engine,
        "SELECT p.period FROM dim_period AS p INNER JOIN dim_period AS cur "
        "ON cur.period = :period AND p.kind = cur.kind AND p.end_date <= cur.end_date "
        "ORDER BY p.end_date DESC LIMIT :n",
        {"period": period, "n": n},
    )
    return [str(r["period"]) for r in reversed(found)]


def trend(
    engine: Engine, code: str, form: str, indicator_code: str, periods: Iterable[str]
) -> dict[str, dict[str, float | None]]:
    """Own figure and the children's sum per period, for one indicator, as pages count them.

    The same :func:`consolidation`, with every period's returns read in one go.
    """
    periods = list(periods)
    quarters = {p: year_quarters(engine, form, p) for p in periods}
    needed = sorted({q for p in periods for q in (p, *quarters[p])})
    kids = children(engine, code)
    counted = counted_returns(engine, code, form, needed, indicator=indicator_code) if needed \
        else {}
    indicators = [i for i in _indicator_rows(engine, form) if i["indicator_code"] == indicator_code]
    series: dict[str, dict[str, float | None]] = {}
    for p in periods:
        rows = _consolidate(code, form, p, quarters[p], kids, counted, indicators).rows
        row = rows[0] if rows else {}
        series[p] = {"own": row.get("value_current"), "children": row.get("sum_children")}
    return series


def completeness_trend(
    engine: Engine, root: str, form: str, periods: Iterable[str], *, as_of: date | None = None
) -> dict[str, Rollup]:
    """The subtree's roll-up per period, for the completeness chart."""
    return {p: subtree_report(engine, root, form, p, as_of=as_of).total for p in periods}
