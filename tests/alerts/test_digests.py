"""Digests: each official sees their own subtree only, once per finding, over real SMTP."""

from __future__ import annotations

import email
from datetime import datetime
from email import policy

import pytest
from huizong.alerts.digest import build_digests
from huizong.alerts.transport import (
    OutboxTransport,
    SmtpTransport,
    deliver,
    smtp_from_url,
    transport_from_env,
)
from huizong.quality.findings import record
from huizong.quality.model import Finding

LIANGDANG, CHENGGUAN, ZHANERXIANG, RONGAN = (
    "621228000000", "621228100000", "621228101000", "450224000000",
)  # fmt: skip
RONGAN_TOWN = "450224100000"  # 长安镇


def _finding(unit: str, check: str, code: str, zh: str, severity: str = "error") -> Finding:
    return Finding(
        check_name=check, severity=severity, unit_code=unit, form="FL-01", period="2025Q1",
        indicator_code=code, observed=13, expected=12, evidence=f"Sheet1!D{int(code) + 5}",
        message_zh=zh, message_en=f"{unit} row {code} problem",
    )  # fmt: skip


FINDINGS = [
    _finding(CHENGGUAN, "subtotal_le_parent", "18", "城关镇第18行「其中：化解」13 大于第17行 12"),
    _finding(ZHANERXIANG, "outlier_history", "06", "站儿巷镇第06行远离历史中位数", "warn"),
    _finding(LIANGDANG, "parent_eq_sum_children", "08", "两当县第08行与下级合计不符"),
    _finding(RONGAN_TOWN, "subtotal_le_parent", "16", "长安镇第16行 办结件数大于受理件数"),
    Finding(
        check_name="completeness_missing",
        severity="warn",
        unit_code="621228102000",
        form="FL-01",
        period="2025Q1",
        message_zh="西坡镇 尚未报送 FL-01 2025Q1 报表",
        message_en="missing",
    ),
]


@pytest.fixture
def planted(engine):
    record(engine, FINDINGS, seen_at=datetime(2025, 4, 12, 8))
    return engine


def _by_recipient(digests):
    return {d.recipient: d for d in digests}


def test_each_official_sees_only_their_subtree(planted):
    digests = _by_recipient(build_digests(planted, run_id="run-1"))
    assert set(digests) == {
        "liu.fang@example.org", "zhang.min@example.org", "wang.li@example.org",
        "huang.mei@example.org",
    }  # fmt: skip
    units = {email: {item["unit_code"] for item in d.new} for email, d in digests.items()}
    assert units["liu.fang@example.org"] == {LIANGDANG, CHENGGUAN, ZHANERXIANG, "621228102000"}
    assert units["huang.mei@example.org"] == {RONGAN_TOWN}  # never 两当县's data
    assert units["zhang.min@example.org"] == {ZHANERXIANG}  # not the sibling 城关镇
    assert units["wang.li@example.org"] == {CHENGGUAN}

    county = digests["liu.fang@example.org"]
    body = county.body()
    assert "长安镇" not in body and "融安" not in body
    assert "城关镇第18行" in body and "Sheet1!D23" in body
    assert "三、未按时报送的下级单位" in body and "西坡镇" in body
    rongan = digests["huang.mei@example.org"].body()
    assert "两当" not in rongan and "城关镇" not in rongan


def test_digest_is_a_proper_utf8_email(planted):
    digest = _by_recipient(build_digests(planted, run_id="run-1"))["wang.li@example.org"]
    raw = digest.to_message().as_bytes()
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Message-ID"] == digest.message_id
    assert "城关镇妇联" in str(parsed["Subject"]) and "1个新问题" in str(parsed["Subject"])
    assert parsed["To"].addresses[0].addr_spec == "wang.li@example.org"
    assert parsed.get_content_charset() == "utf-8"
    assert "城关镇第18行" in parsed.get_content()
    assert all(b < 128 for b in raw.split(b"\n\n", 1)[0])  # headers are 7-bit encoded


def test_smtp_delivery_then_resend_sends_nothing_new(planted, smtp_server):
    host, port, inbox = smtp_server
    transport = SmtpTransport(host=host, port=port, sender="huizong@example.org")
    sent = deliver(build_digests(planted, run_id="run-1"), transport, engine=planted)
    assert len(sent) == 4 and len(inbox.envelopes) == 4
    arrived = {env.rcpt_tos[0]: email.message_from_bytes(env.content, policy=policy.default)
               for env in inbox.envelopes}  # fmt: skip
    huang = arrived["huang.mei@example.org"].get_content()
    assert "长安镇第16行" in huang and "两当" not in huang
    assert inbox.envelopes[0].mail_from == "huizong@example.org"

    assert build_digests(planted, run_id="run-2") == []
    assert deliver(build_digests(planted, run_id="run-2"), transport, engine=planted) == []
    assert len(inbox.envelopes) == 4


def test_resolved_findings_are_reported_once(planted, tmp_path):
    outbox = OutboxTransport(tmp_path / "outbox")
    deliver(build_digests(planted, run_id="run-1"), outbox, engine=planted)
    fixed_scope = {(CHENGGUAN, "FL-01", "2025Q1")}
    record(planted, [], seen_at=datetime(2025, 4, 20), scope=fixed_scope)

    digests = _by_recipient(build_digests(planted, run_id="run-2"))
    assert set(digests) == {"liu.fang@example.org", "wang.li@example.org"}
    for digest in digests.values():
        assert digest.new == []
        assert [item["unit_code"] for item in digest.resolved] == [CHENGGUAN]
        assert "四、已解决的问题" in digest.body()
    deliver(digests.values(), outbox, engine=planted)
    assert build_digests(planted, run_id="run-3") == []


def test_outbox_is_idempotent_per_run(planted, tmp_path):
    outbox = OutboxTransport(tmp_path / "outbox")
    digests = build_digests(planted, run_id="manual__2025-04-12T08:00:00+00:00")
    first = [outbox.send(d) for d in digests]
    second = [outbox.send(d) for d in digests]
    assert first == second
    files = sorted((tmp_path / "outbox").rglob("*.eml"))
    assert len(files) == 4
    assert files[0].name == "manual__2025-04-12T08_00_00+00_00.eml"


def test_transport_from_env(monkeypatch, tmp_path):
    monkeypatch.delenv("AIRFLOW_CONN_HUIZONG_SMTP", raising=False)
    monkeypatch.delenv("HUIZONG_SMTP_URL", raising=False)
    monkeypatch.setenv("HUIZONG_OUTBOX_DIR", str(tmp_path / "box"))
    outbox = transport_from_env()
    assert isinstance(outbox, OutboxTransport) and outbox.directory == tmp_path / "box"

    monkeypatch.setenv("HUIZONG_SMTP_URL", "smtp://mailer:s%40cret-Rk7wQ2@mail.internal:587")
    smtp = transport_from_env()
    assert isinstance(smtp, SmtpTransport)
    assert (smtp.host, smtp.port, smtp.user, smtp.password, smtp.starttls) == (
        "mail.internal", 587, "mailer", "s@cret-Rk7wQ2", True,
    )  # fmt: skip
    assert "s@cret-Rk7wQ2" not in repr(smtp)
    assert smtp_from_url("smtps://h").port == 465 and smtp_from_url("smtps://h").ssl
