"""The form's own rules, checked over staged returns against published history.

Every check works on whole pandas frames (no per-row Python) so that a batch of
a million staged values is checked in seconds. The checks and their severity:

* ``subtotal_le_parent`` — a 其中 row exceeds its parent row (catalog ``bound_by``);
  severity from the catalog's ``bound_severity`` (error; 09 > 08 only warns);
* ``rate_le_100`` — a derived rate recomputed from the return exceeds 100 %: error;
* ``ytd_equals_current`` — 本年累计数 ≠ 本期数 where they must agree (stock rows, the
  first quarter/month of a year, annual returns): error;
* ``ytd_continuity`` — flow row: 本年累计数 ≠ previous period's 本年累计数 + 本期数:
  warn, since either return may be the wrong one;
* ``parent_eq_sum_children`` — a parent's own figure ≠ the sum of its children's:
  error when all children reported (or the partial sum already exceeds it); warn
  "not all children reported" when some are missing and the sum is below;
* ``outlier_history`` / ``outlier_last_year`` — far from the unit's own history /
  from 上年同期数: warn;
* ``notice_vs_return`` — a figure in a parent's notice contradicts the returns: warn;
* ``completeness_missing`` / ``completeness_late`` / ``completeness_summary`` — an
  expected child has not reported by its due date / reported after it; the
  parent's summary: warn.

Thresholds (documented so an official can tell why something was flagged):

* history outlier: ``|x − median| / (1.4826·MAD) > 3.5`` (Iglewicz–Hoaglin) over
  at least 4 earlier periods of the same kind (quarters with quarters); when
  the history is (nearly) constant the scale is floored at
  ``max(1, 10 % of |median|)`` so that a constant history does not flag every
  small change;
* last-year outlier: ratio > 3 or < 1/3, only when the larger of the two figures
  is at least 20 (counts) or 10 000 元 (money) — small numbers swing;
* notice qualifiers: ``exact`` must equal; ``at_least`` return ≥ notice;
  ``at_most`` return ≤ notice; ``approx`` within ±5 %.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from huizong import catalog
from huizong.quality.findings import CheckResult, deduplicate
from huizong.quality.model import Finding
from huizong.returns import periods, readback

EPS = 0.005  # values carry at most 2 decimals
HISTORY_Z_LIMIT = 3.5
HISTORY_MIN_POINTS = 4
LAST_YEAR_RATIO = 3.0
LAST_YEAR_MIN_COUNT = 20.0
LAST_YEAR_MIN_MONEY = 10_000.0
NOTICE_APPROX_TOLERANCE = 0.05
MAX_LISTED_CHILDREN = 40

MEASURE_ZH = {"value_current": "本期数", "value_ytd": "本年累计数", "value_last_year": "上年同期数"}
MEASURE_EN = {
    "value_current": "current period",
    "value_ytd": "year to date",
    "value_last_year": "same period last year",
}
_VALUE_COLUMNS = ("value_current", "value_ytd", "value_last_year")
_KEY = ["unit_code", "form", "period"]

STAGED_COLUMNS = [
    "submission_id", "unit_code", "form", "period", "version", "indicator_code",
    "value_current", "value_ytd", "value_last_year", "cell_current", "cell_ytd", "cell_last_year",
]  # fmt: skip
# The staged rows are those of a staged submission under that submission's batch.
# They are read per batch and filtered on the submission in pandas rather than
# joined in SQL: without statistics SQLite drives the join from the status index
# and rescans the whole batch for every submission (quadratic: a 1M-row batch
# never finished), and a row-value IN probe costs 4x a plain batch scan.
STAGED_SUBMISSIONS_SQL = (
    "SELECT submission_id, batch_id FROM return_submission WHERE status = 'staged'"
)
STAGED_BATCH_SQL = (
    f"SELECT {', '.join(STAGED_COLUMNS)} FROM stg_return_value WHERE batch_id = {{param}}"
)
_FETCH_ROWS = 250_000  # rows converted at a time: bounds the Python tuples alive at once

# Latest published return values that a check of the staged batch can need: the
# same form and period (parents and children) and the staged units' history.
PUBLISHED_VALUES_SQL = """
SELECT f.unit_code, f.form, f.indicator_code, f.period, f.value_current, f.value_ytd
FROM fact_indicator_value AS f
WHERE f.source = 'return' AND f.is_latest = TRUE
  AND (
    f.unit_code IN (SELECT unit_code FROM return_submission WHERE status = 'staged')
    OR f.form || '|' || f.period IN (
        SELECT form || '|' || period FROM return_submission WHERE status = 'staged'
    )
  )
"""


# Submissions a check of the staged batch can need besides the published facts:
# the same scope as PUBLISHED_VALUES_SQL, every counted status, so the latest
# version can be picked the way the officials' pages pick it
# (huizong.returns.readback). A blocked latest version keeps its figures only in
# its raw file; a later run re-checking the parent must still count them.
COUNTED_SUBMISSIONS_SQL = f"""
SELECT s.submission_id, s.unit_code, s.form, s.period, s.version, s.status, s.channel,
       s.source_uri, s.raw_sha256, s.raw_path, s.received_at, s.submitted_at,
       COALESCE(s.submitted_at, s.received_at) AS submitted_or_received
FROM return_submission AS s
WHERE s.status IN ({', '.join(repr(x) for x in readback.COUNTED_STATUSES)})
  AND (
    s.unit_code IN (SELECT unit_code FROM return_submission WHERE status = 'staged')
    OR s.form || '|' || s.period IN (
        SELECT form || '|' || period FROM return_submission WHERE status = 'staged'
    )
  )
"""


def _read(engine: Engine, sql: str, params: dict | None = None) -> pd.DataFrame:
    with engine.connect() as conn:
        if not params:
            # Straight through the DB-API cursor: SQLAlchemy Row objects cost ~10x on 1M rows.
            cursor = conn.connection.driver_connection.cursor()
            try:
                cursor.execute(sql)
                columns = [d[0] for d in cursor.description]
                return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)
            finally:
                cursor.close()
        result = conn.execute(sa.text(sql), params)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _numeric(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    for column in columns:
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def _strip_codes(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    # PostgreSQL CHAR(n) pads; our codes are exactly n long, but be safe.
    for column in columns:
        if column in frame and frame[column].dtype == object:
            frame[column] = frame[column].str.strip()
    return frame


@contextmanager
def _bulk_fetch() -> Iterator[None]:
    """Cyclic GC off while a million row tuples are created and dropped.

    The tuples hold no cycles, but their count triggers collections that walk the
    whole heap (GX, SQLAlchemy, pandas: millions of objects): 2-4 s of a 1M-row
    read. Reference counting still frees everything; GC state is restored after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s", "numeric": ":1", "named": ":p"}


