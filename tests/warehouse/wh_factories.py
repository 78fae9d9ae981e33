"""Builders for warehouse tests: a small org hierarchy and returns as intake hands them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from huizong.returns.model import QuarantineRecord, ReceivedReturn, StagedSubmission
from huizong.warehouse.seed import upsert
from sqlalchemy.engine import Engine

FORM = "FL-01"
PROVINCE = "990000000000"
CITY = "990100000000"
COUNTY = "990101000000"
TOWNS = ("990101001000", "990101002000", "990101003000")

_HIERARCHY = [
    (PROVINCE, "测试省", "province", None),
    (CITY, "测试市", "city", PROVINCE),
    (COUNTY, "测试县", "county", CITY),
    (TOWNS[0], "甲镇", "town", COUNTY),
    (TOWNS[1], "乙镇", "town", COUNTY),
    (TOWNS[2], "丙乡", "town", COUNTY),
]


def add_hierarchy(engine: Engine) -> None:
    rows = [
        {
            "unit_code": code,
            "valid_from": datetime(2000, 1, 1).date(),
            "valid_to": None,
            "name": name,
            "federation_name": f"{name}妇联",
            "level": level,
            "parent_code": parent,
        }
        for code, name, level, parent in _HIERARCHY
    ]
    with engine.begin() as conn:
        upsert(conn, "dim_org_unit", rows, ["unit_code", "valid_from"])


def at(text: str) -> datetime:
    """An aware UTC timestamp from ``YYYY-MM-DD HH:MM``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def received(
    unit: str,
    period: str,
    *,
    channel: str = "drop",
    tag: str = "a",
    received_at: datetime | None = None,
    claimed_at: datetime | None = None,
    api_version: int | None = None,
    form: str = FORM,
) -> ReceivedReturn:
    raw = hashlib.sha256(f"{unit}|{period}|{tag}".encode()).hexdigest()
    source_uri = (
        f"api:{unit}-{period}-{tag}" if channel == "api" else f"{unit}/{form}/{period}/{tag}.xlsx"
    )
    return ReceivedReturn(
        channel=channel,
        source_uri=source_uri,
        submitted_unit_code=unit,
        form=form,
        period=period,
        raw_sha256=raw,
        raw_path=f"/raw/returns/{channel}/2025-01-05/{raw}.xlsx",
        received_at=received_at or at("2025-01-05 02:00"),
        claimed_at=claimed_at,
        api_version=api_version,
        filename=f"{tag}.xlsx",
    )


def submission(unit: str, period: str, values: dict[str, Any], **kwargs: Any) -> StagedSubmission:
    """``values``: code → 本期数, or code → {"current", "ytd", "last_year"}."""
    rows = {
        code: (v if isinstance(v, dict) else {"current": v, "ytd": None, "last_year": None})
        for code, v in values.items()
    }
    cells = {code: {"current": f"Sheet1!D{int(code) + 4}"} for code in rows if code.isdigit()}
    return StagedSubmission(
        received=received(unit, period, **kwargs),
        unit_code=unit,
        unit_name=None,
        form=kwargs.get("form", FORM),
        period=period,
        rows=rows,
        cells=cells,
    )


def held(
    unit: str, period: str, *, tag: str = "q", reason: str = "unit_mismatch"
) -> QuarantineRecord:
    return QuarantineRecord(
        received=received(unit, period, tag=tag),
        reason=reason,
        detail="填报单位与提交账户不一致 / declared unit differs from the submitting account",
        declared_unit_code=TOWNS[1],
    )


def extraction(text: str, statistics: list[dict[str, Any]], **notice: Any) -> SimpleNamespace:
    meta = {"title": "测试通知", "issuer": "测试县妇联", **notice}
    return SimpleNamespace(
        normalized=SimpleNamespace(text=text),
        notice=SimpleNamespace(to_dict=lambda: meta),
        statistics=[SimpleNamespace(to_dict=lambda s=s: s) for s in statistics],
    )


def page(url: str, text: str, portal_id: str = "test-portal") -> SimpleNamespace:
    return SimpleNamespace(
        portal_id=portal_id, url=url, sha256=hashlib.sha256(url.encode()).hexdigest()
    )


def rows(engine: Engine, sql: str, **params: Any) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), params)]


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def num(value: Any) -> float | None:
    return None if value is None else float(value)
