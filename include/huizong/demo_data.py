"""The demo's sample returns: 两当县 and its towns, 2024, with planted problems.

Figures are generated deterministically (same seed → same bytes → same
content hash), so a second ``make demo`` receives nothing new. The county's
own return is the sum of its towns except where a problem is planted on
purpose, so the quality checks have something true to find:

* 显龙镇 2024Q4: 其中：获得理赔人数 (12) above 女性安康保险参保人数 (11) — an error;
* 两当县 2024Q3: its own 两癌筛查 (08) differs from the sum of its towns, all of
  which reported — an error that holds the county's Q3 return back;
* 西坡镇 2024Q4 arrives after the due date (late); 金洞乡 never reports (missing);
* 杨店镇 2024Q4: 培训人次 (07) far above its 上年同期数 (an outlier);
* 城关镇's account uploads a workbook that declares 站儿巷镇 — quarantined, never loaded;
* 站儿巷镇's quarterly 两癌筛查 (08) add up to far more than the 筛查9人 its own
  2024 review on the sample portal states.

融安县's towns report 2024Q4 through the reporting system's API instead.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from huizong import catalog

COUNTY = ("621228000000", "两当县")
RONGAN = ("450224000000", "融安县")
LATE_TOWN = "621228102000"  # 西坡镇
MISSING_TOWN = "621228208000"  # 金洞乡
OUTLIER_TOWN = "621228103000"  # 杨店镇
ZHANERXIANG = "621228101000"  # 站儿巷镇
SUBTOTAL_TOWN = "621228104000"  # 显龙镇
QUARTERS = ("2024Q1", "2024Q2", "2024Q3", "2024Q4")
# Submission times: a few days after each quarter's end, well before its due date.
_ON_TIME = {
    "2024Q1": datetime(2024, 4, 5, 9, 30),
    "2024Q2": datetime(2024, 7, 5, 9, 30),
    "2024Q3": datetime(2024, 10, 8, 9, 30),
    "2024Q4": datetime(2025, 1, 6, 9, 30),
    "2024": datetime(2025, 1, 8, 9, 30),
}
_LATE = datetime(2025, 1, 24, 16, 0)


@dataclass(frozen=True)
class DemoReturn:
    unit_code: str
    unit_name: str
    period: str
    rows: dict[str, dict[str, Any]]
    submitted_at: datetime
    file_format: str  # "xlsx" | "csv"
    folder_unit_code: str | None = None  # the submitting account, when not the declared unit


def _towns(county_code: str) -> list[tuple[str, str]]:
    from huizong.warehouse.seed import read_org_units

    return [
        (u["unit_code"], u["name"])
        for u in read_org_units()
        if u["parent_code"] == county_code
    ]


def _town_quarter_values(rng: random.Random) -> dict[str, int | float]:
    """One town's flows for one quarter and its stocks at the quarter's end."""
    villages = rng.randint(8, 16)
    insured = rng.randint(300, 900)
    visits = rng.randint(6, 30)
    disputes = rng.randint(1, 6)
    screened = rng.randint(20, 120)
    v: dict[str, int | float] = {
        "01": villages,
        # Elections come once in five years: a quarter's share stays small, so
        # the year's cumulative total remains within the number of federations.
        "02": rng.randint(0, villages // 4),
        "03": villages * rng.randint(5, 9),
        "04": villages,
        "05": rng.randint(0, 3),
        "06": rng.randint(2, 10),
        "07": rng.randint(60, 400),
        "08": screened,
        "09": rng.randint(0, 3),
        "10": float(rng.randint(0, 3) * 10000),
        "11": insured,
        "12": rng.randint(0, 3),
        "13": round(rng.uniform(0, 30000), 2),
        "14": visits,
        "15": rng.randint(0, visits),
        "16": rng.randint(visits // 2, visits),
        "17": disputes,
        "18": rng.randint(0, disputes),
        "19": rng.randint(10, 80),
        "20": rng.randint(0, 2),
        "21": rng.randint(10, 60),
        "22": rng.randint(50, 300),
        "23": rng.randint(1, 3),
        "24": rng.randint(10, 60),
    }
    return v


def _last_year_like(rng: random.Random, values: dict[str, int | float]) -> dict[str, float]:
    """Last year's same quarter: close to this year's, as real figures are."""
    out: dict[str, float] = {}
    for code, value in values.items():
        factor = rng.uniform(0.8, 1.25)
        out[code] = round(value * factor, 2) if isinstance(value, float) else round(value * factor)
    return out


def _as_rows(
    current: dict[str, float], ytd: dict[str, float], last_year: dict[str, float]
) -> dict[str, dict[str, Any]]:
    return {
        code: {"current": current[code], "ytd": ytd[code], "last_year": last_year[code]}
        for code in catalog.indicators()
    }


def build_demo_returns(seed: int = 2024) -> list[DemoReturn]:
    indicators = catalog.indicators()
    rng = random.Random(seed)
    towns = _towns(COUNTY[0])
    per_town: dict[str, dict[str, dict[str, float]]] = {}
    for code, _name in towns:
        per_town[code] = {q: _town_quarter_values(rng) for q in QUARTERS}
        for q in QUARTERS:
            per_town[code][f"last_year_{q}"] = _last_year_like(rng, per_town[code][q])

    returns: list[DemoReturn] = []
    county_current = {q: dict.fromkeys(indicators, 0) for q in QUARTERS}
    county_ytd = {q: dict.fromkeys(indicators, 0) for q in QUARTERS}
    county_last = {q: dict.fromkeys(indicators, 0) for q in QUARTERS}
    for code, name in towns:
        ytd = dict.fromkeys(indicators, 0)
        for q in QUARTERS:
            cur = dict(per_town[code][q])
            last = dict(per_town[code][f"last_year_{q}"])
            if code == OUTLIER_TOWN and q == "2024Q4":
                cur["07"] = last["07"] * 12
            for c, ind in indicators.items():
                ytd[c] = ytd[c] + cur[c] if ind.temporal == "flow" else cur[c]
                ytd[c] = round(ytd[c], 2)
            reported_cur, reported_ytd = dict(cur), dict(ytd)
            if code == SUBTOTAL_TOWN and q == "2024Q4":
                reported_cur["12"] = reported_cur["11"] + 15
                reported_ytd["12"] = reported_ytd["11"] + 15
            for c in indicators:
                # A county builds its own return from what its towns reported.
                county_current[q][c] += reported_cur[c]
                county_ytd[q][c] += reported_ytd[c]
                county_last[q][c] += last[c]
            if code == MISSING_TOWN and q == "2024Q4":
                continue
            submitted = _LATE if (code == LATE_TOWN and q == "2024Q4") else _ON_TIME[q]
            returns.append(
                DemoReturn(
                    unit_code=code,
                    unit_name=f"{name}妇联",
                    period=q,
                    rows=_as_rows(reported_cur, reported_ytd, last),
                    submitted_at=submitted,
                    file_format="csv" if code == ZHANERXIANG else "xlsx",
                )
            )
    misfiled = next(r for r in returns if r.unit_code == ZHANERXIANG and r.period == "2024Q3")
    returns.append(
        DemoReturn(
            unit_code=misfiled.unit_code,
            unit_name=misfiled.unit_name,
            period=misfiled.period,
            rows=misfiled.rows,
            submitted_at=misfiled.submitted_at,
            file_format="xlsx",
            folder_unit_code="621228100000",  # 城关镇
        )
    )
    for q in QUARTERS:
        cur = {c: round(v, 2) for c, v in county_current[q].items()}
        if q == "2024Q3":
            # Every town reported Q3, so this difference is an error, not a gap.
            cur["08"] += 57
        returns.append(
            DemoReturn(
                unit_code=COUNTY[0],
                unit_name=f"{COUNTY[1]}妇联",
                period=q,
                rows=_as_rows(
                    cur,
                    {c: round(v, 2) for c, v in county_ytd[q].items()},
                    {c: round(v, 2) for c, v in county_last[q].items()},
                ),
                submitted_at=_ON_TIME[q],
                file_format="xlsx",
            )
        )
    return returns


def write_drop_folder(root: Path, returns: list[DemoReturn]) -> list[Path]:
    """Write each return to ``<root>/<unit>/FL-01/<period>/`` with its submission time as mtime."""
    from huizong.returns.samples import LayoutOptions, write_return

    written = []
    for r in returns:
        folder = root / (r.folder_unit_code or r.unit_code) / "FL-01" / r.period
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"FL-01_{r.unit_name}_{r.period}.{r.file_format}"
        write_return(
            path,
            unit_code=r.unit_code,
            unit_name=r.unit_name,
            period=r.period,
            rows=r.rows,
            # CSV as the OA system saves it from WPS: GBK.
            layout=LayoutOptions(fmt=r.file_format, csv_encoding="gbk"),
        )
        stamp = r.submitted_at.timestamp()
        os.utime(path, (stamp, stamp))
        written.append(path)
    return written


def _utc(china_time: datetime) -> datetime:
    """A naive Beijing time of the demo's calendar as the naive UTC the warehouse keeps."""
    from huizong.returns.intake import CHINA_TZ

    return china_time.replace(tzinfo=CHINA_TZ).astimezone(UTC).replace(tzinfo=None)