def _categorical(values: tuple, *, strip: bool = False) -> pd.Categorical:
    # Keys repeat a lot (24 rows per submission, a handful of forms and periods):
    # coded once here, every later comparison, groupby and merge works on codes.
    # Arrow's dictionary encoding is ~2x pandas' factorize on Python strings.
    encoded = pa.array(values, type=pa.large_string()).dictionary_encode()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int32)
    dictionary = encoded.dictionary
    if strip:  # PostgreSQL CHAR(n) pads; stripping may merge two categories
        trimmed = pc.utf8_trim_whitespace(dictionary)
        if not trimmed.equals(dictionary):
            merged = trimmed.dictionary_encode()
            remap = merged.indices.to_numpy(zero_copy_only=False).astype(np.int32)
            codes = np.where(codes < 0, -1, remap[np.maximum(codes, 0)])
            dictionary = merged.dictionary
    uniques = pd.Index(dictionary.to_pylist(), dtype=object)
    return pd.Categorical.from_codes(codes, categories=uniques)


def _stored_numbers(values: tuple) -> np.ndarray:
    # Values as stored: float64 when every value is a number (the usual case, and
    # what both GX and the rules coerce to anyway); left as objects when any is
    # text, so GX can still report the text ('约30') as it was stored.
    if not set(map(type, values)) <= {int, float, type(None), Decimal}:
        return np.asarray(values, dtype=object)
    return np.asarray(values, dtype=np.float64)  # None becomes NaN


def _staged_chunk(rows: list[tuple], columns: list[str] = STAGED_COLUMNS) -> dict[str, object]:
    # One itemgetter pass per column: ~1.5x faster than transposing with zip(*rows).
    by_name = {name: tuple(map(itemgetter(i), rows)) for i, name in enumerate(columns)}
    out: dict[str, object] = {}
    for name, values in by_name.items():
        if name.startswith("value_"):
            out[name] = _stored_numbers(values)
        elif name == "version":
            as_int = set(map(type, values)) == {int}
            out[name] = np.asarray(values, dtype=np.int64 if as_int else object)
        else:
            out[name] = _categorical(values, strip=name in ("submission_id", "unit_code"))
    return out


def _concat_columns(
    chunks: list[dict[str, object]], columns: list[str] = STAGED_COLUMNS
) -> pd.DataFrame:
    data = {}
    for name in columns:
        parts = [c[name] for c in chunks]
        if isinstance(parts[0], pd.Categorical):
            data[name] = pd.api.types.union_categoricals(parts) if len(parts) > 1 else parts[0]
        elif any(p.dtype == object for p in parts):
            data[name] = np.concatenate([p.astype(object) for p in parts])
        else:
            data[name] = np.concatenate(parts)
    return pd.DataFrame(data)


def load_staged_values(engine: Engine) -> pd.DataFrame:
    """Staged return rows, values as stored (not coerced): the input of GX and the rules.

    Text columns come back categorical (codes shared by every check), numbers as
    float64 unless a stored value is text.
    """
    submissions = _read(engine, STAGED_SUBMISSIONS_SQL)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in STAGED_COLUMNS})
    if submissions.empty:
        return empty
    sql = STAGED_BATCH_SQL.format(param=_PLACEHOLDER[engine.dialect.paramstyle])
    param = {"p": None} if engine.dialect.paramstyle == "named" else None
    chunks: list[dict[str, object]] = []
    with engine.connect() as conn, _bulk_fetch():
        cursor = conn.connection.driver_connection.cursor()
        try:
            for batch, group in submissions.groupby("batch_id", sort=True):
                wanted = {str(sid).strip() for sid in group["submission_id"]}
                cursor.execute(sql, {"p": batch} if param is not None else (batch,))
                while rows := cursor.fetchmany(_FETCH_ROWS):
                    chunk = _staged_chunk(rows)
                    sids = chunk["submission_id"]
                    keep = np.asarray([c in wanted for c in sids.categories], dtype=bool)
                    mask = (sids.codes >= 0) & keep[np.maximum(sids.codes, 0)]
                    if mask.all():
                        chunks.append(chunk)
                    elif mask.any():
                        chunks.append({k: v[mask] for k, v in chunk.items()})
        finally:
            cursor.close()
    if not chunks:
        return empty
    frame = _concat_columns(chunks)
    for name in STAGED_COLUMNS:  # drop categories of rows filtered out above
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].cat.remove_unused_categories()
    return frame


def indicator_frame(forms: Iterable[str]) -> pd.DataFrame:
    rows = []
    for form in sorted(set(forms)):
        for ind in catalog.indicators(form).values():
            rows.append(
                {
                    "form": form,
                    "indicator_code": ind.code,
                    "indicator_name": ind.name,
                    "measure_unit": ind.unit,
                    "temporal": ind.temporal,
                    "additive": ind.additive,
                    "bound_by": ind.bound_by,
                    "bound_severity": ind.bound_severity or "error",
                    "is_money": ind.is_money,
                }
            )
    columns = [
        "form", "indicator_code", "indicator_name", "measure_unit", "temporal",
        "additive", "bound_by", "bound_severity", "is_money",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _fmt(value: float | None) -> str:
    if value is None or pd.isna(value):
        return "空"
    if np.isinf(value):
        return "∞"
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.2f}"


def _none(value) -> float | None:
    if value is None or pd.isna(value) or np.isinf(value):
        return None
    return float(value)


def _kind_of(period: str) -> str:
    return "quarter" if "Q" in period else "month" if "-" in period else "year"


def _period_kind(period: pd.Series) -> pd.Series:
    # Few distinct periods, many rows: classify the distinct values, then map.
    return period.map({p: _kind_of(p) for p in period.dropna().unique()})


def _first_of_year(period: pd.Series) -> pd.Series:
    return period.str.endswith("Q1") | period.str.endswith("-01") | period.str.fullmatch(r"\d{4}")


def _previous(period: pd.Series) -> pd.Series:
    lookup = {}
    for p in period.dropna().unique():
        try:
            lookup[p] = periods.previous_period(p)
        except periods.PeriodError:
            lookup[p] = None
    return period.map(lookup)


@dataclass
class Workset:
    """Everything the staged checks need, loaded once."""

    staged: pd.DataFrame  # latest staged version per (unit, form, period), numeric
    latest: pd.DataFrame  # staged ∪ published, the newest version of every return
    published: pd.DataFrame
    units: pd.DataFrame  # unit_code, name, parent_code
    indicators: pd.DataFrame

    def unit_name(self, code: str) -> str:
        return self._names.get(code, code)

    def __post_init__(self) -> None:
        self._names = dict(zip(self.units["unit_code"], self.units["name"], strict=False))


def _read_coded(engine: Engine, sql: str, columns: list[str]) -> pd.DataFrame:
    """``sql``'s rows as :func:`load_staged_values` builds them: codes categorical, values float.

    Read in chunks through the DB-API cursor (the published history is ~1M rows
    on a national batch): no million-row list of tuples and no object columns.
    """
    chunks: list[dict[str, object]] = []
    with engine.connect() as conn, _bulk_fetch():
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(_FETCH_ROWS):
                chunks.append(_staged_chunk(rows, columns))
        finally:
            cursor.close()
    if not chunks:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return _concat_columns(chunks, columns)


