"""One e-mail per official per run about their own unit and its subtree only.

A digest lists the findings the official has not been told about yet (the cell
or notice quote behind each, and what to do), the findings resolved since they
were told, and subordinate units that are missing or late. ``alert_sent``
remembers what went to whom, so a finding is announced once and its
resolution once. The subtree comes from ``dim_org_unit.parent_code`` in SQL: a
county official's digest can only contain rows joined to their own subtree.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from huizong.alerts.recipients import Recipient, list_recipients
from huizong.textsafe import safe_text
from huizong.web import present, vocab
from huizong.web.auth import LINK_DAYS

log = logging.getLogger(__name__)
DEFAULT_SENDER = "huizong@localhost"

_SUBTREE_CTE = """
WITH RECURSIVE subtree (unit_code) AS (
    SELECT unit_code FROM recipient WHERE email = :email
    UNION
    SELECT u.unit_code
    FROM dim_org_unit AS u
    INNER JOIN subtree AS s ON u.parent_code = s.unit_code
    WHERE u.valid_to IS NULL
)
"""

_FINDING_COLUMNS = """
f.finding_id, f.check_name, f.severity, f.unit_code, f.form, f.indicator_code, f.period,
f.observed, f.expected, f.evidence, f.message_zh, f.message_en, f.first_seen, f.resolved_at,
u.name AS unit_name, i.name AS indicator_name
"""

_JOINS = """
FROM finding AS f
INNER JOIN subtree AS t ON f.unit_code = t.unit_code
LEFT JOIN dim_org_unit AS u ON f.unit_code = u.unit_code AND u.valid_to IS NULL
LEFT JOIN dim_indicator AS i ON f.form = i.form AND f.indicator_code = i.indicator_code
"""

NEW_SQL = (
    _SUBTREE_CTE
    + f"SELECT {_FINDING_COLUMNS} {_JOINS}"
    + """
WHERE f.resolved_at IS NULL
  AND NOT EXISTS (
    SELECT 1 FROM alert_sent AS a
    WHERE a.finding_id = f.finding_id AND a.email = :email AND a.kind = 'new'
  )
ORDER BY CASE WHEN f.severity = 'error' THEN 0 ELSE 1 END, f.unit_code, f.period, f.indicator_code
"""
)

RESOLVED_SQL = (
    _SUBTREE_CTE
    + f"SELECT {_FINDING_COLUMNS} {_JOINS}"
    + """
WHERE f.resolved_at IS NOT NULL
  AND EXISTS (
    SELECT 1 FROM alert_sent AS a
    WHERE a.finding_id = f.finding_id AND a.email = :email AND a.kind = 'new'
  )
  AND NOT EXISTS (
    SELECT 1 FROM alert_sent AS a
    WHERE a.finding_id = f.finding_id AND a.email = :email AND a.kind = 'resolved'
  )
