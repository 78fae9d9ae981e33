from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time

import requests
from huizong.cli import main

from .conftest import UNIT, api_item


def test_returns_scan_is_a_dry_run_listing_outcomes(tmp_path, make_workbook, capsys):
    drop = tmp_path / "drop"
    make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "good.xlsx")
    make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "other.xlsx", unit_code="430203000000")
    make_workbook(drop / "badunit" / "FL-01" / "2024Q4" / "x.xlsx")
    (drop / UNIT / "FL-01" / "2024Q4" / "~$good.xlsx").write_bytes(b"lock")
    before = sorted(p for p in tmp_path.rglob("*"))

    code = main(["returns", "scan", str(drop), "--json", "--triage"])

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    outcomes = {line["source"].rsplit("/", 1)[-1]: line for line in lines}
    assert outcomes["good.xlsx"]["outcome"] == "stage"
    assert outcomes["other.xlsx"]["reason"] == "unit_mismatch"
    assert outcomes["x.xlsx"]["reason"] == "bad_unit_folder"
    assert outcomes["~$good.xlsx"]["outcome"] == "ignore"
    assert code == 1
    assert sorted(p for p in tmp_path.rglob("*")) == before  # nothing kept


def test_returns_scan_plain_output_and_exit_code(tmp_path, make_workbook, capsys):
    drop = tmp_path / "drop"
    make_workbook(drop / UNIT / "FL-01" / "2024Q4" / "good.xlsx")
    assert main(["returns", "scan", str(drop)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("receive ") and f"{UNIT} FL-01 2024Q4" in captured.out
    assert "1 receive" in captured.err
    assert main(["returns", "scan", str(tmp_path / "missing")]) == 2


def test_api_server_runs_standalone(tmp_path):
    items = tmp_path / "items"
    items.mkdir()
    (items / "a.json").write_text(json.dumps([api_item(0), api_item(1)]), encoding="utf-8")
    token = secrets.token_urlsafe(16)  # the server refuses placeholder and short tokens
    env = {**os.environ, "TEST_RETURNS_TOKEN": token}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "huizong.returns.api_server",
            "--items",
            str(items),
            "--token-env",
            "TEST_RETURNS_TOKEN",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        url = banner.split(" on ", 1)[1].strip()
        for _ in range(100):
            try:
                response = requests.get(
                    url, headers={"Authorization": f"Bearer {token}"}, timeout=2
                )
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        assert response.status_code == 200
        assert [i["id"] for i in response.json()["items"]] == ["R0000", "R0001"]
        assert requests.get(url, timeout=2).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_api_server_needs_a_token(tmp_path, capsys):
    code = main(["returns", "api-server", "--items", str(tmp_path), "--token-env", "NO_SUCH_VAR_X"])
    assert code == 2
    assert "NO_SUCH_VAR_X" in capsys.readouterr().err