def _shared_dtype(*parts) -> pd.CategoricalDtype:
    # One sorted category list per key across staged, published, units and the
    # catalog: merges between frames of the same categorical dtype join on the
    # integer codes (no re-factorizing strings), and sorted categories keep
    # groupby order and code comparisons the same as on the text.
    values: set = set()
    for part in parts:
        if isinstance(part, pd.Series) and isinstance(part.dtype, pd.CategoricalDtype):
            part = part.cat.categories
        values.update(v for v in pd.unique(np.asarray(part, dtype=object)) if isinstance(v, str))
    return pd.CategoricalDtype(pd.Index(sorted(values), dtype=object))


def _recode(frame: pd.DataFrame, dtypes: dict[str, pd.CategoricalDtype]) -> pd.DataFrame:
    for column, dtype in dtypes.items():
        if column in frame:
            frame[column] = frame[column].astype(dtype)
    return frame


def load_workset(engine: Engine, staged_raw: pd.DataFrame | None = None) -> Workset:
    staged = load_staged_values(engine) if staged_raw is None else staged_raw.copy()
    staged = _numeric(staged, _VALUE_COLUMNS)
    published = _read_coded(
        engine,
        PUBLISHED_VALUES_SQL,
        ["unit_code", "form", "indicator_code", "period", "value_current", "value_ytd"],
    )
    published = _numeric(published, _VALUE_COLUMNS)
    blocked = _numeric(_latest_blocked_values(engine), _VALUE_COLUMNS)
    units = _strip_codes(
        _read(
            engine, "SELECT unit_code, name, parent_code FROM dim_org_unit WHERE valid_to IS NULL"
        ),
        ["unit_code", "parent_code"],
    )
    forms = set(staged["form"].dropna()) | set(published["form"].dropna()) | {"FL-01"}
    indicators = indicator_frame(forms)
    unit_dtype = _shared_dtype(
        staged["unit_code"],
        published["unit_code"],
        blocked["unit_code"],
        units["unit_code"],
        units["parent_code"],
    )
    code_dtype = _shared_dtype(
        staged["indicator_code"],
        published["indicator_code"],
        blocked["indicator_code"],
        indicators["indicator_code"],
        indicators["bound_by"],
    )
    dtypes = {
        "unit_code": unit_dtype,
        "parent_code": unit_dtype,
        "form": _shared_dtype(
            staged["form"], published["form"], blocked["form"], indicators["form"]
        ),
        "period": _shared_dtype(staged["period"], published["period"], blocked["period"]),
        "indicator_code": code_dtype,
        "bound_by": code_dtype,
    }
    staged = _recode(staged, dtypes)
    for column in ("submission_id", "cell_current", "cell_ytd", "cell_last_year"):
        # Text columns that are not join keys (or only joined within staged) stay
        # as they came; plain text when the caller passed object columns.
        if column in staged and not isinstance(staged[column].dtype, pd.CategoricalDtype):
            staged[column] = staged[column].astype(object)
    published = _recode(published, dtypes)
    blocked = _recode(blocked, dtypes)
    units = _recode(units, dtypes)
    indicators = _recode(indicators, dtypes)
    if not staged.empty:
        newest = staged.groupby(_KEY)["version"].transform("max")
        staged = staged[staged["version"] == newest].reset_index(drop=True)
    # A staged return supersedes every decided one for the same unit, form and
    # period; otherwise a newer blocked return supersedes the published one (the
    # officials' pages count it: huizong.returns.readback).
    staged_keys = staged[_KEY].drop_duplicates()
    marked = blocked.merge(staged_keys.assign(_staged=True), on=_KEY, how="left")
    blocked = blocked[marked["_staged"].isna().to_numpy()]
    decided_keys = pd.concat([staged_keys, blocked[_KEY]], ignore_index=True).drop_duplicates()
    marked = published.merge(decided_keys.assign(_newer=True), on=_KEY, how="left")
    published_rest = published[marked["_newer"].isna().to_numpy()]
    columns = [*_KEY, "indicator_code", "value_current", "value_ytd"]
    latest = pd.concat(
        [staged[columns], published_rest[columns], blocked[columns]], ignore_index=True
    )
    return Workset(staged, latest, published, units, indicators)


def _latest_blocked_values(engine: Engine) -> pd.DataFrame:
    """The figures of each (unit, form, period) whose latest counted return is blocked.

    Picked and read the way the officials' pages do (``huizong.returns.readback``):
    the latest published-or-blocked version by publishing's order; a blocked one
    is read back from its raw copy after a sha256 check (an unreadable copy counts
    no figures, as on the pages).
    """
    columns = [*_KEY, "indicator_code", "value_current", "value_ytd"]
    with engine.connect() as conn:
        submissions = [dict(r) for r in conn.execute(sa.text(COUNTED_SUBMISSIONS_SQL)).mappings()]
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in submissions:
        row["unit_code"] = str(row["unit_code"]).strip()
        row["form"] = str(row["form"]).strip()
        row["period"] = str(row["period"]).strip()
        key = (row["unit_code"], row["form"], row["period"])
        if key not in latest or readback.publish_rank(row) > readback.publish_rank(latest[key]):
            latest[key] = row
    records = []
    for key, row in latest.items():
        if row["status"] != "blocked":
            continue
        for code, cells in (readback.blocked_return_values(row) or {}).items():
            records.append((*key, code, cells.get("current"), cells.get("ytd")))
    frame = pd.DataFrame.from_records(records, columns=columns)
    for column in ("value_current", "value_ytd"):
        frame[column] = frame[column].astype(object)
    return frame


