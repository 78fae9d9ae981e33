"""The one vocabulary officials read: pages, downloads and e-mail digests all use it.

Internal words (statuses, rule names, channels, column names) stay in the
warehouse; whatever an official reads goes through these mappings, so the
e-mail and the page say 警告 for the same thing, and a CSV says 按时 rather
than ``on_time``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

# Timeliness and row badges of a unit's return for a period.
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
    "blocked": "未通过审核",
}

# A submitted return's state in the warehouse, in words, with one line on what it means.
SUBMISSION_STATUS = {
    "staged": ("待核查", "已收到，正在核查，尚未发布。"),
    "published": ("已发布", "通过核查，已计入汇总。"),
    "published_with_warnings": ("已发布（有警告）", "已计入汇总，但有须核实或说明的警告。"),
    "blocked": ("未通过审核", "有错误，暂不发布；更正后重新报送即可。"),
    "superseded": ("已被新版本取代", "同一单位同一期后来又报送了新版本。"),
}

SEVERITY = {
    "error": ("错误", "须更正后重新报送，报表在更正前不发布。"),
    "warn": ("警告", "报表已发布，请核实；属实的可填写上报说明。"),
}

# Each rule by name, with the one line an official needs to act on it.
CHECKS = {
    "subtotal_le_parent": ("其中项大于总数", "「其中」行不能（或一般不应）大于它所属的总数行。"),
    "rate_le_100": ("比率超过100%", "由两行算出的比率（如办结率、理赔率）不能超过100%。"),
    "ytd_equals_current": ("本年累计数与本期数不符",
                           "存量指标或年内第一期，本年累计数应等于本期数。"),
    "ytd_continuity": ("本年累计数不连续", "本年累计数应等于上期本年累计数加本期数。"),
    "parent_eq_sum_children": ("本级与下级合计不符", "可相加的指标，本级数应等于各下级之和。"),
    "outlier_history": ("与本单位以往数据差异大", "本期数远离本单位以往各期的中位数。"),
    "outlier_last_year": ("与上年同期差异大", "本期数超过上年同期的3倍或不到三分之一。"),
    "notice_vs_return": ("与通知/报道中的数字不符", "上级通知或公开报道中的数字与报表不一致。"),
    "completeness_missing": ("逾期未报", "截止日期已过，仍未收到报表。"),
    "completeness_late": ("逾期报送", "报表在截止日期之后才收到。"),
    "completeness_summary": ("下级未报齐", "有下级单位在截止日期后仍未报送。"),
}
GX_CHECK = ("数据格式核查", "报表的数据格式或取值范围不符合要求。")

CHANNELS = {"drop": "报送文件夹", "api": "报送系统"}
ACTIONS = {"explain": "说明", "approve": "审核", "withdraw": "撤销审核"}
DUE_DATE_SOURCES = {"notice": "上级通知规定", "default": "默认：期末后10日"}
_QUARTER_ZH = {"1": "一", "2": "二", "3": "三", "4": "四"}

# Column headings of every download, in the order the pages show them.
COLUMNS = {
    "unit_code": "单位代码",
    "unit_name": "单位",
    "period": "统计期",
    "form": "报表",
    "due_date": "截止日期",
    "due_date_source": "截止日期依据",
    "first_submitted_on": "报送日期",
    "timeliness": "报送情况",
    "latest_status": "最新版本状态",
    "quarantined": "被隔离的报送",
    "open_errors": "未解决错误",
    "open_warnings": "未解决警告",
    "explained": "已说明警告",
    "approved": "已审核",
    "subtree_expected": "下级应报",
    "subtree_reported": "下级已报",
    "subtree_missing": "下级未报",
    "subtree_late": "下级逾期",
    "subtree_with_errors": "下级有错误",
    "subtree_approved": "下级已审核",
    "indicator_code": "行次",
    "indicator_name": "指标",
    "unit": "计量单位",
    "value_current": "本期数",
    "value_ytd": "本年累计数",
    "value_last_year": "上年同期数",
    "sum_children": "下级合计",
    "diff": "差额",
    "children_reported": "下级已报",
    "children_expected": "下级应报",
    "children_blocked": "其中未通过审核",
    "return_status": "报表状态",
    "check": "问题类型",
    "severity": "级别",
    "message": "问题",
    "evidence": "依据",
    "state": "处理情况",
    "explanation": "上报说明",
    "explained_by": "说明人",
    "explained_at": "说明时间（北京）",
    "first_seen": "首次发现（北京）",
    "version": "版本",
    "channel": "渠道",
    "status": "状态",
    "submitted_at": "报送时间（北京）",
    "source_uri": "原始文件",
    "created_at": "时间（北京）",
    "action": "操作",
    "actor_email": "操作人",
    "detail": "内容",
}


def beijing_time(value: Any) -> str | None:
    """A warehouse timestamp (UTC) as Beijing time, to the minute (None stays None)."""
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return (moment + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")


def yes_no(value: Any) -> str:
    return "是" if value else "否"


def status_label(status: str | None) -> str:
    return SUBMISSION_STATUS.get(status or "", (status or "—", ""))[0]


def status_hint(status: str | None) -> str:
    return SUBMISSION_STATUS.get(status or "", ("", ""))[1]


def severity_label(severity: str | None) -> str:
    return SEVERITY.get(severity or "", (severity or "", ""))[0]


def check_label(check_name: str | None) -> tuple[str, str]:
    """The rule's name and its one-line explanation; GX expectations share one name."""
    name = check_name or ""
    if name.startswith("gx:"):
        return GX_CHECK
    return CHECKS.get(name, ("数据核查", ""))


