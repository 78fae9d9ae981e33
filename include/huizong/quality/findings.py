"""Storing findings across runs: new, still open, resolved.

A finding's id says what it is about (check, unit, form, indicator, period), so
recording the same problem again only moves ``last_seen``. What a run checked
is its *scope*; an open finding inside that scope that the run did not see
again has been fixed and gets ``resolved_at``. Findings outside the scope are
left alone: a run that only looked at 两当县's returns says nothing about 融安县.

A scope key is ``(unit_code, form, period)`` — every check on that return — or
``(unit_code, form, period, check_name)`` — only that check, used when a run
re-evaluates one aspect of a return it did not otherwise re-check (the parent
sum of a county whose towns just reported, completeness of a unit).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from huizong.quality.model import Finding

ScopeKey = tuple[str, str, str] | tuple[str, str, str, str]

# SQLite allows 32766 bound parameters per statement; stay far below it.
_CHUNK = 900


class CheckResult(list[Finding]):
    """Findings of a check run together with the scope that run covered."""

    def __init__(self, findings: Iterable[Finding] = (), scope: Iterable[ScopeKey] = ()):
        super().__init__(findings)
        self.scope: set[ScopeKey] = set(scope)

    def merge(self, other: Iterable[Finding]) -> CheckResult:
        merged = CheckResult(self, self.scope)
        merged.extend(other)
        merged.scope |= getattr(other, "scope", set())
        return merged

    def __add__(self, other: Iterable[Finding]) -> CheckResult:  # type: ignore[override]
        return self.merge(other)


@dataclass
class FindingsDelta:
    new: list[Finding] = field(default_factory=list)  # first seen now, or reopened
    still_open: list[Finding] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)  # finding ids resolved by this run

    def summary(self) -> dict[str, int]:
        return {
            "new": len(self.new),
            "still_open": len(self.still_open),
            "resolved": len(self.resolved),
        }


def _chunks(items: Sequence, size: int = _CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _number(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return None
    return round(value, 2)


def deduplicate(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per id; an error outranks a warning about the same thing."""
    by_id: dict[str, Finding] = {}
    for finding in findings:
        fid = finding.finding_id
        kept = by_id.get(fid)
        if kept is None or (kept.severity != "error" and finding.severity == "error"):
            by_id[fid] = finding
    return list(by_id.values())


def _in_scope(row, scope3: set, scope4: set) -> bool:
    key = (row.unit_code.strip(), row.form, row.period)
    return key in scope3 or (*key, row.check_name) in scope4


def _in_families(check_name: str, families: set[str] | None) -> bool:
    if families is None:
        return True
    return any(
        check_name == fam or check_name.startswith((f"{fam}_", f"{fam}:")) for fam in families
    )


def record(
    engine: Engine,
    findings: Iterable[Finding],
    *,
    seen_at: datetime,
    scope: Iterable[ScopeKey] | None = None,
    checks: Iterable[str] | None = None,
) -> FindingsDelta:
    """Upsert ``findings`` and resolve open findings in ``scope`` not seen again.

    ``scope`` defaults to the ``.scope`` of a :class:`CheckResult`. A finding
    that was resolved and shows up again is reopened and counts as new (and its
    alert history is cleared, so the officials hear about it again). ``checks``
    limits what may be resolved to those check families (``{"completeness"}``
    matches ``completeness_missing`` …, ``{"gx"}`` matches ``gx:…``).
    """
    families = set(checks) if checks is not None else None
    if scope is None:
        scope = getattr(findings, "scope", set())
    seen_at = _naive_utc(seen_at)
    current = deduplicate(findings)
    ids = [f.finding_id for f in current]
    delta = FindingsDelta()

    with engine.begin() as conn:
        known: dict[str, object] = {}
        for part in _chunks(ids):
            rows = conn.execute(
                sa.text(
                    "SELECT finding_id, resolved_at FROM finding WHERE finding_id IN :ids"
                ).bindparams(sa.bindparam("ids", expanding=True)),
                {"ids": list(part)},
            )
            known.update({r.finding_id: r.resolved_at for r in rows})
        reopened = [fid for fid, resolved in known.items() if resolved is not None]
        for finding in current:
            fid = finding.finding_id
            if fid not in known or fid in reopened:
                delta.new.append(finding)
            else:
                delta.still_open.append(finding)
        for part in _chunks(reopened):
            conn.execute(
                sa.text("DELETE FROM alert_sent WHERE finding_id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"ids": list(part)},
            )

        rows = [
            {
                "finding_id": f.finding_id,
                "check_name": f.check_name,
                "severity": f.severity,
                "unit_code": f.unit_code,
                "form": f.form,
                "indicator_code": f.indicator_code,
                "period": f.period,
                "submission_id": f.submission_id,
                "observed": _number(f.observed),
                "expected": _number(f.expected),
                "evidence": f.evidence,
                "message_zh": f.message_zh,
                "message_en": f.message_en,
                "first_seen": seen_at,
                "last_seen": seen_at,
            }
            for f in current
        ]
        if rows:
            cols = list(rows[0])
            refreshed = [c for c in cols if c not in ("finding_id", "first_seen")]
            conn.execute(
                sa.text(
                    f"INSERT INTO finding ({', '.join(cols)}, resolved_at) "
                    f"VALUES ({', '.join(':' + c for c in cols)}, NULL) "
                    "ON CONFLICT (finding_id) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in refreshed)
                    + ", resolved_at = NULL"
                ),
                rows,
            )

        scope3 = {key for key in scope if len(key) == 3}
        scope4 = {key for key in scope if len(key) == 4}
        if scope3 or scope4:
            seen = set(ids)
            open_rows = conn.execute(
                sa.text(
                    "SELECT finding_id, check_name, unit_code, form, period "
                    "FROM finding WHERE resolved_at IS NULL"
                )
            ).fetchall()
            gone = [
                r.finding_id
                for r in open_rows
                if r.finding_id not in seen
                and _in_scope(r, scope3, scope4)
                and _in_families(r.check_name, families)
            ]
            for part in _chunks(gone):
                conn.execute(
                    sa.text(
                        "UPDATE finding SET resolved_at = :t WHERE finding_id IN :ids"
                    ).bindparams(sa.bindparam("ids", expanding=True)),
                    {"t": seen_at, "ids": list(part)},
                )
            delta.resolved = gone
    return delta


def blocking_submission_ids(findings: Iterable[Finding]) -> set[str]:
    """Submissions with at least one error: they must not be published."""
    return {f.submission_id for f in findings if f.severity == "error" and f.submission_id}


def warned_submission_ids(findings: Iterable[Finding]) -> set[str]:
    """Submissions with warnings but no error: published, flagged."""
    findings = list(findings)
    blocked = blocking_submission_ids(findings)
    return {
        f.submission_id
        for f in findings
        if f.severity == "warn" and f.submission_id and f.submission_id not in blocked
    }


def load_findings(
    engine: Engine, *, unit_codes: Iterable[str] | None = None, open_only: bool = False
) -> list[dict]:
    """Stored findings as dicts (newest first), optionally for some units or only open ones."""
    sql = "SELECT * FROM finding WHERE 1 = 1"
    params: dict = {}
    if open_only:
        sql += " AND resolved_at IS NULL"
    if unit_codes is not None:
        sql += " AND unit_code IN :units"
        params["units"] = list(unit_codes)
    stmt = sa.text(sql + " ORDER BY last_seen DESC, unit_code, period, check_name")
    if "units" in params:
        stmt = stmt.bindparams(sa.bindparam("units", expanding=True))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt, params)]