ORDER BY f.unit_code, f.period, f.indicator_code
"""
)


def _is_completeness(item: dict) -> bool:
    return str(item["check_name"]).startswith("completeness_")


@dataclass
class Digest:
    recipient: str  # e-mail address
    name: str
    unit_codes: list[str]
    unit_names: list[str]
    run_id: str  # in a header for engineers (X-Huizong-Run-Id), never in the text
    new: list[dict] = field(default_factory=list)
    resolved: list[dict] = field(default_factory=list)
    sender: str = DEFAULT_SENDER
    links: list[str] = field(default_factory=list)  # signed sign-in links, one per unit
    # (unit name, period, count, link): links that open the page holding those findings
    finding_links: list[tuple[str, str, int, str]] = field(default_factory=list)
    web_base: str = ""  # where the officials' pages are, for quote links

    @property
    def message_id(self) -> str:
        # Same run, same recipient → same id: a retried delivery is recognisably a duplicate.
        digest = hashlib.sha256(f"{self.run_id}|{self.recipient}".encode()).hexdigest()[:32]
        domain = self.sender.rsplit("@", 1)[-1] or "huizong.invalid"
        return f"<{digest}@{domain}>"

    @property
    def subject(self) -> str:
        units = "、".join(safe_text(name, one_line=True) for name in self.unit_names)
        parts = []
        if self.new:
            parts.append(f"{len(self.new)}个新问题")
        if self.resolved:
            parts.append(f"{len(self.resolved)}个已解决")
        return f"【妇联统计汇总】{units}：{'，'.join(parts)}"

    def body(self) -> str:
        errors = [f for f in self.new if f["severity"] == "error" and not _is_completeness(f)]
        warns = [f for f in self.new if f["severity"] != "error" and not _is_completeness(f)]
        late = [f for f in self.new if _is_completeness(f)]
        lines = [
            f"{self.name}：您好！",
            "",
            f"以下是最近一次统计数据核查中与{'、'.join(self.unit_names)}及下属单位有关的结果。",
            "",
        ]
        if self.links:
            lines += [
                f"在线查看、填写说明与审核（链接{LINK_DAYS}天内有效，请勿转发）：",
                *self.links,
                "",
            ]
        if self.finding_links:
            lines.append("各单位、各统计期的问题，点击直接打开所在页面：")
            for unit_name, period, count, link in self.finding_links:
                lines.append(f"· {unit_name} {vocab.period_label(period)}（{count}条）：{link}")
            lines.append("")
        sections = (
            ("一、需要更正的问题（错误：该报表暂不发布，更正后重新报送）", errors),
            ("二、请核实的问题（警告：报表已发布，请核实；属实的请在页面上填写上报说明）", warns),
            ("三、未按时报送的下级单位", late),
        )
        for title, items in sections:
            if not items:
                continue
            lines += [title, ""]
            for n, item in enumerate(items, start=1):
                lines += _item_lines(n, item, self.web_base)
        if self.resolved:
            lines += ["四、已解决的问题", ""]
            for n, item in enumerate(self.resolved, start=1):
                lines.append(f"{n}. 已解决：{item['message_zh']}")
                lines.append("")
        lines += [
            "如对以上结果有疑问，请与上级妇联统计联络员联系。本邮件由系统自动发送，请勿直接回复。",
        ]
        # names, messages and evidence quote what units typed: shown, never obeyed
        return "\n".join(safe_text(line, one_line=True) for line in lines) + "\n"

    def to_message(self) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = self.subject
        message["From"] = formataddr(("妇联统计汇总平台", self.sender))
        message["To"] = formataddr((safe_text(self.name, one_line=True), self.recipient))
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = self.message_id
        message["Auto-Submitted"] = "auto-generated"
        message["X-Huizong-Run-Id"] = self.run_id
        message.set_content(self.body(), charset="utf-8")
        return message

    @property
    def message(self) -> EmailMessage:
        return self.to_message()


def _fmt(value) -> str:
    if value is None:
        return "—"
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"


def _item_lines(n: int, item: dict, web_base: str = "") -> list[str]:
    """One finding in the words of the pages (:mod:`huizong.web.vocab`), figures as they count."""
    tag = item.get("severity_label") or vocab.severity_label(item["severity"])
    check = item.get("check_label") or vocab.check_label(item.get("check_name"))[0]
    where = " · ".join(
        x for x in (item.get("unit_name"), vocab.period_label(item.get("period")),
                    item.get("place")) if x
    )
    lines = [f"{n}. [{tag}] {check}：{where}", f"   {item.get('message') or item['message_zh']}"]
    if item.get("table"):
        lines += present.table_lines(item["table"], _fmt)
        if item.get("note"):
            lines.append(f"   {item['note']}")
    elif item.get("quote"):
        lines.append(f"   依据：通知/报道原文「{item['quote']}」")
        if item.get("notice_id") and web_base:
            lines.append(f"   平台保存的原文：{web_base.rstrip('/')}/notice/{item['notice_id']}")
    elif item.get("evidence_text") or item.get("evidence"):
        lines.append(f"   依据：{item.get('evidence_text') or item['evidence']}")
    if not item.get("table") and not _is_completeness(item) and (
        item.get("observed") is not None or item.get("expected") is not None
    ):
        lines.append(f"   填报值 {_fmt(item.get('observed'))}；参照值 {_fmt(item.get('expected'))}")
    if item.get("check_hint"):
        lines.append(f"   （{item['check_hint']}）")
    lines.append("")
    return lines


def _rows(conn, sql: str, email: str) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(sa.text(sql), {"email": email})]


WEB_BASE_URL_ENV = "HUIZONG_WEB_BASE_URL"
DEFAULT_WEB_BASE_URL = "http://127.0.0.1:8080/huizong"


def _web_secret() -> str | None:
    from huizong.web.auth import SecretMissing, resolve_secret

    try:
        return resolve_secret()
    except SecretMissing:
        log.warning("no HUIZONG_WEB_SECRET: digests go out without sign-in links")
        return None


def web_base_url() -> str:
    return os.environ.get(WEB_BASE_URL_ENV, DEFAULT_WEB_BASE_URL)


def sign_in_links(email: str, unit_codes: list[str]) -> list[str]:
    """Links to the officials' pages, scoped to each unit's subtree, or none without a secret."""
    from datetime import timedelta

    from huizong.web.auth import make_link

    secret = _web_secret()
    if secret is None:
        return []
    return [
        make_link(email, code, timedelta(days=LINK_DAYS), secret=secret, base_url=web_base_url())
        for code in unit_codes
    ]


def finding_links(
    engine: Engine, email: str, unit_codes: list[str], items: list[dict]
) -> list[tuple[str, str, int, str]]:
    """One sign-in link per (unit, period) with findings, opening the page that holds them.

    The link is signed for the recipient's own unit (their scope); ``unit`` and
    ``period`` only say where it opens, and the app checks the unit is in scope.
    """
    from datetime import timedelta

    from huizong.web.auth import make_link
    from huizong.web.queries import in_subtree

    secret = _web_secret()
    if secret is None:
        return []
    groups: dict[tuple[str, str], list[dict]] = {}
    for item in items:
        groups.setdefault((str(item["unit_code"]).strip(), str(item["period"])), []).append(item)
    out = []
    for (unit_code, period), found in groups.items():
        scope = next((c for c in unit_codes if in_subtree(engine, c, unit_code)), None)
        if scope is None:
            continue
        link = make_link(email, scope, timedelta(days=LINK_DAYS), secret=secret,
                         base_url=web_base_url())
        query = urlencode({"unit": unit_code, "period": period})
        name = found[0].get("unit_name") or unit_code
        out.append((name, period, len(found), f"{link}?{query}"))
    return out


def build_digests(engine: Engine, *, run_id: str, sender: str | None = None) -> list[Digest]:
    """A digest for every recipient with something new or resolved in their subtree."""
    sender = sender or os.environ.get("HUIZONG_MAIL_FROM", DEFAULT_SENDER)
    by_email: dict[str, list[Recipient]] = {}
    for recipient in list_recipients(engine):
        by_email.setdefault(recipient.email, []).append(recipient)
    from huizong.web.queries import explained_finding_ids

    # A warning its unit has explained on the officials' pages is not news any more.
    explained = explained_finding_ids(engine)
    counted: dict = {}  # (unit, period) → consolidation, shared by every recipient's digest
    digests: list[Digest] = []
    with engine.connect() as conn:
        names = {
            r.unit_code.strip(): r.name
            for r in conn.execute(
                sa.text(
                    "SELECT u.unit_code, u.federation_name AS name FROM dim_org_unit AS u "
                    "INNER JOIN recipient AS r ON u.unit_code = r.unit_code "
                    "WHERE u.valid_to IS NULL"
                )
            )
        }
        for email, registrations in sorted(by_email.items()):
            new = [r for r in _rows(conn, NEW_SQL, email) if r["finding_id"] not in explained]
            resolved = _rows(conn, RESOLVED_SQL, email)
            if not new and not resolved:
                continue
            # In the pages' words and with the figures as the pages count them.
            new = present.describe(engine, new, consolidations=counted)
            codes = [r.unit_code for r in registrations]
            digests.append(
                Digest(
                    recipient=email,
                    name=registrations[0].name,
                    unit_codes=codes,
                    unit_names=[names.get(c, c) for c in codes],
                    run_id=run_id,
                    new=new,
                    resolved=resolved,
                    sender=sender,
                    links=sign_in_links(email, codes),
                    finding_links=finding_links(engine, email, codes, new),
                    web_base=web_base_url(),
                )
            )
    return digests


def mark_sent(engine: Engine, digest: Digest, *, sent_at: datetime | None = None) -> int:
    """Remember what this digest told its recipient, so it is not told twice."""
    sent_at = (sent_at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    rows = [
        {"finding_id": item["finding_id"], "email": digest.recipient, "kind": kind,
         "sent_at": sent_at, "message_id": digest.message_id}
        for kind, items in (("new", digest.new), ("resolved", digest.resolved))
        for item in items
    ]  # fmt: skip
    if not rows:
        return 0
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO alert_sent (finding_id, email, kind, sent_at, message_id) "
                "VALUES (:finding_id, :email, :kind, :sent_at, :message_id) "
                "ON CONFLICT (finding_id, email, kind) DO NOTHING"
            ),
            rows,
        )
    return len(rows)
