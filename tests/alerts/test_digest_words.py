"""Issue 18 (3, 4) in the e-mail: the pages' words, unit names, no run id, findings' figures
counted as the page counts them, and links that open the page holding the findings."""

from __future__ import annotations

import re
from datetime import datetime

from huizong.alerts.digest import build_digests
from huizong.quality.findings import record
from huizong.quality.model import Finding
from huizong.web import queries
from huizong.web.sample import SampleWarehouse

LIANGDANG, XIPO = "621228000000", "621228102000"
RUN_ID = "scheduled__2025-04-12T08:00:00+00:00"


def _digest(engine, email: str = "liu.fang@example.org"):
    (digest,) = [d for d in build_digests(engine, run_id=RUN_ID) if d.recipient == email]
    return digest


def test_digest_speaks_the_pages_words(engine):
    record(engine, [
        Finding(check_name="outlier_history", severity="warn", unit_code=XIPO, form="FL-01",
                period="2025Q1", indicator_code="06", observed=900, expected=120,
                evidence="Sheet1!D11", message_zh="西坡镇第06行远离历史中位数",
                message_en="621228102000 row 06 far from median"),
        Finding(check_name="completeness_summary", severity="warn", unit_code=LIANGDANG,
                form="FL-01", period="2025Q1", observed=11, expected=12,
                evidence=f"missing: {XIPO}", message_zh="两当县 的 12 个下级单位中有 1 个尚未报送",
                message_en="1 of 12"),
    ], seen_at=datetime(2025, 4, 12, 8))
    digest = _digest(engine)
    body = digest.body()
    assert RUN_ID not in body and "scheduled" not in body
    assert digest.to_message()["X-Huizong-Run-Id"] == RUN_ID  # kept for engineers
    assert "[警告]" in body and "提示" not in body
    assert "与本单位以往数据差异大" in body and "第06行「" in body
    assert "未报单位：西坡镇" in body and XIPO not in body.split("http")[0]
    for english in ("Evidence", "observed", "expected", "EN:", "Warnings", "Results",
                    "data quality digest", "far from median"):
        assert english not in body and english not in digest.subject, english
    assert "填报值 900；参照值 120" in body and "依据：报表单元格 Sheet1!D11" in body


def test_parent_sum_finding_in_the_email_is_the_pages_table(engine, tmp_path):
    warehouse = SampleWarehouse(engine, tmp_path / "raw")
    towns = [str(u["unit_code"]).strip() for u in queries.children(engine, LIANGDANG)]
    for n, town in enumerate(towns[:11]):
        warehouse.submit(town, "2025Q1", {"08": 10.0 + n},
                         status="blocked" if n == 10 else "published")
    warehouse.submit(LIANGDANG, "2025Q1", {"08": 200.0})
    record(engine, [Finding(
        check_name="parent_eq_sum_children", severity="warn", unit_code=LIANGDANG,
        form="FL-01", period="2025Q1", evidence="第08行 本级 200 下级合计 165；未报 missing: x",
        message_zh="两当县 2025Q1 下级尚未报齐（11/12 个下级已报），第08行本级数高于已报下级之和",
        message_en="x")], seen_at=datetime(2025, 4, 12, 8))
    row = next(r for r in queries.return_rows(engine, LIANGDANG, "FL-01", "2025Q1")
               if r["indicator_code"] == "08")
    assert (row["value_current"], row["sum_children"], row["children_reported"]) == (200, 165, 11)
    body = _digest(engine).body()
    assert "   行次/指标 | 本级 | 下级合计 | 差额" in body
    assert re.search(r"第08行「“两癌”免费筛查人数」 \| 200 \| 165 \| 35", body)
    assert "含1份未通过审核的报表" in body


def test_each_unit_and_period_gets_a_link_to_its_page(engine, monkeypatch):
    monkeypatch.setenv("HUIZONG_WEB_SECRET", "digest-tests-secret-" + "0" * 32)
    monkeypatch.setenv("HUIZONG_WEB_BASE_URL", "https://stats.example/huizong")
    record(engine, [
        Finding(check_name=f"notice_vs_return{n}", severity="warn", unit_code=XIPO,
                form="FL-01", period="2024", message_zh=f"年度警告{n}", message_en="x")
        for n in range(4)
    ], seen_at=datetime(2025, 4, 12, 8))
    body = _digest(engine).body()
    (line,) = [x for x in body.splitlines() if x.startswith("· 西坡镇 2024年（全年）（4条）")]
    assert re.search(r"https://stats\.example/huizong/l/\S+\?unit=621228102000&period=2024$",
                     line)
