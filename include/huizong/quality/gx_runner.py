"""Great Expectations over the staged returns: suites as data, Data Docs, blocked returns.

Suites live as JSON in ``expectations/`` (see ``staged_returns.json``): each entry
names a GX expectation ``type`` and ``kwargs`` plus our own ``check`` name and the
Chinese/English explanation that goes into the finding. ``{"$catalog": ...}`` in
kwargs is resolved from the indicator catalog at run time, so a new indicator is a
catalog change only.

The run uses an ephemeral GX Core 1.x context (nothing written but the Data Docs
site), validates a pandas frame of the staged rows through a Checkpoint with
``COMPLETE`` results (every failing row, by frame row label), and maps failing
rows back to their submissions (the suite's ``index_columns``, read from the
frame) so only those returns are held back. A table-level failure (schema)
holds the whole batch: no row can be trusted then.

``great_expectations`` takes seconds to import, so it is imported inside
:func:`validate_staged` only.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from huizong import catalog
from huizong.quality.findings import CheckResult
from huizong.quality.model import Finding
from huizong.quality.rules import MEASURE_EN, MEASURE_ZH, load_staged_values

log = logging.getLogger(__name__)

SITE_NAME = "huizong"
_MEASURES = ("current", "ytd", "last_year")
_BASE_COLUMNS = [
    "submission_id", "unit_code", "form", "period", "version", "indicator_code",
    "value_current", "value_ytd", "value_last_year", "cell_current", "cell_ytd", "cell_last_year",
]  # fmt: skip


@dataclass
class GXResult:
    success: bool
    failed_submission_ids: set[str]
    results_by_suite: dict[str, dict[str, Any]]
    docs_index_path: Path | None
    findings: CheckResult = field(default_factory=CheckResult)


def default_suite_dir() -> Path:
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "expectations", here.parents[1] / "expectations"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("expectations/ not found next to the huizong package")


def load_suite_specs(suite_dir: Path | str) -> list[dict[str, Any]]:
    specs = []
    for path in sorted(Path(suite_dir).glob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        spec.setdefault("name", path.stem)
        spec.setdefault("data", spec["name"])
        specs.append(spec)
    return specs


def _catalog_value(ref: str) -> list[str]:
    if ref == "form_indicator_codes":
        return sorted(
            f"{form}:{code}" for form in catalog.known_forms() for code in catalog.indicators(form)
        )
    raise ValueError(f"unknown catalog reference in an expectation suite: {ref!r}")


def _resolve(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"$catalog"}:
            return _catalog_value(value["$catalog"])
        return {k: _resolve(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v) for v in value]
    return value


def _canonical_text(raw: pd.Series, number: pd.Series) -> pd.Series:
    """How the stored value reads: ``12``, ``12.5``, ``-3``; non-numbers keep their text.

    The text is a function of the number, and a million staged values hold far
    fewer distinct numbers: each distinct one is formatted once and the result is
    categorical (GX's regex then works through the categories as well).
    """
    codes, uniques = pd.factorize(number.to_numpy(dtype="float64"))  # NaN -> -1
    text = np.full(len(uniques), None, dtype=object)
    finite = np.isfinite(uniques)
    whole = finite & (uniques == np.floor(uniques))
    text[whole] = [str(v) for v in uniques[whole].astype("int64").tolist()]
    text[finite & ~whole] = [
        format(Decimal(repr(v)), "f") for v in uniques[finite & ~whole].tolist()
    ]
    # Two numbers may read the same (0.0 and -0.0): categories must be unique.
    text_codes, categories = pd.factorize(text)  # None (±inf) -> -1
    row_codes = text_codes[codes] if len(text_codes) else np.full(len(codes), -1)
    row_codes[codes < 0] = -1
    out = pd.Series(
        pd.Categorical.from_codes(row_codes, categories=pd.Index(categories, dtype=object)),
        index=raw.index,
    )
    not_number = (number.isna() & raw.notna()).to_numpy()
    if not_number.any():  # rare: a stored text that is not a number keeps its text
        out = out.astype(object)
        out[not_number] = raw[not_number].astype(str).astype(object)
    return out


def _per_distinct(frame: pd.DataFrame, columns: list[str], derive) -> pd.Categorical:
    """``derive`` applied to the distinct rows of ``columns`` only, spread back as categorical.

    A million rows hold a few hundred (form, indicator) pairs: building a million
    strings to compare them against a set is most of the cost otherwise.
    """
    group = frame.groupby(columns, observed=True, dropna=False, sort=False).ngroup().to_numpy()
    _, first = np.unique(group, return_index=True)
    derived = np.asarray(derive(frame.iloc[first]), dtype=object)
    codes, categories = pd.factorize(derived)  # a null result stays null (code -1)
    return pd.Categorical.from_codes(codes[group], categories=pd.Index(categories, dtype=object))


def staged_frame(raw: pd.DataFrame) -> pd.DataFrame:
    """The frame the ``staged_returns`` suite describes (base columns + derived text columns)."""
    frame = raw.reindex(columns=_BASE_COLUMNS).copy()
    frame["version"] = pd.to_numeric(frame["version"], errors="coerce")
    frame["form_indicator"] = _per_distinct(
        frame,
        ["form", "indicator_code"],
        lambda d: d["form"].astype(str) + ":" + d["indicator_code"].astype(str),
    )
    money = {
        f"{form}:{code}"
        for form in catalog.known_forms()
        for code, ind in catalog.indicators(form).items()
        if ind.is_money
    }
    is_money = frame["form_indicator"].isin(money)
    for measure in _MEASURES:
        raw_values = frame[f"value_{measure}"]
        number = pd.to_numeric(raw_values, errors="coerce").astype("float64")
        text = _canonical_text(raw_values, number)
        frame[f"count_{measure}_text"] = text.where(~is_money, None)
        frame[f"money_{measure}_text"] = text.where(is_money, None)
        frame[f"value_{measure}"] = number
    return frame


def _regex_columns_as_text(frame: pd.DataFrame, spec: Mapping[str, Any]) -> pd.DataFrame:
    """The columns a suite matches by regex, as Arrow-backed ``str`` instead of categorical.

    GX runs ``column.astype(str).str.contains(regex)``: on a categorical that first
    builds a million Python strings (0.3-0.8 s a column); on ``str`` the cast is a
    no-op and the regex runs in Arrow. Expanding the dictionary in Arrow is cheap.
    The values (and nulls) are the same, so are the results.
    """
    columns = {
        e["kwargs"].get("column")
        for e in spec["expectations"]
        if e["type"] == "expect_column_values_to_match_regex"
    }
    out = frame.copy(deep=False)
    for name in sorted(c for c in columns if c in frame):
        column = frame[name]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            continue
        categories = column.cat.categories
        if len(categories) and categories.inferred_type != "string":
            continue
        codes = column.cat.codes.to_numpy()
        dictionary = pa.array(categories.to_numpy(dtype=object), type=pa.large_string())
        text = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), dictionary)
        values = text.cast(pa.large_string()).to_pandas(
            types_mapper=lambda _: pd.StringDtype("pyarrow", na_value=np.nan)
        )
        out[name] = pd.Series(values.array, index=column.index, name=name)
    return out


def _measure_of(column: str | None) -> str | None:
    if not column:
        return None
    for measure in ("last_year", "current", "ytd"):
        if measure in column:
            return f"value_{measure}"
    return None


def _unit_names(engine: Engine, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    stmt = sa.text(
        "SELECT unit_code, name FROM dim_org_unit WHERE valid_to IS NULL AND unit_code IN :codes"
    ).bindparams(sa.bindparam("codes", expanding=True))
    with engine.connect() as conn:
        return {r.unit_code.strip(): r.name for r in conn.execute(stmt, {"codes": sorted(codes)})}


def _build_context(docs_dir: Path):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    context.add_data_docs_site(
        site_name=SITE_NAME,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(docs_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return context


def validate_staged(
    engine: Engine,
    *,
    suite_dir: Path | str | None = None,
    docs_dir: Path | str,
    staged_raw: pd.DataFrame | None = None,
) -> GXResult:
    """Validate the staged rows against every suite in ``suite_dir``; build Data Docs.

    ``staged_raw`` lets a caller that already loaded the staged rows
    (:func:`huizong.quality.rules.load_staged_values`) skip a second read.
    """
    suite_dir = Path(suite_dir) if suite_dir is not None else default_suite_dir()
    docs_dir = Path(docs_dir)
    raw = load_staged_values(engine) if staged_raw is None else staged_raw
    frames = {"staged_returns": staged_frame(raw)}
    scope = {
        tuple(k)
        for k in raw[["unit_code", "form", "period"]].drop_duplicates().itertuples(index=False)
    }
    if raw.empty:
        return GXResult(True, set(), {}, None, CheckResult(scope=scope))

    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    docs_dir.mkdir(parents=True, exist_ok=True)
    context = _build_context(docs_dir)
    source = context.data_sources.add_pandas("huizong_warehouse")

    failed: set[str] = set()
    results_by_suite: dict[str, dict[str, Any]] = {}
    failures: list[tuple[dict, list[dict] | None]] = []
    success = True
    for spec in load_suite_specs(suite_dir):
        frame = frames.get(spec["data"])
        if frame is None:
            raise ValueError(f"suite {spec['name']!r} describes unknown data {spec['data']!r}")
        suite = ExpectationSuite(
            name=spec["name"], meta={"description": spec.get("description", "")}
        )
        for entry in spec["expectations"]:
            suite.add_expectation_configuration(
                ExpectationConfiguration(
                    type=entry["type"],
                    kwargs=_resolve(entry["kwargs"]),
                    meta={k: entry[k] for k in ("check", "zh", "en") if k in entry},
                )
            )
        suite = context.suites.add(suite)
        batch = source.add_dataframe_asset(spec["data"]).add_batch_definition_whole_dataframe(
            "staged"
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{spec['name']}_staged", data=batch, suite=suite)
        )
        index_columns = [c for c in spec.get("index_columns", ["submission_id"]) if c in frame]
        checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name=f"{spec['name']}_checkpoint",
                validation_definitions=[definition],
                actions=[UpdateDataDocsAction(name="data_docs", site_names=[SITE_NAME])],
                # COMPLETE, for every failing row, but indexed by the frame's own
                # row labels: GX builds its per-row dicts cell by cell (and Data
                # Docs render them), which on a large batch cost more than the
                # checks; the labels are mapped to the index columns below.
                result_format={
                    "result_format": "COMPLETE",
                    "return_unexpected_index_query": False,
                },
            )
        )
        outcome = checkpoint.run(
            batch_parameters={"dataframe": _regex_columns_as_text(frame, spec)}
        )
        suite_summary: dict[str, Any] = {"success": bool(outcome.success), "expectations": []}
        for validation in outcome.run_results.values():
            suite_summary["statistics"] = dict(validation.statistics)
            for res in validation.results:
                config = res.expectation_config
                detail = res.result or {}
                suite_summary["expectations"].append(
                    {
                        "check": config.meta.get("check"),
                        "type": config.type,
                        "column": config.kwargs.get("column"),
                        "success": bool(res.success),
                        "unexpected_count": detail.get("unexpected_count"),
                    }
                )
                if res.success:
                    continue
                spec_entry = {"type": config.type, "kwargs": dict(config.kwargs), **config.meta}
                rows = detail.get("unexpected_index_list")
                if rows is None or (res.exception_info or {}).get("raised_exception"):
                    # Table-level or crashed expectation: nothing in this batch can be trusted.
                    log.warning(
                        "GX %s failed for the whole batch: %s", config.type, res.exception_info
                    )
                    failures.append((spec_entry, None))
                    failed.update(frame["submission_id"].dropna())
                else:
                    rows = _index_rows(frame, rows, index_columns, _domain_columns(config.kwargs))
                    failures.append((spec_entry, rows))
                    failed.update(r["submission_id"] for r in rows if r.get("submission_id"))
        success = success and bool(outcome.success)
        results_by_suite[spec["name"]] = suite_summary

    findings = _findings(engine, frames["staged_returns"], failures)
    from huizong.quality.data_docs import localize

    localize(docs_dir)  # GX's pages load their CSS/JS from CDNs; offline they must not
    index = docs_dir / "index.html"
    return GXResult(
        success=success,
        failed_submission_ids=failed,
        results_by_suite=results_by_suite,
        docs_index_path=index if index.exists() else None,
        findings=CheckResult(findings, scope=scope),
    )


def _domain_columns(kwargs: Mapping[str, Any]) -> list[str]:
    if kwargs.get("column"):
        return [kwargs["column"]]
    return list(kwargs.get("column_list") or [])


def _index_rows(
    frame: pd.DataFrame, labels: list, index_columns: list[str], domain: list[str]
) -> list[dict]:
    """What GX returns with ``unexpected_index_column_names``: per failing row, the
    index columns and the tested column(s), read from ``frame`` in one take."""
    if labels and isinstance(labels[0], Mapping):  # already keyed rows
        return labels
    columns = list(dict.fromkeys([*domain, *index_columns]))
    picked = frame.loc[list(labels), columns]
    values = {c: picked[c].to_numpy(dtype=object) for c in columns}
    return [{c: values[c][i] for c in columns} for i in range(len(picked))]


def _findings(
    engine: Engine, frame: pd.DataFrame, failures: list[tuple[dict, list[dict] | None]]
) -> list[Finding]:
    # Names only of the units a finding is about (all units only for a batch-level failure).
    if any(rows is None for _, rows in failures):
        codes = set(frame["unit_code"].dropna())
    else:
        codes = {str(r.get("unit_code") or "") for _, rows in failures for r in rows}
    names = _unit_names(engine, codes)
    indicator_names = {
        (form, code): ind.name
        for form in catalog.known_forms()
        for code, ind in catalog.indicators(form).items()
    }
    out: dict[str, Finding] = {}
    for entry, rows in failures:
        check = f"gx:{entry.get('check') or entry['type']}"
        zh, en = entry.get("zh", entry["type"]), entry.get("en", entry["type"])
        if rows is None:
            kwargs_text = json.dumps(entry["kwargs"], ensure_ascii=False)
            subs = frame[["submission_id", "unit_code", "form", "period"]].drop_duplicates(
                "submission_id"
            )
            for r in subs.itertuples(index=False):
                f = Finding(
                    check_name=check,
                    severity="error",
                    unit_code=r.unit_code,
                    form=r.form,
                    period=r.period,
                    submission_id=r.submission_id,
                    evidence=f"{entry['type']} {kwargs_text[:300]}",
                    message_zh=(
                        f"{names.get(r.unit_code, r.unit_code)} {r.period} "
                        f"报表未通过整体校验：{zh}。"
                    ),
                    message_en=f"{r.unit_code} {r.period}: batch-level check failed: {en}.",
                )
                out.setdefault(f.finding_id, f)
            continue
        column = entry["kwargs"].get("column")
        measure = _measure_of(column)
        for row in rows:
            unit = str(row.get("unit_code") or "")
            form, period = str(row.get("form") or ""), str(row.get("period") or "")
            code = row.get("indicator_code")
            value = row.get(column) if column else None
            cell = row.get(f"cell_{measure.removeprefix('value_')}") if measure else None
            label_zh = f"{MEASURE_ZH[measure]}" if measure else ""
            label_en = f" ({MEASURE_EN[measure]})" if measure else ""
            shown = "" if value is None else f"「{value}」"
            ind_name = indicator_names.get((form, code), "")
            f = Finding(
                check_name=check,
                severity="error",
                unit_code=unit,
                form=form,
                period=period,
                indicator_code=str(code) if code is not None else None,
                submission_id=row.get("submission_id"),
                observed=_as_float(value),
                evidence=cell if isinstance(cell, str) and cell else None,
                message_zh=(
                    f"{names.get(unit, unit)} {period} 第{code}"
                    f"行{('「' + ind_name + '」') if ind_name else ''}"
                    f"{label_zh}{shown}：{zh}。请更正后重新报送。"
                ),
                message_en=(
                    f"{unit} {period} row"
                    f" {code}{label_en}{(' ' + str(value)) if value is not None else ''}: "
                    f"{en}. Correct and resubmit."
                ),
            )
            out.setdefault(f.finding_id, f)
    return list(out.values())


def _as_float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(number) or np.isinf(number) else number