def channel_label(channel: str | None) -> str:
    return CHANNELS.get(channel or "", channel or "—")


def period_label(period: str | None) -> str:
    """``2024Q4`` → 2024年第四季度, ``2024`` → 2024年（全年）, ``2024-03`` → 2024年3月."""
    text = str(period or "")
    if m := re.fullmatch(r"(\d{4})Q([1-4])", text):
        return f"{m[1]}年第{_QUARTER_ZH[m[2]]}季度"
    if re.fullmatch(r"\d{4}", text):
        return f"{text}年（全年）"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
        return f"{m[1]}年{int(m[2])}月"
    return text


def indicator_label(code: str | None, name: str | None) -> str:
    """A row as officials say it: 第08行「“两癌”筛查人数」; a derived rate by its name only."""
    if not code:
        return ""
    if code.isdigit():
        return f"第{code}行「{name}」" if name else f"第{code}行"
    return f"「{name}」" if name else ""


_MISSING = re.compile(r"^missing: (?P<codes>[\d, ]+)$")
_DUE = re.compile(r"^due (?P<due>\d{4}-\d{2}-\d{2}) \((?P<source>\w+)(?:, notice \w+)?\)$")
_RECEIVED = re.compile(r"^received (?P<got>\d{4}-\d{2}-\d{2}), due (?P<due>\d{4}-\d{2}-\d{2})$")
_CELLS = re.compile(r"^[^!/]+![A-Z]{1,3}\d+(?: / [^!/]+![A-Z]{1,3}\d+)*$")
_BILINGUAL = re.compile(r"(下级|未报) (?:children|missing): ")
_UNIT_CODE = re.compile(r"\((\d{12})\)")


def evidence_zh(evidence: str | None, unit_name: Callable[[str], str] | None = None) -> str:
    """A finding's evidence in Chinese, with units by name rather than by code.

    The checks store machine-friendly evidence (``missing: 621228208000``,
    ``due 2025-04-10 (default)``); officials read the names and the dates.
    """
    if not evidence:
        return ""
    name = unit_name or (lambda code: code)
    if m := _MISSING.match(evidence):
        codes = [c.strip() for c in m["codes"].split(",") if c.strip()]
        return "未报单位：" + "、".join(name(c) for c in codes)
    if m := _DUE.match(evidence):
        return f"截止日期 {m['due']}（{DUE_DATE_SOURCES.get(m['source'], m['source'])}）"
    if m := _RECEIVED.match(evidence):
        return f"报送日期 {m['got']}，截止日期 {m['due']}"
    if _CELLS.match(evidence):
        return f"报表单元格 {evidence}"
    text = _BILINGUAL.sub(lambda m: f"{m[1]}：", evidence)
    # 某镇(621228101000) 12 → 某镇 12: the name is what the official knows.
    return _UNIT_CODE.sub("", text)


def translate_row(row: Mapping[str, Any], columns: list[str]) -> dict[str, Any]:
    """One download row in officials' words: statuses, booleans and channels translated."""
    out: dict[str, Any] = {}
    for column in columns:
        value = row.get(column)
        if column == "timeliness":
            value = STATUS_LABELS.get(value, value)
        elif column in ("latest_status", "status", "return_status"):
            value = status_label(value) if value else None
        elif column in ("approved", "is_blocked"):
            value = yes_no(value)
        elif column == "due_date_source":
            value = DUE_DATE_SOURCES.get(value, value)
        elif column == "channel":
            value = channel_label(value)
        elif column == "action":
            value = ACTIONS.get(value, value)
        elif column == "severity":
            value = severity_label(value)
        elif column == "period":
            value = period_label(value)
        out[COLUMNS.get(column, column)] = value
    return out
