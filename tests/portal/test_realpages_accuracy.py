"""Accuracy gate on the independently labelled real-page corpus (issue #13).

Scores extraction on ``tests/data/realpages/`` exactly as ``bench/bench_extract.py``
does (``bench/realpages.py``) and fails when a figure drops below its floor.
The floors sit just under the figures measured when they were last raised:
a change that loses accuracy on real pages fails here. Raise them as the
extractor improves; never lower them to make a change pass.

The test split is scored, never inspected while tuning (docs/labelling.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

import realpages  # noqa: E402

# Measured 2026-12-02 on 69 dev and 44 test pages (bench/bench_extract.py):
#   test: precision 0.8028, prose recall 0.9657, table recall 0.2472, qualifiers 1.0000
#   dev:  precision 0.9859, prose recall 0.9884, table recall 0.8785, qualifiers 0.9980
# After the table reading was made general (dev and 27 dev_added pages):
#   dev:       precision 0.9886, prose recall 0.9884, table recall 1.0000, qualifiers 1.0000
#   dev_added: precision 0.9761, prose recall 0.9529, table recall 0.8831, qualifiers 1.0000
#   test:      precision 0.8231, prose recall 0.9657, table recall 0.3143, qualifiers 1.0000
# The test figures miss the targets (precision 0.97, table recall 0.90):
# these floors only stop a regression; raise them as extraction improves.
FLOORS = {
    "test": {
        "precision": 0.81,
        "recall_prose": 0.955,
        "recall_table": 0.30,
        "qualifier_accuracy": 0.99,
    },
    "dev": {
        "precision": 0.985,
        "recall_prose": 0.985,
        "recall_table": 0.995,
        "qualifier_accuracy": 0.995,
    },
    # Pages labelled after the split (split.json "dev_added"), mostly tables.
    "dev_added": {
        "precision": 0.97,
        "recall_prose": 0.945,
        "recall_table": 0.875,
        "qualifier_accuracy": 0.995,
    },
}


@pytest.fixture(scope="module")
def split() -> dict[str, list[str]]:
    try:
        return realpages.read_split(realpages.CORPUS_DIR)
    except realpages.CorpusError as exc:
        pytest.fail(f"real-page corpus missing or malformed: {exc}")


def test_split_follows_the_url_rule(split: dict[str, list[str]]) -> None:
    problems = realpages.check_split(realpages.CORPUS_DIR, split)
    assert not problems, "split.json disagrees with the URL-hash rule:\n" + "\n".join(problems)
    for name in ("dev", "test"):
        assert split[name], f"split.json lists no {name} pages"
    for name in realpages.SPLITS:
        missing = [i for i in split[name] if not (realpages.CORPUS_DIR / f"{i}.jsonl").exists()]
        assert not missing, f"{name} pages without labels (<id>.jsonl): {missing}"


def _corpus_page(directory: Path, page_id: str, url: str) -> None:
    (directory / f"{page_id}.txt").write_text(
        f"URL: {url}\nLevel: county\nOrg: 某县妇联\nKind: news\n\n全年培训妇女216人。\n",
        encoding="utf-8",
    )
    (directory / f"{page_id}.jsonl").write_text(
        '{"quote": "培训妇女216人", "value": 216, "unit": "人", "qualifier": "exact", '
        '"kind": "prose", "org": null, "indicator": "培训妇女"}\n',
        encoding="utf-8",
    )


def _url_hashing_to(split_name: str, start: int = 0) -> str:
    n = start
    while realpages.split_of(f"http://example.gov.cn/{n}.html") != split_name:
        n += 1
    return f"http://example.gov.cn/{n}.html"


def test_dev_added_pages_are_dev_whatever_their_url(tmp_path: Path) -> None:
    import json

    dev_url, test_url = _url_hashing_to("dev"), _url_hashing_to("test")
    added_url = _url_hashing_to("test", int(test_url.rsplit("/", 1)[1].split(".")[0]) + 1)
    _corpus_page(tmp_path, "a_1", dev_url)
    _corpus_page(tmp_path, "a_2", test_url)
    _corpus_page(tmp_path, "c_1", added_url)  # hashes to test, added after the split
    (tmp_path / "split.json").write_text(
        json.dumps({"dev": ["a_1"], "test": ["a_2"], "dev_added": ["c_1"]}), encoding="utf-8"
    )
    split = realpages.read_split(tmp_path)
    assert realpages.check_split(tmp_path, split) == []
    assert realpages.page_ids(tmp_path, "dev") == ["a_1"]
    assert realpages.page_ids(tmp_path, "dev_added") == ["c_1"]
    assert realpages.page_ids(tmp_path, "test") == ["a_2"]
    assert realpages.page_ids(tmp_path, "all") == ["a_1", "a_2", "c_1"]
    parts = [realpages.score(tmp_path, name) for name in ("dev", "dev_added")]
    both = realpages.combined(*parts)
    assert both.pages == 2 and both.labels["prose"] == 2 and both.found["prose"] == 2

    # A dev_added page repeating a test page's URL would put that page into tuning.
    _corpus_page(tmp_path, "c_2", test_url)
    (tmp_path / "split.json").write_text(
        json.dumps({"dev": ["a_1"], "test": ["a_2"], "dev_added": ["c_1", "c_2"]}),
        encoding="utf-8",
    )
    problems = realpages.check_split(tmp_path, realpages.read_split(tmp_path))
    assert problems and "c_2" in problems[0] and "a_2" in problems[0]

    # A page listed both as dev_added and test is refused.
    (tmp_path / "split.json").write_text(
        json.dumps({"dev": ["a_1"], "test": ["a_2"], "dev_added": ["a_2"]}), encoding="utf-8"
    )
    with pytest.raises(realpages.CorpusError, match="dev_added"):
        realpages.read_split(tmp_path)
    (tmp_path / "split.json").write_text(
        json.dumps({"dev": ["a_1"], "test": ["a_2"], "devadded": ["c_1"]}), encoding="utf-8"
    )
    with pytest.raises(realpages.CorpusError, match="unknown key"):
        realpages.read_split(tmp_path)


@pytest.mark.parametrize("name", ["test", "dev", "dev_added"])
def test_accuracy_holds(split: dict[str, list[str]], name: str) -> None:
    if not split[name]:
        pytest.skip(f"split.json lists no {name} pages")
    scores = realpages.score(realpages.CORPUS_DIR, name)
    assert scores.pages == len(split[name])
    figures = scores.figures()
    below = {
        measure: f"{figures[measure]:.4f} < {floor:.4f}"
        for measure, floor in FLOORS[name].items()
        if figures[measure] < floor
    }
    # Only aggregate figures: the test split's pages are never shown one by one.
    assert not below, f"real-page accuracy ({name} split) fell below its floors: {below}"


def test_split_rule_is_the_published_one() -> None:
    # The rule was fixed before the pages existed: SHA-256 of the URL, mod 100, < 40 → test.
    url = "http://www.example.gov.cn/art/2023/3/8/art_1_123.html"
    import hashlib

    expected = "test" if int(hashlib.sha256(url.encode()).hexdigest(), 16) % 100 < 40 else "dev"
    assert realpages.split_of(url) == expected
    assert realpages.split_of("  " + url + "\n") == expected


def test_label_located_forward_and_matched_by_raw_offsets() -> None:
    # A Traditional page: normalization converts it, the raw offsets still match the labels.
    page = realpages.Page(
        page_id="t",
        url="u",
        header={},
        text="婦聯全年培訓婦女216人,發放貸款2.3億元。再培訓婦女216人。",
        labels=[
            realpages.Label("培訓婦女216人", 216, "人", "exact", "prose", None, None),
            realpages.Label("發放貸款2.3億元", 230000000, "元", "exact", "prose", None, None),
            realpages.Label("培訓婦女216人", 216, "人", "exact", "prose", None, None),
        ],
    )
    scores = realpages.Scores()
    realpages.score_page(page, scores, realpages.extract(page))
    assert [label.start for label in page.labels] == [4, 13, 24]
    assert scores.found["prose"] == 3 and scores.predicted == 3, scores.errors
