"""Data Docs work offline: every page loads its CSS/JS from local copies, and the
index lists the validations with the network cut off (a real headless Chromium)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient
from huizong.quality import data_docs
from huizong.quality.gx_runner import default_suite_dir, validate_staged
from quality_warehouse import TOWNS

CHROMIUM = os.environ.get("HUIZONG_CHROMIUM", "/usr/bin/chromium")
_ASSET_REF = re.compile(r"<(?:link|script|img)\b[^>]*?\b(?:href|src)=\"([^\"]+)\"", re.IGNORECASE)


@pytest.fixture
def docs(wh, tmp_path) -> Path:
    wh.stage(TOWNS[0], "2025Q1", {"01": 20, "14": 40})
    wh.stage(TOWNS[1], "2025Q1", {"01": -3})
    docs_dir = tmp_path / "docs"
    validate_staged(wh.engine, suite_dir=default_suite_dir(), docs_dir=docs_dir)
    return docs_dir


def test_no_page_loads_anything_from_the_network(docs):
    pages = sorted(docs.rglob("*.html"))
    assert len(pages) >= 3, pages  # index, the suite, one validation
    for page in pages:
        text = page.read_text(encoding="utf-8")
        refs = _ASSET_REF.findall(text)
        assert refs, page
        remote = [r for r in refs if r.startswith(("http:", "https:", "//"))]
        assert not remote, (page, remote)
        assert "great-expectations-web-assets" not in text, page
        # What localize put in resolves (GX's own favicon path on validation
        # pages is one level short; a missing favicon breaks nothing).
        for ref in refs:
            if "static/vendor/" in ref or "static/images/logo" in ref:
                assert (page.parent / ref).resolve().is_file(), (page, ref)
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert "static/vendor/bootstrap-table.min.js" in index
    assert "static/vendor/jquery.min.js" in index


def test_localizing_twice_changes_nothing(docs):
    before = {p: p.read_bytes() for p in docs.rglob("*") if p.is_file()}
    assert data_docs.localize(docs) == 0
    assert {p: p.read_bytes() for p in docs.rglob("*") if p.is_file()} == before


def test_an_asset_url_nobody_vendored_is_refused_by_name(tmp_path):
    page = tmp_path / "index.html"
    text = '<script src="https://cdn.example.org/new-lib@2.js"></script>'
    with pytest.raises(data_docs.UnknownAsset, match=r"new-lib@2\.js.*CDN_TO_LOCAL"):
        data_docs.localize_page(text, page, tmp_path)


@pytest.mark.browser
def test_the_index_lists_the_validations_with_the_network_cut_off(docs):
    """Before the fix the index was unstyled and its table empty: bootstrap-table,
    which fills it, came from a CDN."""
    chromium = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if chromium is None:
        reason = f"Chromium not found at {CHROMIUM}: run scripts/install-browser.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    proc = subprocess.run(
        [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update",
            # No name resolves: any CDN request fails as it would offline.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0",
            "--dump-dom", (docs / "index.html").as_uri(),
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = [line for line in proc.stderr.splitlines() if "CONSOLE" in line and "Uncaught" in line]
    assert not errors, errors
    # bootstrap-table turned the data into rows: one per validation, one per suite.
    rows = re.findall(r"<tr[^>]*data-index=", dom)
    assert len(rows) >= 2, dom[-3000:]
    assert "staged_returns" in dom


def test_the_docs_app_serves_files_inside_the_directory_only(docs):
    client = TestClient(data_docs.create_docs_app(lambda: docs))
    assert client.get("/", follow_redirects=False).headers["location"] == "index.html"
    index = client.get("/index.html")
    assert index.status_code == 200 and "staged_returns" in index.text
    assert client.get("/static/vendor/jquery.min.js").status_code == 200
    (docs.parent / "secret.txt").write_text("not for the browser")
    assert client.get("/..%2Fsecret.txt").status_code == 404
    assert client.get("/static/../../secret.txt").status_code == 404


def test_the_docs_app_runs_its_guard_on_every_request(docs):
    def refuse() -> None:
        raise HTTPException(401, "log in to Airflow")

    client = TestClient(data_docs.create_docs_app(lambda: docs, dependencies=[refuse]))
    assert client.get("/index.html").status_code == 401
    assert client.get("/static/vendor/jquery.min.js").status_code == 401


def test_a_page_localized_before_a_mapping_change_is_brought_up_to_date(tmp_path, monkeypatch):
    """The first version dropped bootstrap-datepicker, which the filter control
    needs: pages localized then must pick it up once it is vendored."""
    url = ("https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
           "bootstrap-datepicker.min.js")
    page = tmp_path / "index.html"
    page.write_text(f'<head><script src="{url}"></script></head>', encoding="utf-8")
    monkeypatch.setitem(data_docs.CDN_TO_LOCAL, url, [])
    assert data_docs.localize(tmp_path) == 1
    assert "datepicker.min.js\"" not in page.read_text(encoding="utf-8")
    monkeypatch.undo()
    assert data_docs.localize(tmp_path) == 1
    assert '<script src="static/vendor/bootstrap-datepicker.min.js"></script>' in page.read_text(
        encoding="utf-8"
    )
    assert data_docs.localize(tmp_path) == 0
