"""Rows a published warehouse would hold, written straight with SQL.

The web tests and ``bench/bench_web.py`` use this to stand up a county with
towns, their returns (submissions, facts, raw files), findings and a notice
deadline, without running intake, publish and the checks (owned and changing
elsewhere). Columns follow ``sql/core`` and ``sql/quality``.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from huizong import catalog
from huizong.warehouse.seed import org_unit_row, upsert

FORM = "FL-01"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class SampleWarehouse:
    engine: Engine
    raw_dir: Path
    batch_id: str = "web-sample"
    now: datetime = field(default_factory=lambda: datetime(2025, 2, 1, 8, 0))

    def add_unit(self, code: str, name: str, level: str, parent_code: str | None) -> None:
        with self.engine.begin() as conn:
            upsert(
                conn,
                "dim_org_unit",
                [org_unit_row(code, name, level, parent_code)],
                ["unit_code", "valid_from"],
            )

    def submit(
        self,
        unit_code: str,
        period: str,
        values: dict[str, float | None],
        *,
        version: int = 1,
        submitted_on: date | None = None,
        status: str = "published",
        last_year: dict[str, float | None] | None = None,
    ) -> str:
        """A return: raw file, submission row and its latest facts (older versions superseded).

        The raw file is a real FL-01 workbook (CSV) the intake's parser reads. A
        ``blocked`` return gets no facts, as publishing does with a return that
        failed its checks: its figures live on only in the raw file.
        """
        raw_path = self.write_raw(unit_code, period, values, version, last_year)
        raw_sha = hashlib.sha256(raw_path.read_bytes()).hexdigest()
        source_uri = f"drop://{unit_code}/{FORM}/{period}/return_v{version}.csv"
        submission_id = _sha(f"drop|{source_uri}|{raw_sha}")
        submitted_on = submitted_on or date(2025, 1, 5)
        submitted_at = datetime.combine(submitted_on, datetime.min.time()) + timedelta(hours=1)
        blocked = status == "blocked"
        with self.engine.begin() as conn:
            if not blocked:
                conn.execute(
                    sa.text(
                        "UPDATE return_submission SET status = 'superseded' WHERE unit_code = :u "
                        "AND form = :f AND period = :p AND version < :v AND status <> 'blocked'"
                    ),
                    {"u": unit_code, "f": FORM, "p": period, "v": version},
                )
                conn.execute(
                    sa.text(
                        "UPDATE fact_indicator_value SET is_latest = FALSE WHERE unit_code = :u "
                        "AND form = :f AND period = :p AND source = 'return'"
                    ),
                    {"u": unit_code, "f": FORM, "p": period},
                )
            upsert(
                conn,
                "return_submission",
                [
                    {
                        "submission_id": submission_id,
                        "unit_code": unit_code,
                        "form": FORM,
                        "period": period,
                        "version": version,
                        "channel": "drop",
                        "source_uri": source_uri,
                        "raw_sha256": raw_sha,
                        "raw_path": str(raw_path),
                        "unit_name": None,
                        "submitted_at": submitted_at,
                        "received_at": submitted_at,
                        "submitted_on": submitted_on,
                        "reported_on": submitted_on,
                        "status": status,
                        "problems_json": None,
                        "batch_id": self.batch_id,
                    }
                ],
                ["submission_id"],
            )
            facts = [
                {
                    "unit_code": unit_code,
                    "form": FORM,
                    "indicator_code": code,
                    "period": period,
                    "source": "return",
                    "source_ref": submission_id,
                    "version": version,
                    "is_latest": True,
                    "value_current": value,
                    "value_ytd": value,
                    "value_last_year": (last_year or {}).get(code),
                    "qualifier": None,
                    "provenance": f"{raw_path.name}!C{int(code) + 4}",
                    "has_warnings": False,
                    "batch_id": self.batch_id,
                }
                for code, value in sorted(values.items())
            ]
            if not blocked:
                upsert(
                    conn,
                    "fact_indicator_value",
                    facts,
                    ["unit_code", "form", "indicator_code", "period", "source", "source_ref"],
                )
        return submission_id

    def write_raw(self, unit_code: str, period: str, values: dict[str, float | None],
                   version: int, last_year: dict[str, float | None] | None) -> Path:
        from huizong.returns.samples import LayoutOptions, write_return

        with self.engine.connect() as conn:
            name = conn.execute(
                sa.text("SELECT name FROM dim_org_unit WHERE unit_code = :u AND valid_to IS NULL"),
                {"u": unit_code},
            ).scalar() or unit_code
        # Rows the return leaves out are blank cells of the workbook.
        rows = {
            code: {"current": values.get(code), "ytd": values.get(code),
                   "last_year": (last_year or {}).get(code)}
            for code in catalog.indicators(FORM)
        }
        folder = self.raw_dir / "returns" / "drop" / "2025-01-01"
        folder.mkdir(parents=True, exist_ok=True)
        scratch = folder / f"{unit_code}-{period}-v{version}.tmp.csv"
        write_return(scratch, unit_code=unit_code, unit_name=name, period=period, rows=rows,
                     layout=LayoutOptions(fmt="csv"))
        # Content-addressed like the raw landing.
        path = folder / f"{hashlib.sha256(scratch.read_bytes()).hexdigest()}.csv"
        scratch.replace(path)
        return path

    def finding(
        self,
        unit_code: str,
        period: str,
        check_name: str,
        severity: str,
        *,
        indicator_code: str | None = None,
        message_zh: str = "数据异常",
        evidence: str | None = None,
        submission_id: str | None = None,
        resolved: bool = False,
    ) -> str:
        finding_id = _sha(f"{check_name}|{unit_code}|{FORM}|{indicator_code or ''}|{period}")
        with self.engine.begin() as conn:
            upsert(
                conn,
                "finding",
                [
                    {
                        "finding_id": finding_id,
                        "check_name": check_name,
                        "severity": severity,
                        "unit_code": unit_code,
                        "form": FORM,
                        "indicator_code": indicator_code,
                        "period": period,
                        "submission_id": submission_id,
                        "observed": None,
                        "expected": None,
                        "evidence": evidence,
                        "message_zh": message_zh,
                        "message_en": check_name,
                        "first_seen": self.now,
                        "last_seen": self.now,
                        "resolved_at": self.now if resolved else None,
                    }
                ],
                ["finding_id"],
            )
        return finding_id

    def resolve(self, finding_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE finding SET resolved_at = :t WHERE finding_id = :f"),
                {"t": self.now, "f": finding_id},
            )

    def deadline(self, parent_code: str, period: str, due: date) -> None:
        with self.engine.begin() as conn:
            upsert(
                conn,
                "reporting_deadline",
                [
                    {
                        "parent_code": parent_code,
                        "form": FORM,
                        "period": period,
                        "due_date": due,
                        "notice_id": _sha(f"notice|{parent_code}|{period}"),
                    }
                ],
                ["parent_code", "form", "period"],
            )

    def quarantine(self, unit_code: str, period: str, reason: str, detail: str) -> None:
        with self.engine.begin() as conn:
            upsert(
                conn,
                "quarantine",
                [
                    {
                        "quarantine_id": _sha(f"q|{unit_code}|{period}|{reason}"),
                        "channel": "drop",
                        "source_uri": f"drop://{unit_code}/{FORM}/{period}/late.xlsx",
                        "raw_sha256": _sha(f"raw|{unit_code}|{period}"),
                        "raw_path": str(self.raw_dir / "quarantined.xlsx"),
                        "submitted_unit_code": unit_code,
                        "declared_unit_code": unit_code,
                        "form": FORM,
                        "period": period,
                        "received_at": self.now,
                        "submitted_at": self.now,
                        "api_version": None,
                        "filename": "late.xlsx",
                        "api_values_json": None,
                        "reason": reason,
                        "detail": detail,
                        "created_at": self.now,
                        "released_at": None,
                        "status": "held",
                    }
                ],
                ["quarantine_id"],
            )


def town_values(rng: random.Random) -> dict[str, float | None]:
    """A plausible town quarter: every row filled, 其中 rows within their parents."""
    values: dict[str, float | None] = {}
    for code in catalog.indicators(FORM):
        values[code] = float(rng.randint(20, 400))
    values["02"] = min(values["02"] or 0, values["01"] or 0)
    values["09"] = min(values["09"] or 0, values["08"] or 0)
    values["12"] = min(values["12"] or 0, values["11"] or 0)
    for sub in ("15", "16"):
        values[sub] = min(values[sub] or 0, values["14"] or 0)
    values["18"] = min(values["18"] or 0, values["17"] or 0)
    return values


def build_county(
    warehouse: SampleWarehouse,
    county_code: str,
    county_name: str,
    parent_code: str,
    *,
    towns: int,
    periods: list[str],
    seed: int = 7,
) -> list[str]:
    """A county and ``towns`` towns reporting ``periods``; the county returns the towns' sum.

    Planted, so pages have something to show: the first town reports the last
    period late with an error, the second has an outlier warning, the last never
    reports the last period; the county's own 08 differs from its towns' sum.
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible sample figures, not secrets
    warehouse.add_unit(county_code, county_name, "county", parent_code)
    town_codes = [f"{county_code[:6]}{100 + i:03d}000" for i in range(towns)]
    for i, code in enumerate(town_codes):
        warehouse.add_unit(code, f"{county_name}第{i + 1}镇", "town", county_code)
    last = periods[-1]
    for period in periods:
        sums: dict[str, float] = {}
        for i, code in enumerate(town_codes):
            if period == last and i == towns - 1:
                continue
            values = town_values(rng)
            late = period == last and i == 0
            warehouse.submit(
                code, period, values,
                submitted_on=date(2025, 1, 25) if late else date(2025, 1, 5),
                status="blocked" if late else "published",
            )
            for k, v in values.items():
                sums[k] = sums.get(k, 0.0) + (v or 0.0)
        own = dict(sums)
        if period == last:
            own["08"] = (own["08"] or 0) + 17
        warehouse.submit(county_code, period, own)
    warehouse.finding(town_codes[0], last, "subtotal_le_parent", "error", indicator_code="12",
                      message_zh="其中：获得理赔人数大于参保人数", evidence="Sheet1!D16")
    warehouse.finding(town_codes[1], last, "outlier_last_year", "warn", indicator_code="07",
                      message_zh="参加宣讲和培训的妇女人次远高于上年同期",
                      evidence="Sheet1!D11 = 4,800（上年同期 300）")
    warehouse.finding(county_code, last, "parent_eq_sum_children", "warn", indicator_code="08",
                      message_zh="本级“两癌”筛查人数与下级合计不符（差 17）",
                      evidence="Sheet1!D12")
    return town_codes
