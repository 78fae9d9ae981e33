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
# The test figures miss the targets (precision 0.97, table recall 0.90):
# these floors only stop a regression; raise them as extraction improves.
FLOORS = {
    "test": {
        "precision": 0.79,
        "recall_prose": 0.955,
        "recall_table": 0.24,
        "qualifier_accuracy": 0.99,
    },
    "dev": {
        "precision": 0.975,
        "recall_prose": 0.98,
        "recall_table": 0.87,
        "qualifier_accuracy": 0.99,
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
        missing = [i for i in split[name] if not (realpages.CORPUS_DIR / f"{i}.jsonl").exists()]
        assert not missing, f"{name} pages without labels (<id>.jsonl): {missing}"


@pytest.mark.parametrize("name", ["test", "dev"])
def test_accuracy_holds(split: dict[str, list[str]], name: str) -> None:
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
