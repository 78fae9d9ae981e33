"""Issue 18 (3, 4): one Chinese vocabulary on pages, downloads and e-mail; findings as
tables; quotes link to the stored copy of the notice's page."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import datetime

import sqlalchemy as sa
from huizong.web import present, queries, vocab

from tests.web.conftest import HETANG, PERIOD

FORM = "FL-01"
ENGLISH = re.compile(r"\b(on_time|late|missing|pending|published_with_warnings|blocked|"
                     r"superseded|published|True|False|drop|api|explain|approve)\b")


def _csv(client, table: str) -> list[list[str]]:
    body = client.get(f"/table/{HETANG}/{table}.csv", params={"period": PERIOD})
    assert body.status_code == 200
    return list(csv.reader(io.StringIO(body.content.decode("utf-8-sig"))))


def test_downloads_speak_chinese(world, login):
    client = login(HETANG)
    children = _csv(client, "children")
    assert children[0][:3] == ["单位", "单位代码", "统计期"]
    assert "报送情况" in children[0] and "timeliness" not in children[0]
    text = "\n".join(",".join(r) for r in children)
    assert not ENGLISH.search(text), ENGLISH.search(text)
    assert "逾期" in text and "未报" in text and "否" in text and "2024年第四季度" in text
    rows = _csv(client, "rows")
    assert rows[0][:3] == ["统计期", "行次", "指标"]
    assert "未通过审核" not in rows[1]  # the county's own return was published
    versions = _csv(client, "versions")
    assert versions[0] == ["统计期", "版本", "渠道", "状态", "报送时间（北京）", "原始文件"]
    assert versions[1][2] == "报送文件夹" and versions[1][3] == "已发布"
    findings = _csv(client, "findings")
    assert findings[0][:4] == ["统计期", "级别", "问题类型", "行次"]
    assert findings[1][1] == "警告" and findings[1][2] == "本级与下级合计不符"


def test_unit_page_words(world, login):
    town = world.hetang_towns[0]  # its return was blocked, with an error
    html = login(HETANG).get(f"/unit/{town}", params={"period": PERIOD}).text
    shown = re.sub(r"<[^>]+>", " ", html)  # what the official reads, not class names
    assert "未通过审核" in shown and not ENGLISH.search(shown), ENGLISH.search(shown)
    assert "其中项大于总数" in shown and "第12行「" in shown  # rule and row in words
    assert "报送文件夹" in shown and "须更正后重新报送" in shown


def test_evidence_names_units_and_dates_in_chinese(world):
    towns = world.hetang_towns
    world.warehouse.finding(HETANG, PERIOD, "completeness_summary", "warn",
                            message_zh="有 1 个下级尚未报送",
                            evidence=f"missing: {towns[2]}, {towns[1]}")
    world.warehouse.finding(towns[2], PERIOD, "completeness_missing", "warn",
                            message_zh="尚未报送", evidence="due 2025-01-10 (default)")
    views = {v["check_name"]: v for v in present.describe(
        world.engine, queries.unit_findings(world.engine, HETANG, FORM, PERIOD)
        + queries.unit_findings(world.engine, towns[2], FORM, PERIOD))}
    assert views["completeness_summary"]["evidence_text"] == "未报单位：荷塘区第3镇、荷塘区第2镇"
    due = views["completeness_missing"]["evidence_text"]
    assert due == "截止日期 2025-01-10（默认：期末后10日）"
    assert vocab.evidence_zh("下级 children: 某镇(621228101000) 12；未报 missing: 乙镇") == (
        "下级：某镇 12；未报：乙镇")


def test_rate_finding_is_named_not_coded(world):
    world.warehouse.finding(world.hetang_towns[1], PERIOD, "rate_le_100", "error",
                            indicator_code="R03", message_zh="理赔率超过100%")
    (view,) = [v for v in present.describe(world.engine, queries.unit_findings(
        world.engine, world.hetang_towns[1], FORM, PERIOD)) if v["indicator_code"] == "R03"]
    assert view["place"] == "「理赔率」" and view["check_label"] == "比率超过100%"
    assert view["severity_label"] == "错误"


def test_many_row_finding_is_a_table_with_right_aligned_numbers(world, login):
    # The aggregated "not all children reported" warning lists every row in its evidence.
    rows_text = "；".join(f"第{i:02d}行 本级 {i} 下级合计 {i}" for i in range(1, 23))
    world.warehouse.finding(HETANG, PERIOD, "parent_eq_sum_children", "warn",
                            message_zh="下级尚未报齐（2/3 个下级已报），" + "、".join(
                                f"第{i:02d}行" for i in range(1, 23)) + "本级数高于已报下级之和",
                            evidence=rows_text + "；未报 missing: 荷塘区第3镇")
    html = login(HETANG).get(f"/unit/{HETANG}", params={"period": PERIOD}).text
    tables = re.findall(r'<table class="finding-rows stack">.*?</table>', html, re.S)
    big = max(tables, key=len)
    assert big.count("<tr>") == 1 + 22
    assert '<th class="n">本级</th><th class="n">下级合计</th><th class="n">差额</th>' in big
    assert big.count('<td class="n"') == 22 * 3
    assert "第01行「" in big and "第22行「" in big
    assert "第01行、第02行、第03行" not in html  # no 22-row sentence


def _store_notice(world, raw_path: str, url: str = "http://portal.example/n/1.html") -> str:
    notice_id = hashlib.sha256(url.encode()).hexdigest()
    sha = hashlib.sha256(raw_path.encode()).hexdigest()
    with world.engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO raw_page (portal_id, url, sha256, final_url, partition_key, fetched_at, "
            "http_status, encoding, raw_path) VALUES ('p1', :url, :sha, :url, '2025-01-01', "
            ":at, 200, 'gbk', :path)"), {"url": url, "sha": sha, "at": datetime(2025, 1, 1),
                                         "path": raw_path})
        conn.execute(sa.text(
            "INSERT INTO notice (notice_id, portal_id, url, raw_sha256, title, first_seen) "
            "VALUES (:nid, 'p1', :url, :sha, '通知', :at)"),
            {"nid": notice_id, "url": url, "sha": sha, "at": datetime(2025, 1, 1)})
    return notice_id


def test_quote_links_to_the_stored_copy_of_the_notice(world, login):
    raw = world.warehouse.raw_dir / "portal" / "p1" / "2025-01-01" / "page.body"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_bytes("<html><body><script>alert(1)</script>全年筛查900余人</body></html>"
                    .encode("gbk"))
    notice_id = _store_notice(world, str(raw))
    town = world.hetang_towns[1]
    world.warehouse.finding(town, PERIOD, "notice_vs_return", "warn", indicator_code="08",
                            message_zh="通知称不少于 900",
                            evidence="「全年筛查900余人」 http://portal.example/n/1.html")
    client = login(HETANG)
    html = client.get(f"/unit/{town}", params={"period": PERIOD}).text
    assert f'href="/notice/{notice_id}"' in html and "portal.example" not in html
    page = client.get(f"/notice/{notice_id}")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=gbk"
    assert "全年筛查900余人" in page.content.decode("gbk")
    policy = page.headers["content-security-policy"]
    assert policy.startswith("sandbox") and "script-src" not in policy  # default-src 'none'

    # Only stored pages, only by a notice's id.
    outside = _store_notice(world, "/etc/passwd", "http://portal.example/evil")
    assert client.get(f"/notice/{outside}").status_code == 404
    for bad in ("..%2F..%2Fetc%2Fpasswd", "1", "x" * 64, notice_id.upper()):
        assert client.get(f"/notice/{bad}").status_code == 404, bad
    from fastapi.testclient import TestClient

    assert TestClient(client.app).get(f"/notice/{notice_id}").status_code == 401
