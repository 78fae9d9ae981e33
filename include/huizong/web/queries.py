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

DEFAULT_FORM = "FL-01"
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
TREND_PERIODS = 8

STATUS_LABELS = {
    "on_time": "按时",
    "late": "逾期",
    "missing": "未报",
    "pending": "未到期",
    "quarantined": "已隔离",
    "errors": "有错误",
    "warnings": "有警告",
    "explained": "已说明",
    "approved": "已审核",
}


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

    @property
    def badges(self) -> list[str]:
        out = [self.timeliness]
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

    def add(self, s: UnitStatus) -> None:
        self.expected += 1
        self.reported += s.first_submitted_on is not None
        setattr(self, s.timeliness, getattr(self, s.timeliness) + 1)
        self.quarantined += s.quarantined > 0
        self.with_errors += s.open_errors > 0
        self.open_warnings += s.open_warnings
        self.explained += s.explained
        self.approved += s.approved


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


def unit_status(
    engine: Engine, code: str, form: str, period: str, *, as_of: date | None = None
) -> UnitStatus | None:
    tree = (
        "WITH tree (unit_code, top_code, depth) AS "
        "(SELECT CAST(:code AS CHAR(12)), CAST(:code AS CHAR(12)), 0)"
    )
    found = _status_rows(
        engine, tree, {"code": code, "form": form, "period": period}, as_of or beijing_today()
    )
    return found[0] if found else None


def subtree_report(
    engine: Engine, root: str, form: str, period: str, *, as_of: date | None = None
) -> SubtreeReport:
    """Each child of ``root`` with its own status and its whole subtree rolled up."""
    as_of = as_of or beijing_today()
    root_unit = unit(engine, root) or {"unit_code": root, "name": root}
    statuses = _status_rows(
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

def return_rows(engine: Engine, code: str, form: str, period: str) -> list[dict[str, Any]]:
    """The form's rows: own figures, YTD, last year, the children's sum and the difference.

    The same figures as ``v_consolidated`` (a test holds them equal), computed
    for one unit and period only: the view consolidates the whole warehouse,
    which a page cannot wait for.
    """
    return _rows(
        engine,
        """
        WITH kids AS (
            SELECT unit_code FROM dim_org_unit WHERE parent_code = :code AND valid_to IS NULL
        ),
        child_sums AS (
            SELECT f.indicator_code, SUM(f.value_current) AS sum_children,
                COUNT(f.value_current) AS children_reported
            FROM fact_indicator_value AS f
            WHERE f.unit_code IN (SELECT unit_code FROM kids) AND f.form = :form
                AND f.period = :period AND f.source = 'return' AND f.is_latest = TRUE
            GROUP BY f.indicator_code
        )
        SELECT
            i.indicator_code, i.name AS indicator_name, i.unit, i.temporal,
            f.value_current, f.value_ytd, f.value_last_year,
            CASE WHEN i.additive = TRUE THEN c.sum_children END AS sum_children,
            CASE WHEN i.additive = TRUE THEN f.value_current - c.sum_children END AS diff,
            COALESCE(c.children_reported, 0) AS children_reported,
            (SELECT COUNT(*) FROM kids) AS children_expected
        FROM dim_indicator AS i
        LEFT JOIN fact_indicator_value AS f
            ON i.form = f.form AND i.indicator_code = f.indicator_code
            AND f.unit_code = :code AND f.period = :period
            AND f.source = 'return' AND f.is_latest = TRUE
        LEFT JOIN child_sums AS c ON i.indicator_code = c.indicator_code
        WHERE i.form = :form AND i.temporal <> 'derived'
        ORDER BY i.indicator_code
        """,
        {"code": code, "form": form, "period": period},
    )


def unit_findings(engine: Engine, code: str, form: str, period: str) -> list[dict[str, Any]]:
    """Findings of the return, open ones first, each with its latest explanation."""
    return _rows(
        engine,
        """
        SELECT
            f.finding_id, f.check_name, f.severity, f.indicator_code, f.submission_id,
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
    """Own figure and the children's sum per period, for one indicator."""
    periods = list(periods)
    if not periods:
        return {}
    names = {f"p{i}": p for i, p in enumerate(periods)}
    in_list = ", ".join(f":{k}" for k in names)
    own = _rows(
        engine,
        f"SELECT period, value_current FROM fact_indicator_value WHERE unit_code = :code "
        f"AND form = :form AND indicator_code = :ind AND source = 'return' "
        f"AND is_latest = TRUE AND period IN ({in_list})",
        {"code": code, "form": form, "ind": indicator_code, **names},
    )
    kids = _rows(
        engine,
        f"SELECT f.period, SUM(f.value_current) AS total FROM fact_indicator_value AS f "
        f"INNER JOIN dim_org_unit AS u ON f.unit_code = u.unit_code AND u.valid_to IS NULL "
        f"WHERE u.parent_code = :code AND f.form = :form AND f.indicator_code = :ind "
        f"AND f.source = 'return' AND f.is_latest = TRUE AND f.period IN ({in_list}) "
        f"GROUP BY f.period",
        {"code": code, "form": form, "ind": indicator_code, **names},
    )
    series: dict[str, dict[str, float | None]] = {
        p: {"own": None, "children": None} for p in periods
    }
    for r in own:
        series[str(r["period"])]["own"] = r["value_current"]
    for r in kids:
        series[str(r["period"])]["children"] = r["total"]
    return series


def completeness_trend(
    engine: Engine, root: str, form: str, periods: Iterable[str], *, as_of: date | None = None
) -> dict[str, Rollup]:
    """The subtree's roll-up per period, for the completeness chart."""
    return {p: subtree_report(engine, root, form, p, as_of=as_of).total for p in periods}
