"""A finding as an official reads it, on a page or in a digest: one code path for both.

Words come from :mod:`huizong.web.vocab`; the figures of a 本级 ≠ 下级合计
finding come from :func:`huizong.web.queries.consolidation`, the same function
the page's table and charts use, so the finding, the table and the e-mail
cannot count differently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Engine

from huizong.web import queries, vocab

HIERARCHY = "parent_eq_sum_children"
_ROW_CODE = re.compile(r"第(\w{2,3})行")
_QUOTE = re.compile(r"^「(?P<quote>.*)」\s+(?P<url>https?://\S+)$", re.S)


def hierarchy_rows(finding: dict[str, Any], cons: queries.Consolidation) -> list[dict[str, Any]]:
    """The rows a 本级 ≠ 下级合计 finding is about, with the figures as the page counts them."""
    if finding.get("indicator_code"):
        codes = [str(finding["indicator_code"])]
    else:
        codes = _ROW_CODE.findall(finding.get("evidence") or "")
    rows = [r for r in cons.rows if r["indicator_code"] in codes]
    return rows or [r for r in cons.rows if r["diff"] not in (None, 0)]


def hierarchy_headline(unit_name: str, cons: queries.Consolidation,
                       rows: list[dict[str, Any]]) -> str:
    counted = len(cons.children_counted)
    differing = sum(1 for r in rows if r["diff"] not in (None, 0))
    if not differing:
        return (f"{unit_name} {vocab.period_label(cons.period)}：核查时这些行的本级数与下级合计"
                "不一致；按目前计入的报表（见下表）已经一致，请核对后视情况填写说明或联系上级。")
    text = (f"{unit_name} {vocab.period_label(cons.period)}：{differing}行本级数与下级合计不一致"
            f"（{counted}/{cons.children_expected} 个下级已报")
    if cons.blocked_children:
        text += f"，含{len(cons.blocked_children)}份未通过审核的报表"
    text += "）。"
    over = any(r["diff"] is not None and r["diff"] < 0 for r in rows)
    if cons.children_missing and over:
        text += (f"已报下级之和已超过本级数（未报：{'、'.join(cons.children_missing)}），"
                 "请核对本级或下级报表。")
    elif cons.children_missing:
        text += (f"未报：{'、'.join(cons.children_missing)}；请督促下级报送，报齐后将再次核对。")
    else:
        text += "下级已全部报送，请核对本级或下级报表并更正。"
    return text


def describe(
    engine: Engine,
    findings: Iterable[dict[str, Any]],
    *,
    consolidations: dict[tuple[str, str], queries.Consolidation] | None = None,
) -> list[dict[str, Any]]:
    """Each finding with what an official reads: words, place, evidence, quote link, table."""
    findings = [dict(f) for f in findings]
    cache = dict(consolidations or {})
    forms = {f.get("form") or queries.DEFAULT_FORM for f in findings}
    indicator = {form: queries.indicator_names(engine, form) for form in forms}
    codes: set[str] = set()
    for f in findings:
        if f.get("unit_code"):
            codes.add(str(f["unit_code"]).strip())
        codes.update(re.findall(r"\d{12}", f.get("evidence") or ""))
    names = queries.unit_names(engine, codes)
    out = []
    for f in findings:
        unit_code = str(f.get("unit_code") or "").strip()
        form = f.get("form") or queries.DEFAULT_FORM
        check, hint = vocab.check_label(f.get("check_name"))
        code = f.get("indicator_code")
        view = {
            **f,
            "unit_name": names.get(unit_code, f.get("unit_name") or unit_code),
            "severity_label": vocab.severity_label(f.get("severity")),
            "check_label": check,
            "check_hint": hint,
            "place": vocab.indicator_label(code, indicator[form].get(code or "")),
            "period_label": vocab.period_label(f.get("period")),
            "message": f.get("message_zh") or "",
            "evidence_text": "",
            "quote": None,
            "notice_id": None,
            "table": [],
            "note": "",
        }
        evidence = f.get("evidence") or ""
        if f.get("check_name") == HIERARCHY:
            key = (unit_code, str(f["period"]))
            if key not in cache:
                cache[key] = queries.consolidation(engine, unit_code, form, str(f["period"]))
            cons = cache[key]
            rows = hierarchy_rows(f, cons)
            if any(r["value_current"] is not None for r in rows):
                view["table"] = rows
                view["message"] = hierarchy_headline(view["unit_name"], cons, rows)
                view["note"] = cons.note
            else:  # no counted return of its own any more: what the check saw is all there is
                view["evidence_text"] = vocab.evidence_zh(evidence, lambda c: names.get(c, c))
        elif m := _QUOTE.match(evidence):
            view["quote"] = m["quote"]
            view["notice_id"] = queries.notice_for_url(engine, m["url"])
        else:
            view["evidence_text"] = vocab.evidence_zh(evidence, lambda c: names.get(c, c))
        out.append(view)
    return out


def table_lines(rows: list[dict[str, Any]], fmt) -> list[str]:
    """The finding's rows as aligned plain text (for the e-mail)."""
    lines = ["   行次/指标 | 本级 | 下级合计 | 差额"]
    for r in rows:
        lines.append(
            f"   {vocab.indicator_label(r['indicator_code'], r['indicator_name'])} | "
            f"{fmt(r['value_current'])} | {fmt(r['sum_children'])} | {fmt(r['diff'])}"
        )
    return lines
