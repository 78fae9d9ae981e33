from __future__ import annotations

import argparse
import csv
import io
import json
from pathlib import Path

import pytest
from huizong.portal.extract_cli import register, run

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "include" / "huizong" / "data" / "corpus"
PAGES = REPO / "tests" / "gold" / "pages"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="huizong")
    register(root.add_subparsers())
    return root


def invoke(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    args = parser().parse_args(argv)
    code = args.func(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_jsonl_one_object_per_statistic(capsys: pytest.CaptureFixture[str]) -> None:
    page = next(CORPUS.glob("004_*.txt"))
    code, out, err = invoke(["extract", str(page)], capsys)
    assert code == 0 and err == ""
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 19
    assert rows[0]["file"] == str(page)
    assert {r["org_code"] for r in rows} == {"621228101000"}
    assert any(r["quote"].endswith("588人") and r["value"] == 588 for r in rows)


def test_csv_with_header_and_org_option(capsys: pytest.CaptureFixture[str]) -> None:
    page = next(CORPUS.glob("002_*.txt"))
    code, out, _ = invoke(
        [
            "extract",
            "--format",
            "csv",
            "--org",
            "北海市妇联",
            "--published",
            "2021-08-10",
            str(page),
        ],
        capsys,
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 7
    assert rows[0]["org"] == "北海市" and rows[0]["org_code"] == "450500000000"
    money = next(r for r in rows if r["unit"] == "元")
    assert money["value"] == "2300000" and money["qualifier"] == "at_least"


def test_gbk_html_page_is_decoded(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(["extract", str(PAGES / "p02_city_table_gbk.html")], capsys)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert sum(1 for r in rows if r["kind"] == "table") == 19
    assert any(r["row_header"] == "秀洲区" for r in rows)


def test_notice_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(["extract", "--notice", str(next(CORPUS.glob("001_*.txt")))], capsys)
    assert code == 0
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert row["doc_number"] == "融妇通〔2020〕1号"
    assert row["deadline"] == "2020-03-23"


def test_missing_file_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    code, out, err = invoke(["extract", str(missing)], capsys)
    assert code == 2
    assert out == ""
    assert str(missing) in err and "no such file" in err


def test_directory_is_rejected(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = invoke(["extract", str(tmp_path)], capsys)
    assert code == 2 and str(tmp_path) in err


def test_bad_date_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(["extract", "--published", "10/03/2020", "x.txt"])
    assert exc.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_help_reads_well(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["extract", "--help"])
    text = capsys.readouterr().out
    assert "usage: huizong extract" in text
    assert "--org NAME" in text and "--format {jsonl,csv}" in text
    assert "exit status" in text


def test_run_is_the_default_function() -> None:
    args = parser().parse_args(["extract", "a.txt"])
    assert args.func is run