def _with_meta(ws: Workset, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.merge(ws.indicators, on=["form", "indicator_code"], how="left")


# --- 其中 rows -----------------------------------------------------------------


def check_subtotals(ws: Workset) -> list[Finding]:
    bounds = ws.indicators[ws.indicators["bound_by"].notna()][
        ["form", "indicator_code", "bound_by", "bound_severity", "indicator_name"]
    ]
    rows = ws.staged.merge(bounds, on=["form", "indicator_code"])
    parents = ws.staged[
        [
            "submission_id",
            "indicator_code",
            "value_current",
            "value_ytd",
            "cell_current",
            "cell_ytd",
        ]
    ]
    parents = parents.rename(
        columns={
            "indicator_code": "bound_by",
            "value_current": "bound_current",
            "value_ytd": "bound_ytd",
            "cell_current": "bound_cell_current",
            "cell_ytd": "bound_cell_ytd",
        }
    )
    rows = rows.merge(parents, on=["submission_id", "bound_by"])
    names = dict(
        zip(ws.indicators["indicator_code"], ws.indicators["indicator_name"], strict=False)
    )
    out: list[Finding] = []
    for measure, bound in (("value_current", "bound_current"), ("value_ytd", "bound_ytd")):
        bad = rows[rows[measure] > rows[bound] + EPS]
        suffix = measure.removeprefix("value_")
        for r in bad.itertuples(index=False):
            value, limit = getattr(r, measure), getattr(r, bound)
            unit = ws.unit_name(r.unit_code)
            must = "不能大于" if r.bound_severity == "error" else "一般不应大于"
            out.append(
                Finding(
                    check_name="subtotal_le_parent",
                    severity=r.bound_severity,
                    unit_code=r.unit_code,
                    form=r.form,
                    period=r.period,
                    indicator_code=r.indicator_code,
                    submission_id=r.submission_id,
                    observed=value,
                    expected=limit,
                    evidence=_cells(
                        getattr(r, f"cell_{suffix}"), getattr(r, f"bound_cell_{suffix}")
                    ),
                    message_zh=(
                        f"{unit} {r.period} 第{r.indicator_code}行「{r.indicator_name}」"
                        f"{MEASURE_ZH[measure]} {_fmt(value)} 大于第{r.bound_by}行"
                        f"「{names.get(r.bound_by, r.bound_by)}」{_fmt(limit)}，其中项{must}总数。"
                        "请核对这两行后更正并重新报送。"
                    ),
                    message_en=(
                        f"{r.unit_code} {r.period}: row {r.indicator_code} ({MEASURE_EN[measure]}) "
                        f"{_fmt(value)} exceeds row {r.bound_by} ({_fmt(limit)}); a 'of which' row "
                        "cannot exceed its total. Check both rows and resubmit."
                    ),
                )
            )
    return out


def _cells(*cells: str | None) -> str | None:
    shown = [c for c in cells if isinstance(c, str) and c]
    return " / ".join(shown) if shown else None


# --- derived rates -------------------------------------------------------------


def check_rates(ws: Workset) -> list[Finding]:
    out: list[Finding] = []
    for form in ws.staged["form"].unique():
        for d in catalog.derived_indicators(form).values():
            base = ws.staged[ws.staged["form"] == form]
            num = base[base["indicator_code"] == d.numerator]
            den = base[base["indicator_code"] == d.denominator][
                ["submission_id", "value_current", "value_ytd"]
            ]
            pair = num.merge(den, on="submission_id", suffixes=("", "_den"))
            for measure in ("value_current", "value_ytd"):
                n, dn = pair[measure], pair[f"{measure}_den"]
                with np.errstate(divide="ignore", invalid="ignore"):
                    rate = np.where(dn > 0, d.scale * n / dn, np.where(n > 0, np.inf, np.nan))
                bad = pair[(rate > 100 + EPS)]
                bad_rate = rate[(rate > 100 + EPS)]
                for r, value in zip(bad.itertuples(index=False), bad_rate, strict=True):
                    unit = ws.unit_name(r.unit_code)
                    out.append(
                        Finding(
                            check_name="rate_le_100",
                            severity="error",
                            unit_code=r.unit_code,
                            form=r.form,
                            period=r.period,
                            indicator_code=d.code,
                            submission_id=r.submission_id,
                            observed=_none(value),
                            expected=100.0,
                            evidence=_cells(
                                r.cell_current if measure == "value_current" else r.cell_ytd
                            ),
                            message_zh=(
                                f"{unit} {r.period} {d.name}（"
                                f"第{d.numerator}行÷第{d.denominator}行）"
                                f"{MEASURE_ZH[measure]}为 {_fmt(value)}%，超过100%："
                                f"第{d.numerator}行 {_fmt(getattr(r, measure))}，"
                                f"第{d.denominator}行"
                                f" {_fmt(getattr(r, measure + '_den'))}。请核对后重新报送。"
                            ),
                            message_en=(
                                f"{r.unit_code} {r.period}: {d.code} = row {d.numerator} / row "
                                f"{d.denominator} is {_fmt(value)} % "
                                f"({MEASURE_EN[measure]}), above 100 %. "
                                "Check both rows and resubmit."
                            ),
                        )
                    )
    return out


# --- year to date --------------------------------------------------------------


def check_year_to_date(ws: Workset) -> list[Finding]:
    rows = _with_meta(ws, ws.staged)
    rows = rows[rows["value_ytd"].notna() & rows["value_current"].notna()]
    first = _first_of_year(rows["period"]) | (rows["temporal"] == "stock")
    out: list[Finding] = []

    same = rows[first & ((rows["value_ytd"] - rows["value_current"]).abs() > EPS)]
    for r in same.itertuples(index=False):
        unit = ws.unit_name(r.unit_code)
        why_zh = (
            "存量指标的本年累计数即期末数"
            if r.temporal == "stock"
            else "年内第一期的本年累计数等于本期数"
        )
        why_en = (
            "a stock's year-to-date is its period-end value"
            if r.temporal == "stock"
            else ("in the first period of a year, year-to-date equals the current period")
        )
        out.append(
            Finding(
                check_name="ytd_equals_current",
                severity="error",
                unit_code=r.unit_code,
                form=r.form,
                period=r.period,
                indicator_code=r.indicator_code,
                submission_id=r.submission_id,
                observed=r.value_ytd,
                expected=r.value_current,
                evidence=_cells(r.cell_ytd, r.cell_current),
                message_zh=(
                    f"{unit} {r.period} 第{r.indicator_code}行「{r.indicator_name}」本年累计数 "
                    f"{_fmt(r.value_ytd)} 与本期数 {_fmt(r.value_current)} 不一致（{why_zh}）。"
                    "请更正后重新报送。"
                ),
                message_en=(
                    f"{r.unit_code} {r.period}: row {r.indicator_code}"
                    f" year-to-date {_fmt(r.value_ytd)} "
                    f"≠ current {_fmt(r.value_current)} ({why_en}). Correct and resubmit."
                ),
            )
        )

    flows = rows[~first & (rows["temporal"] == "flow")].copy()
    if flows.empty:
        return out
    flows["previous_period"] = _previous(flows["period"])
    prev = ws.latest[
        ["unit_code", "form", "period", "indicator_code", "value_current", "value_ytd"]
    ].rename(
        columns={
            "period": "previous_period",
            "value_current": "prev_current",
            "value_ytd": "prev_ytd",
        }
    )
    joined = flows.merge(prev, on=["unit_code", "form", "previous_period", "indicator_code"])
    prev_first = _first_of_year(joined["previous_period"])
    # A first-period return may leave 本年累计数 blank: then it is its 本期数.
    prev_ytd = joined["prev_ytd"].where(
        joined["prev_ytd"].notna() | ~prev_first, joined["prev_current"]
    )
    expected = prev_ytd + joined["value_current"]
    bad_mask = expected.notna() & ((joined["value_ytd"] - expected).abs() > EPS)
    for r, exp, pytd in zip(
        joined[bad_mask].itertuples(index=False),
        expected[bad_mask],
        prev_ytd[bad_mask],
        strict=True,
    ):
        unit = ws.unit_name(r.unit_code)
        out.append(
            Finding(
                check_name="ytd_continuity",
                severity="warn",
                unit_code=r.unit_code,
                form=r.form,
                period=r.period,
                indicator_code=r.indicator_code,
                submission_id=r.submission_id,
                observed=r.value_ytd,
                expected=exp,
                evidence=_cells(r.cell_ytd),
                message_zh=(
                    f"{unit} {r.period} 第{r.indicator_code}行「{r.indicator_name}」本年累计数 "
                    f"{_fmt(r.value_ytd)}，应为上期（{r.previous_period}）本年累计数 {_fmt(pytd)} "
                    f"+ 本期数 {_fmt(r.value_current)} = {_fmt(exp)}。请核对本期或上期报表。"
                ),
                message_en=(
                    f"{r.unit_code} {r.period}: row {r.indicator_code}"
                    f" year-to-date {_fmt(r.value_ytd)} "
                    f"should be {r.previous_period} year-to-date {_fmt(pytd)} + current "
                    f"{_fmt(r.value_current)} = {_fmt(exp)}. Check this or the previous return."
                ),
            )
        )
    return out


# --- parent = sum of children --------------------------------------------------


def hierarchy_keys(ws: Workset) -> pd.DataFrame:
    """(parent unit, form, period) whose consolidation a staged return touches."""
    staged_keys = ws.staged[_KEY].drop_duplicates()
    as_child = staged_keys.merge(ws.units[["unit_code", "parent_code"]], on="unit_code")
    as_child = as_child[as_child["parent_code"].notna()][["parent_code", "form", "period"]]
    as_child = as_child.rename(columns={"parent_code": "unit_code"})
    has_children = set(ws.units["parent_code"].dropna())
    as_parent = staged_keys[staged_keys["unit_code"].isin(has_children)]
    return pd.concat([as_child, as_parent], ignore_index=True).drop_duplicates()


def check_hierarchy(ws: Workset) -> list[Finding]:
    keys = hierarchy_keys(ws)
    if keys.empty:
        return []
    additive = ws.indicators[ws.indicators["additive"]][
        ["form", "indicator_code", "indicator_name"]
    ]
    own = ws.latest.merge(keys, on=_KEY).merge(additive, on=["form", "indicator_code"])
    own = own[own["value_current"].notna()]
    children = ws.units[ws.units["parent_code"].isin(keys["unit_code"])][
        ["unit_code", "parent_code"]
    ]
    expected = children.groupby("parent_code").size().rename("children_expected")
    child_values = ws.latest.merge(children, on="unit_code")
    child_values = child_values[child_values["value_current"].notna()]
    sums = (
        child_values.groupby(["parent_code", "form", "period", "indicator_code"])["value_current"]
        .agg(sum_children="sum", children_reported="count")
        .reset_index()
        .rename(columns={"parent_code": "unit_code"})
    )
    cmp = own.merge(sums, on=[*_KEY, "indicator_code"]).merge(
        expected, left_on="unit_code", right_index=True, how="left"
    )
    cmp["diff"] = cmp["value_current"] - cmp["sum_children"]
    complete = cmp["children_reported"] >= cmp["children_expected"]
    partial_below = ~complete & (cmp["diff"] > EPS)
    wrong = (complete & (cmp["diff"].abs() > EPS)) | (~complete & (cmp["diff"] < -EPS))
    flagged = cmp[partial_below | wrong].copy()
    if flagged.empty:
        return []
    flagged["severity"] = np.where(wrong[partial_below | wrong], "error", "warn")

    staged_subs = ws.staged[[*_KEY, "submission_id"]].drop_duplicates(_KEY)
    flagged = flagged.merge(staged_subs, on=_KEY, how="left")
    detail = child_values.merge(
        flagged[["unit_code", "form", "period", "indicator_code"]].rename(
            columns={"unit_code": "parent_code"}
        ),
        on=["parent_code", "form", "period", "indicator_code"],
    )
    listed = {
        key: list(zip(g["unit_code"], g["value_current"], strict=True))
        for key, g in detail.groupby(["parent_code", "form", "period", "indicator_code"])
    }
    # Children (in unit order) of the flagged parents only: one pass over the
    # pairs instead of a groupby-apply building a list for every parent.
    flagged_parents = set(flagged["unit_code"])
    children_of: dict[str, list[str]] = {}
    for child, parent in zip(children["unit_code"], children["parent_code"], strict=True):
        if parent in flagged_parents:
            children_of.setdefault(parent, []).append(child)

    out: list[Finding] = []
    waiting: dict[tuple[str, str, str], list[tuple[Any, list[str]]]] = {}
    for r in flagged.itertuples(index=False):
        reported = listed.get((r.unit_code, r.form, r.period, r.indicator_code), [])
        reported_codes = {code for code, _ in reported}
        missing = [c for c in children_of.get(r.unit_code, []) if c not in reported_codes]
        if r.severity == "warn":
            waiting.setdefault((r.unit_code, r.form, r.period), []).append((r, missing))
            continue
        shown = "；".join(
            f"{ws.unit_name(c)}({c}) {_fmt(v)}" for c, v in reported[:MAX_LISTED_CHILDREN]
        )
        if len(reported) > MAX_LISTED_CHILDREN:
            shown += f"；…共{len(reported)}个"
        missing_zh = "、".join(ws.unit_name(c) for c in missing[:MAX_LISTED_CHILDREN])
        unit = ws.unit_name(r.unit_code)
        coverage = f"{int(r.children_reported)}/{int(r.children_expected)}"
        head_zh = (
            f"{unit} {r.period} 第{r.indicator_code}行"
            f"「{r.indicator_name}」本级报表 {_fmt(r.value_current)}，"
            f"下级合计 {_fmt(r.sum_children)}（{coverage} 个下级已报），相差 {_fmt(r.diff)}。"
        )
        head_en = (
            f"{r.unit_code} {r.period}: row {r.indicator_code} own return {_fmt(r.value_current)}, "
            f"sum of children {_fmt(r.sum_children)} ({coverage} children reported), "
            f"difference {_fmt(r.diff)}."
        )
        if missing:
            tail_zh = f"已报下级之和已超过本级数（未报：{missing_zh}），请核对本级或下级报表。"
            tail_en = (
                " The partial sum already exceeds the own figure;"
                " check this or the children's returns."
            )
        else:
            tail_zh = "下级已全部报送，请核对本级或下级报表并更正。"
            tail_en = " All children reported; check this or the children's returns and correct."
        out.append(
            Finding(
                check_name="parent_eq_sum_children",
                severity=r.severity,
                unit_code=r.unit_code,
                form=r.form,
                period=r.period,
                indicator_code=r.indicator_code,
                submission_id=r.submission_id if isinstance(r.submission_id, str) else None,
                observed=r.value_current,
                expected=r.sum_children,
                evidence=f"下级 children: {shown}"
                + (f"；未报 missing: {missing_zh}" if missing else ""),
                message_zh=head_zh + tail_zh,
                message_en=head_en + tail_en,
            )
        )
    out.extend(_awaiting_children(ws, key, rows) for key, rows in waiting.items())
    return out


def _awaiting_children(
    ws: Workset, key: tuple[str, str, str], rows: list[tuple[Any, list[str]]]
) -> Finding:
    """One warning per parent and period while children are missing, not one per row.

    Every additive row of a parent is above the partial sum of its children
    until they have all reported: listing each row would repeat the same news
    twenty times in an official's digest.
    """
    unit_code, form, period = key
    rows = sorted(rows, key=lambda item: item[0].indicator_code)
    missing: list[str] = []
    for _, row_missing in rows:
        missing.extend(c for c in row_missing if c not in missing)
    missing_zh = "、".join(ws.unit_name(c) for c in missing[:MAX_LISTED_CHILDREN])
    if len(missing) > MAX_LISTED_CHILDREN:
        missing_zh += f"等{len(missing)}个"
    codes = [r.indicator_code for r, _ in rows]
    reported = sorted({int(r.children_reported) for r, _ in rows})
    expected = int(rows[0][0].children_expected)
    coverage = (
        f"{reported[0]}/{expected}"
        if len(reported) == 1
        else f"{reported[0]}–{reported[-1]}/{expected}"
    )
    rows_zh = "、".join(f"第{c}行" for c in codes[:MAX_LISTED_CHILDREN])
    if len(codes) > MAX_LISTED_CHILDREN:
        rows_zh += f"等{len(codes)}行"
    submission = rows[0][0].submission_id
    return Finding(
        check_name="parent_eq_sum_children",
        severity="warn",
        unit_code=unit_code,
        form=form,
        period=period,
        submission_id=submission if isinstance(submission, str) else None,
        evidence="；".join(
            f"第{r.indicator_code}行 本级 {_fmt(r.value_current)} 下级合计 {_fmt(r.sum_children)}"
            for r, _ in rows[:MAX_LISTED_CHILDREN]
        )
        + (f"；…共{len(rows)}行" if len(rows) > MAX_LISTED_CHILDREN else "")
        + (f"；未报 missing: {missing_zh}" if missing else ""),
        message_zh=(
            f"{ws.unit_name(unit_code)} {period} 下级尚未报齐（{coverage} 个下级已报，"
            f"未报：{missing_zh}），{rows_zh}本级数高于已报下级之和。"
            "请督促下级报送，报齐后将再次核对。"
        ),
        message_en=(
            f"{unit_code} {period}: not all children reported ({coverage};"
            f" missing: {', '.join(missing[:MAX_LISTED_CHILDREN])}); {len(codes)} rows"
            f" ({', '.join(codes[:MAX_LISTED_CHILDREN])}) are above the partial sum."
            " They are checked again once all children have reported."
        ),
    )


# --- outliers ------------------------------------------------------------------


def check_history_outliers(ws: Workset) -> list[Finding]:
    current = ws.staged[ws.staged["value_current"].notna()][
        [*_KEY, "indicator_code", "submission_id", "value_current", "cell_current"]
    ]
    history = ws.published[ws.published["value_current"].notna()][
        ["unit_code", "form", "indicator_code", "period", "value_current"]
    ].rename(columns={"period": "h_period", "value_current": "h_value"})
    if current.empty or history.empty:
        return []
    joined = current.merge(history, on=["unit_code", "form", "indicator_code"])
    # Both period columns share one sorted categorical dtype (load_workset): code
    # order is text order, and the kind is looked up per category, not per row.
    categories = joined["period"].cat.categories
    kind = np.array([_kind_of(p) for p in categories] + [""], dtype=object)
    h_codes = joined["h_period"].cat.codes.to_numpy()
    p_codes = joined["period"].cat.codes.to_numpy()
    joined = joined[(h_codes < p_codes) & (h_codes >= 0) & (kind[h_codes] == kind[p_codes])]
    if joined.empty:
        return []
    group = [*_KEY, "indicator_code"]
    grouped = joined.groupby(group)["h_value"]
    stats = grouped.agg(points="count", median="median").reset_index()
    joined = joined.merge(stats, on=group)
    joined["abs_dev"] = (joined["h_value"] - joined["median"]).abs()
    mad = joined.groupby(group)["abs_dev"].median().rename("mad").reset_index()
    stats = stats.merge(mad, on=group)
    rows = current.merge(stats[stats["points"] >= HISTORY_MIN_POINTS], on=group)
    scale = np.maximum.reduce(
        [1.4826 * rows["mad"].to_numpy(), 0.1 * rows["median"].abs().to_numpy(), np.ones(len(rows))]
    )
    rows["z"] = (rows["value_current"] - rows["median"]).abs() / scale
    flagged = _with_meta(ws, rows[rows["z"] > HISTORY_Z_LIMIT])
    return [
        Finding(
            check_name="outlier_history",
            severity="warn",
            unit_code=r.unit_code,
            form=r.form,
            period=r.period,
            indicator_code=r.indicator_code,
            submission_id=r.submission_id,
            observed=r.value_current,
            expected=r.median,
            evidence=_cells(r.cell_current),
            message_zh=(
                f"{ws.unit_name(r.unit_code)} {r.period} "
                f"第{r.indicator_code}行「{r.indicator_name}」"
                f"本期数 {_fmt(r.value_current)} 远离本单位以往 {int(r.points)} 期的中位数 "
                f"{_fmt(r.median)}（稳健z值 {r.z:.1f} >"
                f" {HISTORY_Z_LIMIT}）。请确认是否填错（如单位、位数）。"
            ),
            message_en=(
                f"{r.unit_code} {r.period}: row {r.indicator_code}"
                f" {_fmt(r.value_current)} is far from "
                f"the median {_fmt(r.median)} of {int(r.points)}"
                f" earlier periods (robust z {r.z:.1f} > "
                f"{HISTORY_Z_LIMIT}). Please confirm (unit of measure, digits)."
            ),
        )
        for r in flagged.itertuples(index=False)
    ]


def check_last_year_outliers(ws: Workset) -> list[Finding]:
    rows = _with_meta(ws, ws.staged)
    rows = rows[rows["value_current"].notna() & rows["value_last_year"].notna()]
    larger = np.maximum(rows["value_current"], rows["value_last_year"])
    floor = np.where(
        rows["is_money"].fillna(False).astype(bool), LAST_YEAR_MIN_MONEY, LAST_YEAR_MIN_COUNT
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            rows["value_last_year"] > 0, rows["value_current"] / rows["value_last_year"], np.inf
        )
    mask = (larger >= floor) & ((ratio > LAST_YEAR_RATIO) | (ratio < 1 / LAST_YEAR_RATIO))
    out: list[Finding] = []
    for r, q in zip(rows[mask].itertuples(index=False), ratio[mask.to_numpy()], strict=True):
        shown = "∞" if np.isinf(q) else f"{q:.2f}"
        out.append(
            Finding(
                check_name="outlier_last_year",
                severity="warn",
                unit_code=r.unit_code,
                form=r.form,
                period=r.period,
                indicator_code=r.indicator_code,
                submission_id=r.submission_id,
                observed=r.value_current,
                expected=r.value_last_year,
                evidence=_cells(r.cell_current, r.cell_last_year),
                message_zh=(
                    f"{ws.unit_name(r.unit_code)} {r.period} "
                    f"第{r.indicator_code}行「{r.indicator_name}」"
                    f"本期数 {_fmt(r.value_current)} 是上年同期数"
                    f" {_fmt(r.value_last_year)} 的 {shown} 倍"
                    f"（超出 1/{LAST_YEAR_RATIO:g}–{LAST_YEAR_RATIO:g} 倍）。请确认是否填错。"
                ),
                message_en=(
                    f"{r.unit_code} {r.period}: row {r.indicator_code}"
                    f" current {_fmt(r.value_current)} is "
                    f"{shown}× the same period last year "
                    f"({_fmt(r.value_last_year)}). Please confirm."
                ),
            )
        )
    return out


# --- notices -------------------------------------------------------------------

_QUALIFIER_ALIASES = {
    "exact": "exact",
    "at_least": "at_least",
    "more_than": "at_least",
    "approx": "approx",
    "about": "approx",
    "at_most": "at_most",
    "nearly": "at_most",
    "less_than": "at_most",
}
_QUALIFIER_ZH = {
    "exact": "等于",
    "at_least": "不少于",
    "approx": "约为（±5%）",
    "at_most": "不超过",
}


def check_notice_vs_return(engine: Engine, ws: Workset | None = None) -> CheckResult:
    """Figures a notice states for a unit (v_notice_vs_return) that the returns contradict."""
    frame = _read(
        engine,
        "SELECT unit_code, unit_name, form, indicator_code, indicator_name, period, notice_value, "
        "notice_qualifier, notice_quote, notice_url, ret"
        "urn_value, return_basis FROM v_notice_vs_return",
    )
    frame = _strip_codes(_numeric(frame, ["notice_value", "return_value"]), ["unit_code"])
    scope = {
        (r.unit_code, r.form, r.period, "notice_vs_return") for r in frame.itertuples(index=False)
    }
    frame = frame[frame["return_value"].notna() & frame["notice_value"].notna()]
    qualifier = (
        frame["notice_qualifier"]
        .fillna("exact")
        .str.lower()
        .map(_QUALIFIER_ALIASES)
        .fillna("exact")
    )
    ret, note = frame["return_value"], frame["notice_value"]
    bad = (
        ((qualifier == "exact") & ((ret - note).abs() > EPS))
        | ((qualifier == "at_least") & (ret < note - EPS))
        | ((qualifier == "at_most") & (ret > note + EPS))
        | (
            (qualifier == "approx")
            & ((ret - note).abs() > NOTICE_APPROX_TOLERANCE * note.abs() + EPS)
        )
    )
    out = CheckResult(scope=scope)
    for r, q in zip(frame[bad].itertuples(index=False), qualifier[bad], strict=True):
        basis_zh = "本级报表" if r.return_basis == "own_return" else "下级报表合计"
        out.append(
            Finding(
                check_name="notice_vs_return",
                severity="warn",
                unit_code=r.unit_code,
                form=r.form,
                period=r.period,
                indicator_code=r.indicator_code,
                observed=r.return_value,
                expected=r.notice_value,
                evidence=f"「{r.notice_quote}」 {r.notice_url}",
                message_zh=(
                    f"{r.unit_name} {r.period} 「{r.indicator_name}"
                    f"」：通知/报道称{_QUALIFIER_ZH[q]} "
                    f"{_fmt(r.notice_value)}（原文「{r.notice_quote}」），但{basis_zh}为 "
                    f"{_fmt(r.return_value)}。请核对报表或向发文单位确认。"
                ),
                message_en=(
                    f"{r.unit_code} {r.period} row {r.indicator_code}: the notice says {q} "
                    f"{_fmt(r.notice_value)} (quote: {r.notice_quote}) but the returns give "
                    f"{_fmt(r.return_value)} ({r.return_basis}"
                    "). Check the returns or ask the issuer."
                ),
            )
        )
    return out


# --- entry points --------------------------------------------------------------


def staged_scope(source: Engine | Workset) -> set:
    """What :func:`check_staged` re-evaluates, for :func:`findings.record`.

    Every check on each staged return, the sum-of-children check of the parents
    the staged returns touch, and the notice comparisons.
    """
    if isinstance(source, Workset):
        scope: set = {
            tuple(k) for k in source.staged[_KEY].drop_duplicates().itertuples(index=False)
        }
        parents = hierarchy_keys(source)
        for k in parents.itertuples(index=False):
            scope.add((k.unit_code, k.form, k.period, "parent_eq_sum_children"))
        return scope
    staged = _strip_codes(
        _read(
            source,
            "SELECT DISTINCT s.unit_code, s.form, s.period, u.parent_code, "
            "CASE WHEN EXISTS (SELECT 1 FROM dim_org_unit AS c WHERE c.parent_code = s.unit_code "
            "AND c.valid_to IS NULL) THEN 1 ELSE 0 END AS has_children "
            "FROM return_submission AS s LEFT JOIN dim_org_unit AS u "
            "ON s.unit_code = u.unit_code AND u.valid_to IS NULL WHERE s.status = 'staged'",
        ),
        ["unit_code", "parent_code"],
    )
    scope = set()
    for r in staged.itertuples(index=False):
        scope.add((r.unit_code, r.form, r.period))
        if isinstance(r.parent_code, str):
            scope.add((r.parent_code, r.form, r.period, "parent_eq_sum_children"))
        if r.has_children:
            scope.add((r.unit_code, r.form, r.period, "parent_eq_sum_children"))
    return scope | notice_scope(source)


def notice_scope(engine: Engine) -> set:
    frame = _strip_codes(
        _read(engine, "SELECT DISTINCT unit_code, form, period FROM v_notice_vs_return"),
        ["unit_code"],
    )
    return {
        (r.unit_code, r.form, r.period, "notice_vs_return") for r in frame.itertuples(index=False)
    }


def check_staged(engine: Engine, *, staged_raw: pd.DataFrame | None = None) -> CheckResult:
    """All rules over the staged returns (newest staged version of each), with published history.

    Returns the findings with ``.scope``: the staged returns, plus the parents whose
    sum-of-children check the staged returns touched.
    """
    ws = load_workset(engine, staged_raw)
    result = CheckResult(scope=staged_scope(ws))
    if not ws.staged.empty:
        for check in (
            check_subtotals,
            check_rates,
            check_year_to_date,
            check_hierarchy,
            check_history_outliers,
            check_last_year_outliers,
        ):
            result.extend(check(ws))
    result = result.merge(check_notice_vs_return(engine, ws))
    # The same problem in 本期数 and 本年累计数 is one finding (the id has no measure).
    return CheckResult(deduplicate(result), result.scope)


# --- completeness --------------------------------------------------------------


def _as_date(value) -> date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def check_completeness(engine: Engine, *, as_of: date) -> CheckResult:
    """Expected children that had not reported by their due date (as of ``as_of``).

    One finding per child (``completeness_missing`` or ``completeness_late``) on the
    child's unit, and one ``completeness_summary`` on the parent while anyone is
    missing. Periods whose due date has not passed are not judged yet.
    """
    detail = _read(
        engine,
        "SELECT parent_code, parent_name, unit_code, unit_name, form, period, due_date, "
        "due_date_source, due_date_notice_id, first_received_at, status FROM v_completeness_detail",
    )
    detail = _strip_codes(detail, ["parent_code", "unit_code"])
    result = CheckResult()
    if detail.empty:
        return result
    detail["due"] = detail["due_date"].map(_as_date)
    detail["received"] = detail["first_received_at"].map(_as_date)
    detail = detail[detail["due"] < as_of]
    for r in detail.itertuples(index=False):
        for check in ("completeness_missing", "completeness_late"):
            result.scope.add((r.unit_code, r.form, r.period, check))
        result.scope.add((r.parent_code, r.form, r.period, "completeness_summary"))

    # The view judges on time / late on the Beijing calendar date of submission.
    not_in = (detail["status"] == "missing") | (detail["received"] > as_of)
    missing = detail[not_in]
    late = detail[~not_in & (detail["status"] == "late")]
    basis = {"default": "默认：期末后10天", "notice": "上级通知规定"}
    for r in missing.itertuples(index=False):
        days = (as_of - r.due).days
        result.append(
            Finding(
                check_name="completeness_missing",
                severity="warn",
                unit_code=r.unit_code,
                form=r.form,
                period=r.period,
                evidence=f"due {r.due.isoformat()} ({r.due_date_source}"
                + (f", notice {r.due_date_notice_id}" if r.due_date_notice_id else "")
                + ")",
                message_zh=(
                    f"{r.unit_name} 尚未报送 {r.form} {r.period} 报表，截止日期 {r.due.isoformat()}"
                    f"（{basis.get(r.due_date_source, r.due_date_source)}）已过 {days} 天。"
                    f"请尽快报送{r.parent_name}妇联。"
                ),
                message_en=(
                    f"{r.unit_code} has not submitted {r.form}"
                    f" {r.period}; due {r.due.isoformat()}, "
                    f"{days} days overdue. Please submit to {r.parent_code}."
                ),
            )
        )
    for r in late.itertuples(index=False):
        days = max((r.received - r.due).days, 1)
        result.append(
            Finding(
                check_name="completeness_late",
                severity="warn",
                unit_code=r.unit_code,
                form=r.form,
                period=r.period,
                evidence=f"received {r.received.isoformat()}, due {r.due.isoformat()}",
                message_zh=(
                    f"{r.unit_name} {r.form} {r.period} 报表于 {r.received.isoformat()} 报送，"
                    f"晚于截止日期 {r.due.isoformat()} {days} 天。请今后按时报送。"
                ),
                message_en=(
                    f"{r.unit_code} submitted {r.form} {r.period} on {r.received.isoformat()}, "
                    f"{days} days after the due date {r.due.isoformat()}."
                ),
            )
        )
    expected = detail.groupby(["parent_code", "form", "period"]).size()
    for (parent, form, period), group in missing.groupby(["parent_code", "form", "period"]):
        names = "、".join(group["unit_name"].head(MAX_LISTED_CHILDREN))
        more = f"等{len(group)}个单位" if len(group) > MAX_LISTED_CHILDREN else ""
        total = int(expected[(parent, form, period)])
        parent_name = group["parent_name"].iloc[0]
        result.append(
            Finding(
                check_name="completeness_summary",
                severity="warn",
                unit_code=parent,
                form=form,
                period=period,
                observed=float(total - len(group)),
                expected=float(total),
                evidence="missing: " + ", ".join(group["unit_code"].head(MAX_LISTED_CHILDREN)),
                message_zh=(
                    f"{parent_name} 的 {total} 个下级单位中有"
                    f" {len(group)} 个尚未报送 {form} {period}："
                    f"{names}{more}。请督促报送。"
                ),
                message_en=(
                    f"{len(group)} of {total} subordinate units of {parent} have not submitted "
                    f"{form} {period}. Please follow up."
                ),
            )
        )
    return result


# --- notice deadlines ----------------------------------------------------------

_FORM_PERIOD_KIND = {"FL-01": "quarter"}


def period_for_deadline(deadline: date, *, kind: str = "quarter", hint: str | None = None) -> str:
    """The reporting period a notice deadline is about.

    Heuristic: if the notice's task or title names a period (``2020年一季度``,
    ``2019年度``) whose end is on or before the deadline, that one; otherwise the
    period of the form's kind whose end precedes the deadline and is nearest to it
    (a deadline of 2020-03-23 → 2019Q4 for a quarterly form; 2020-04-05 → 2020Q1).
    """
    if hint:
        named = periods.find_period(hint)
        if named and periods.period_end(named) <= deadline:
            return named
    if kind == "year":
        return str(deadline.year - 1)
    if kind == "month":
        last = deadline.replace(day=1) - timedelta(days=1)
        return f"{last.year}-{last.month:02d}"
    quarter = (deadline.month - 1) // 3 + 1
    candidate = f"{deadline.year}Q{quarter}"
    if periods.period_end(candidate) >= deadline:
        candidate = periods.previous_period(candidate)
    return candidate


_WHITESPACE = re.compile(r"\s+")


def link_notice_deadlines(engine: Engine, *, form: str = "FL-01") -> int:
    """Derive ``reporting_deadline`` rows from notices that set a deadline.

    A notice issued by a parent (``issuer_code``) with a ``deadline`` sets the
    due date of ``form`` for the period :func:`period_for_deadline` picks. When
    several notices of one parent point at the same period, the most recently
    published one wins (a re-issued notice corrects the earlier one).
    """
    notices = _read(
        engine,
        "SELECT notice_id, issuer_code, deadline, deadline_task, title, published_at, first_seen "
        "FROM notice WHERE deadline IS NOT NULL AND issuer_code IS NOT NULL",
    )
    if notices.empty:
        return 0
    kind = _FORM_PERIOD_KIND.get(form, "quarter")
    chosen: dict[tuple[str, str, str], tuple] = {}
    for r in notices.itertuples(index=False):
        deadline = _as_date(r.deadline)
        if deadline is None:
            continue
        hint = _WHITESPACE.sub(" ", f"{r.deadline_task or ''} {r.title or ''}").strip()
        period = period_for_deadline(deadline, kind=kind, hint=hint or None)
        if kind == "quarter" and periods.period_kind(period) == "month":
            period = periods.quarter_of_month(period)
        elif kind == "quarter" and periods.period_kind(period) == "year":
            # A named year for a quarterly form: its last quarter is what falls due.
            period = f"{periods.period_year(period)}Q4"
        key = (r.issuer_code.strip(), form, period)
        order = str(r.published_at or r.first_seen or "")
        if key not in chosen or order > chosen[key][0]:
            chosen[key] = (order, deadline, r.notice_id)
    rows = [
        {"parent_code": k[0], "form": k[1], "period": k[2], "due_date": v[1], "notice_id": v[2]}
        for k, v in chosen.items()
    ]
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO reporting_deadline (parent_code, form, period, due_date, notice_id) "
                "VALUES (:parent_code, :form, :period, :due_date, :notice_id) "
                "ON CONFLICT (parent_code, form, period) DO UPDATE SET "
                "due_date = excluded.due_date, notice_id = excluded.notice_id"
            ),
            rows,
        )
    return len(rows)
