"""The output layer (huizong.textsafe) and every sink that uses it.

Submitted text — a unit name, a note, a file name, a problem's cell value —
reaches people through JSON, CSV, web pages, e-mail and the terminal. In none
of them may it run as a spreadsheet formula or act as a control sequence.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from pathlib import Path

import pytest
from huizong.textsafe import (
    has_controls,
    looks_like_formula,
    page_safe,
    safe_json,
    safe_text,
    visible,
    without_controls,
)

from tests.web.conftest import HETANG, PERIOD, app, login, world  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_corpus import CONTROL_NAMES, FORMULA_TEXTS

FORMULAS = [*FORMULA_TEXTS.values(), "=1+1", "＋A1", "@A1", "-A1+B1", "\x00=1"]
PLAIN = ["站儿巷镇妇联", "1,234.50", "-", "=", "a=b", "'=1+1", ""]
SIGNED_NUMBERS = ["-5", "+3.5", "-12%", "-1,234.50"]


@pytest.mark.parametrize("text", FORMULAS, ids=range(len(FORMULAS)))
def test_formula_looking_text_is_prefixed_and_kept(text: str) -> None:
    assert looks_like_formula(text)
    safe = safe_text(text)
    assert not looks_like_formula(safe)
    # prefixed with ', or its leading control shown as a picture (NUL as ␀)
    assert safe.startswith("'") or safe[0] != text[0]
    assert visible(text) in safe  # the text itself survives, shown


@pytest.mark.parametrize("text", PLAIN)
def test_numbers_and_ordinary_text_are_left_alone(text: str) -> None:
    assert not looks_like_formula(text)
    assert safe_text(text) == text


@pytest.mark.parametrize("name", sorted(CONTROL_NAMES))
def test_control_and_bidi_characters_are_made_visible(name: str) -> None:
    text = CONTROL_NAMES[name]
    assert has_controls(text)
    shown = visible(text, one_line=True)
    assert not has_controls(shown)
    assert "站儿巷镇" in shown
    assert without_controls(text) != text and not has_controls(without_controls(text))


def test_visible_stand_ins_say_what_was_there() -> None:
    assert visible("a\x1b[31mb") == "a\u241b[31mb"  # ␛
    assert visible("a\u202eb") == "a[U+202E]b"
    assert visible("a\x85b") == "a[U+0085]b"
    assert visible("a_x001B_b") == "a\u241bb"  # Excel's escape of ESC
    assert visible("a_x0041_b") == "a_x0041_b"  # an escape of a letter is harmless text
    assert visible("a\tb\nc") == "a\tb\nc"
    assert visible("a\tb\nc", one_line=True) == "a\u2409b\u240ac"


def test_safe_json_is_strict_and_walks_keys_and_values() -> None:
    doc = {"=k": [float("nan"), float("inf"), -math.inf, 1.5, "@SUM(1)", {"x": "\x07"}]}
    safe = safe_json(doc)
    assert safe == {"'=k": [None, None, None, 1.5, "'@SUM(1)", {"x": "\u2407"}]}
    json.dumps(safe, allow_nan=False)


@pytest.mark.parametrize("text", SIGNED_NUMBERS)
def test_signed_number_text_is_prefixed_as_owasp_says_but_shown_plain_on_pages(text: str) -> None:
    assert safe_text(text) == "'" + text
    assert page_safe(text) == text


def test_page_safe_leaves_markup_and_tokens_alone() -> None:
    from markupsafe import Markup

    assert page_safe(Markup("<b>-x</b>")) == Markup("<b>-x</b>")
    assert page_safe("-AbC_9-x") == "-AbC_9-x"  # a base64url CSRF token may start with "-"
    assert page_safe("-cmd|' /C calc'!A0") == "'-cmd|' /C calc'!A0"
    assert page_safe(5) == 5


# --------------------------------------------------------------------------- sinks


def test_returns_parse_table_output_shows_controls_and_defuses_formulas(tmp_path: Path) -> None:
    from huizong.returns.cli import format_table
    from huizong.returns.parse import ParsedReturn, Problem

    parsed = ParsedReturn(
        unit_code="621228101000",
        unit_name="=cmd|' /C calc'!A0",
        period="2024Q4",
        rows={"01": {"current": 1, "ytd": None, "last_year": None}},
        problems=[Problem("01", "current", "S\u202e!D4", "\x1b]0;x\x07", "msg\x1b[2J")],
        sheet="S\x1b[31m",
    )
    text = format_table(parsed)
    assert not has_controls(text.replace("\n", ""))
    assert "'=cmd|' /C calc'!A0" in text


def test_analyst_csv_shows_controls(tmp_path: Path) -> None:
    from huizong.warehouse.cli import write_csv, write_table

    out = io.StringIO()
    write_csv(["unit_name"], [("站\x1b[31m联\u202e",)], out)
    (cell,) = list(csv.reader(io.StringIO(out.getvalue())))[1]
    assert cell == "站\u241b[31m联[U+202E]"
    table = io.StringIO()
    write_table(["unit_name"], [("站\x1b[31m联",), ("=1+1",)], table)
    assert "\x1b" not in table.getvalue()


def test_web_csv_export_is_neutralised() -> None:
    from huizong.web.export import to_csv

    body = to_csv(["unit_name", "diff"], [{"unit_name": "@SUM(1)\x07", "diff": -5}]).decode(
        "utf-8-sig"
    )
    row = list(csv.reader(io.StringIO(body)))[1]
    assert row == ["'@SUM(1)\u2407", "-5"]


def test_pages_show_hostile_unit_names_inert(world, login) -> None:  # noqa: F811
    import sqlalchemy as sa

    hostile = '=HYPERLINK("http://evil.example/","点我")\u202e\x1b[31m'
    with world.engine.begin() as conn:
        town = conn.execute(
            sa.text(
                "SELECT unit_code FROM dim_org_unit WHERE parent_code = :p AND valid_to IS NULL "
                "ORDER BY unit_code LIMIT 1"
            ),
            {"p": HETANG},
        ).scalar_one()
        conn.execute(
            sa.text("UPDATE dim_org_unit SET name = :n WHERE unit_code = :u"),
            {"n": hostile, "u": town},
        )
    html = login(HETANG).get(f"/subtree/{HETANG}", params={"period": PERIOD}).text
    assert "&#39;=HYPERLINK(" in html or "'=HYPERLINK(" in html
    assert ">=HYPERLINK" not in html
    assert "\u202e" not in html and "\x1b" not in html
    assert "[U+202E]" in html


def test_digest_email_never_carries_controls_or_formulas() -> None:
    from huizong.alerts.digest import Digest

    digest = Digest(
        recipient="official@example.cn",
        name="=cmd|' /C calc'!A0",
        unit_codes=["621228101000"],
        unit_names=["站儿巷镇\u202e联妇\x1b[2J"],
        run_id="run-1",
        new=[
            {
                "severity": "error",
                "check_name": "range",
                "message_zh": "@SUM(1)\x07",
                "message_en": "\x1b]0;title\x07",
                "evidence": "+1+1",
            }
        ],
    )
    message = digest.to_message()
    subject = str(message["Subject"])
    assert "\u202e" not in subject and "\x1b" not in subject
    body = message.get_content()
    assert not has_controls(body.replace("\n", ""))
    for line in body.splitlines():
        assert not looks_like_formula(line.strip()), line
    assert "'=cmd|' /C calc'!A0" in body


def test_quarantine_list_shows_submitted_names_inert(monkeypatch, capsys) -> None:
    from datetime import datetime

    from huizong.returns.model import QuarantineRecord, ReceivedReturn
    from huizong.warehouse import cli, load

    received = ReceivedReturn(
        channel="drop",
        source_uri="621228101000/FL-01/2024Q4/\x1b]0;owned\x07FL-01\u202exslx.exe",
        submitted_unit_code="621228101000",
        form="FL-01",
        period="2024Q4",
        raw_sha256="0" * 64,
        raw_path="/tmp/x",
        received_at=datetime(2025, 1, 10),
    )
    entry = load.QuarantineEntry(
        quarantine_id="q" * 64,
        status="held",
        reason="unreadable",
        detail="FL-01\u202exslx.exe: 文件已损坏\x1b[2J",
        created_at=datetime(2025, 1, 10),
        released_at=None,
        record=QuarantineRecord(received, "unreadable", "x"),
    )
    monkeypatch.setattr(load, "list_quarantine", lambda engine, status=None: [entry])
    monkeypatch.setattr(cli, "_engine", lambda args: None)
    import argparse

    assert cli.cmd_quarantine_list(argparse.Namespace(status="all", verbose=True)) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out and "\x07" not in out
    assert "[U+202E]" in out