def land_history(
    engine: Any,
    root: Path,
    raw_dir: Path,
    returns: list[DemoReturn],
    *,
    api_url: str,
    api_token: str,
    api_served: list[dict[str, Any]],
) -> list[Path]:
    """Replay a year of receipts: what the platform would have landed, and when.

    A return counts from when the platform received it, never from the time
    its file claims, so the demo cannot plant an on-time or a late return by
    setting file times. It replays history instead: each return is written to
    the drop folder (or published on the reference API) at its submission
    time, and the intake's own landing step runs with its clock set to that
    time and records the receipt. The DAG run then stages these returns, and
    a receipt already recorded keeps its time, as on any rerun.
    """
    from huizong.returns.intake import poll_api, scan_drop_folder
    from huizong.warehouse import load

    landed: set[tuple[str, str, str]] = set()
    written: list[Path] = []
    drop_times = {r.submitted_at for r in returns}
    items = api_items()
    api_times = {_ON_TIME[item["period"]] for item in items}
    for moment in sorted(drop_times | api_times):
        clock = _utc(moment)
        partition = f"{clock:%Y-%m-%d}"
        received = []
        due = [r for r in returns if r.submitted_at == moment]
        if due:
            written += write_drop_folder(root, due)
            scanned = scan_drop_folder(
                root, raw_dir=raw_dir, partition=partition, seen=landed, now=clock
            )
            received += scanned.received + [q.received for q in scanned.rejected]
        published = [item for item in items if _ON_TIME[item["period"]] == moment]
        if published:
            api_served.extend(published)
            polled = poll_api(
                api_url, api_token, cursor=None, raw_dir=raw_dir, partition=partition,
                seen=landed, now=clock,
            )  # fmt: skip
            received += polled.received + [q.received for q in polled.rejected]
        load.record_raw_returns(engine, received)
        landed |= {(r.raw_sha256, r.channel, r.source_uri) for r in received}
    return written


