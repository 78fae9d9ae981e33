"""The Great Expectations suite blocks exactly the returns with bad rows, and writes Data Docs."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
from huizong.quality.gx_runner import default_suite_dir, validate_staged
from huizong.quality.rules import load_staged_values
from quality_warehouse import TOWNS


def test_suite_catches_negatives_fractions_money_cents_and_bad_codes(wh, tmp_path):
    clean = wh.stage(TOWNS[0], "2025Q1", {"01": 20, "10": (1234.5, 1234.5, 1000.25), "14": 40})
    negative = wh.stage(TOWNS[1], "2025Q1", {"01": -3})
    fraction = wh.stage(TOWNS[2], "2025Q1", {"06": 12.5})
    cents = wh.stage(TOWNS[3], "2025Q1", {"13": (100.125, None, None)})
    bad_code = wh.stage(TOWNS[4], "2025Q1", {"99": 1})
    with wh.engine.begin() as conn:  # text that is not a number, as a sloppy loader might store it
        conn.execute(
            sa.text(
                "UPDATE stg_return_value SET value_ytd = '约30' "
                "WHERE submission_id = :s AND indicator_code = '01'"
            ),
            {"s": clean},
        )
    docs = tmp_path / "docs"
    result = validate_staged(wh.engine, suite_dir=default_suite_dir(), docs_dir=docs)

    assert not result.success
    assert result.failed_submission_ids == {clean, negative, fraction, cents, bad_code}
    checks = {(f.check_name, f.submission_id, f.indicator_code) for f in result.findings}
    assert ("gx:non_negative", negative, "01") in checks
    assert ("gx:whole_count", fraction, "06") in checks
    assert ("gx:money_cents", cents, "13") in checks
    assert ("gx:indicator_in_catalog", bad_code, "99") in checks
    assert ("gx:whole_count", clean, "01") in checks  # the text '约30' in 本年累计数
    assert {f.severity for f in result.findings} == {"error"}
    assert all(c != "gx:money_cents" for c, s, _ in checks if s == clean)  # 1234.5 / 1000.25 fine
    negative_finding = next(f for f in result.findings if f.submission_id == negative)
    assert negative_finding.evidence == "Sheet1!D6" and negative_finding.observed == -3
    assert "城关镇" not in negative_finding.message_zh and "站儿巷镇" in negative_finding.message_zh

    assert result.docs_index_path == docs / "index.html"
    assert result.docs_index_path.exists()
    assert "staged_returns" in result.docs_index_path.read_text(encoding="utf-8")
    summary = result.results_by_suite["staged_returns"]
    assert summary["success"] is False
    assert any(
        e["check"] == "non_negative" and e["unexpected_count"] == 1 for e in summary["expectations"]
    )


def test_clean_batch_passes_and_duplicates_are_caught(wh, tmp_path):
    wh.stage(TOWNS[0], "2025Q1", {"01": 20, "02": 3})
    result = validate_staged(wh.engine, suite_dir=default_suite_dir(), docs_dir=tmp_path / "d")
    assert result.success and result.failed_submission_ids == set() and list(result.findings) == []

    # The staging key forbids a duplicate row, but a frame handed in by a caller may carry one.
    raw = load_staged_values(wh.engine)
    duplicated = pd.concat([raw, raw.iloc[[0]]], ignore_index=True)
    result = validate_staged(wh.engine, docs_dir=tmp_path / "d", staged_raw=duplicated)
    assert any(f.check_name == "gx:unique_row" for f in result.findings)


def test_nothing_staged_is_a_success_without_importing_gx(engine, tmp_path):
    result = validate_staged(engine, suite_dir=default_suite_dir(), docs_dir=tmp_path / "d")
    assert result.success and result.docs_index_path is None