def api_items(seed: int = 4502) -> list[dict[str, Any]]:
    """融安县's towns and the county report every quarter through the reporting system."""
    indicators = catalog.indicators()
    rng = random.Random(seed)
    towns = _towns(RONGAN[0])
    units = [code for code, _ in towns] + [RONGAN[0]]
    ytd: dict[str, dict[str, float]] = {u: dict.fromkeys(indicators, 0) for u in units}
    items = []
    for q in QUARTERS:
        totals: dict[str, float] = dict.fromkeys(indicators, 0)
        last_totals: dict[str, float] = dict.fromkeys(indicators, 0)
        for i, (code, _name) in enumerate(towns, start=1):
            cur = _town_quarter_values(rng)
            last = _last_year_like(rng, cur)
            for c in indicators:
                totals[c] += cur[c]
                last_totals[c] += last[c]
            item_id = f"rongan-{q}-{i:03d}"
            items.append(_api_item(item_id, code, q, cur, _ytd(ytd[code], cur), last))
        county_ytd = _ytd(ytd[RONGAN[0]], totals)
        items.append(_api_item(f"rongan-{q}-county", RONGAN[0], q, totals, county_ytd, last_totals))
    return items


def _ytd(running: dict[str, float], current: dict[str, float]) -> dict[str, float]:
    """Advance a unit's year-to-date figures by one quarter, in place, and return a copy."""
    for code, ind in catalog.indicators().items():
        running[code] = round(
            running[code] + current[code] if ind.temporal == "flow" else current[code], 2
        )
    return dict(running)


def _api_item(
    item_id: str, unit_code: str, period: str, cur: dict, ytd: dict, last: dict
) -> dict[str, Any]:
    return {
        "id": item_id,
        "unit_code": unit_code,
        "form": "FL-01",
        "period": period,
        "version": 1,
        "submitted_at": _ON_TIME[period].strftime("%Y-%m-%dT%H:%M:%S+08:00"),
        "values": {
            c: {"current": cur[c], "ytd": ytd[c], "last_year": last[c]} for c in sorted(cur)
        },
    }
