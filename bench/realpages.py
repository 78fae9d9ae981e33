"""Scoring extraction against the independently labelled real-page corpus.

The corpus (``tests/data/realpages/``) holds pages ``<id>.txt`` — a header
(``URL:``, ``Level:``, ``Org:``, ``Kind:``), a blank line, then the page text
exactly as stored — and labels ``<id>.jsonl`` written from
``docs/labelling.md``, one statistic a line in page order. ``split.json``
(``{"dev": [ids], "test": [ids], "dev_added": [ids]}``) fixes which pages may be
looked at while tuning (dev) and which are only scored (test); the split follows
from the URL alone (:func:`split_of`), so nobody chooses it page by page.
``dev_added`` (optional) lists pages labelled after the split was fixed: they are
always dev, never test, whatever their URL hashes to — a page written for tuning
must never become a test page — so the URL rule applies to ``dev``/``test`` only.

Matching: a label's quote is located in the page's raw text (after the
header), searching forward from the previous label's quote start. A
prediction matches a label when its raw-page span (the extractor keeps raw
offsets, so Traditional pages converted during normalization still line up)
overlaps the label's span and value and unit agree (values within 1e-6
relative, percentages within 0.01). Each prediction matches at most one label.

Used by ``bench/bench_extract.py`` and by the accuracy gate
``tests/portal/test_realpages_accuracy.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from huizong.portal.extract import Statistic, extract_page
from huizong.portal.htmltext import looks_like_html

REPO = Path(__file__).resolve().parents[1]
# HUIZONG_REALPAGES points at a corpus kept elsewhere (a checkout of the corpus branch).
CORPUS_DIR = Path(os.environ.get("HUIZONG_REALPAGES") or REPO / "tests" / "data" / "realpages")
TEST_SHARE = 40  # percent of pages, by URL hash
KINDS = ("prose", "table")
# Keys of split.json; dev_added pages were labelled after the split and are always dev.
SPLITS = ("dev", "test", "dev_added")


class CorpusError(Exception):
    """The corpus is missing or malformed; the message says which file and what to do."""


@dataclass
class Label:
    quote: str
    value: float
    unit: str | None
    qualifier: str
    kind: str
    org: str | None
    indicator: str | None
    start: int = -1
    end: int = -1


@dataclass
class Page:
    page_id: str
    url: str
    header: dict[str, str]
    text: str  # the page text after the header, as stored
    labels: list[Label]


@dataclass
class Scores:
    pages: int = 0
    predicted: int = 0
    matched_predictions: int = 0
    labels: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    pairs: int = 0
    qualifier_ok: int = 0
    org_ok: int = 0
    indicator_ok: int = 0
    unlocated: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.matched_predictions / self.predicted if self.predicted else 1.0

    def recall(self, kind: str) -> float:
        return self.found[kind] / self.labels[kind] if self.labels[kind] else 1.0

    @property
    def qualifier_accuracy(self) -> float:
        return self.qualifier_ok / self.pairs if self.pairs else 1.0

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def figures(self) -> dict[str, float]:
        return {
            "precision": self.precision,
            "recall_prose": self.recall("prose"),
            "recall_table": self.recall("table"),
            "qualifier_accuracy": self.qualifier_accuracy,
        }


def split_of(url: str) -> str:
    """``test`` for 40 % of URLs by SHA-256, else ``dev`` (fixed before the pages existed)."""
    digest = int(hashlib.sha256(url.strip().encode()).hexdigest(), 16)
    return "test" if digest % 100 < TEST_SHARE else "dev"


def read_page_file(path: Path) -> tuple[dict[str, str], str]:
    content = path.read_text(encoding="utf-8")
    head, separator, text = content.partition("\n\n")
    if not separator:
        raise CorpusError(f"{path}: no blank line after the header (URL:, Level:, Org:, Kind:)")
    header = {}
    for line in head.split("\n"):
        key, colon, value = line.partition(":")
        if colon:
            header[key.strip()] = value.strip()
    if not header.get("URL"):
        raise CorpusError(f"{path}: the header has no 'URL:' line")
    return header, text


def read_labels(path: Path) -> list[Label]:
    labels = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                labels.append(
                    Label(
                        quote=row["quote"],
                        value=float(row["value"]),
                        unit=row.get("unit"),
                        qualifier=row.get("qualifier") or "exact",
                        kind=row.get("kind") or "prose",
                        org=row.get("org"),
                        indicator=row.get("indicator"),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise CorpusError(
                    f"{path}:{number}: not a label ({exc}); each line is a JSON object "
                    "with quote, value, unit, qualifier, kind (docs/labelling.md)"
                ) from exc
            if labels[-1].kind not in KINDS:
                raise CorpusError(f"{path}:{number}: kind {labels[-1].kind!r} is not prose/table")
    return labels


def read_split(corpus: Path = CORPUS_DIR) -> dict[str, list[str]]:
    path = corpus / "split.json"
    if not path.exists():
        raise CorpusError(
            f"{path} is missing: the real-page corpus (pages, labels and split.json, "
            "see docs/labelling.md) must be in tests/data/realpages/"
        )
    split = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(split, dict) or not {"dev", "test"} <= split.keys():
        raise CorpusError(
            f'{path}: expected {{"dev": [ids], "test": [ids]}} (and optionally "dev_added": [ids])'
        )
    unknown = split.keys() - set(SPLITS)
    if unknown:
        raise CorpusError(
            f"{path}: unknown key(s) {sorted(unknown)}; the keys are {', '.join(SPLITS)}"
        )
    split.setdefault("dev_added", [])
    for name in SPLITS:
        if not isinstance(split[name], list) or not all(isinstance(i, str) for i in split[name]):
            raise CorpusError(f"{path}: {name!r} must be a list of page ids (strings)")
    for first, second in (("dev", "test"), ("dev_added", "dev"), ("dev_added", "test")):
        overlap = set(split[first]) & set(split[second])
        if overlap:
            raise CorpusError(
                f"{path}: pages in both {first!r} and {second!r}: {sorted(overlap)}; "
                "list each page once"
            )
    return split


def check_split(corpus: Path, split: dict[str, list[str]]) -> list[str]:
    """Pages whose recorded split disagrees with :func:`split_of` of their URL.

    ``dev_added`` pages are exempt from the rule (always dev), but one that repeats
    the URL of a ``test`` page would put a test page into tuning, and is reported.
    """
    problems = []
    test_urls: dict[str, str] = {}
    for name in SPLITS:
        for page_id in split.get(name, []):
            path = corpus / f"{page_id}.txt"
            if not path.exists():
                problems.append(f"{path} is listed in split.json ({name}) but missing")
                continue
            header, _text = read_page_file(path)
            url = header["URL"].strip()
            if name == "test":
                test_urls[url] = page_id
            if name == "dev_added":
                if url in test_urls:
                    problems.append(
                        f"{page_id}: dev_added page has the URL of test page {test_urls[url]}; "
                        "drop it from the corpus"
                    )
                continue
            if split_of(url) != name:
                problems.append(f"{page_id}: listed as {name}, its URL hashes to the other split")
    return problems


def page_ids(corpus: Path, which: str) -> list[str]:
    """Ids of one split (``dev``, ``dev_added``, ``test``) or ``all``, from split.json.

    Without split.json (while the corpus is being built) the rule decides and
    there are no ``dev_added`` pages.
    """
    if (corpus / "split.json").exists():
        split = read_split(corpus)
        ids = [i for name in SPLITS for i in split[name]] if which == "all" else split[which]
        return sorted(i for i in ids if (corpus / f"{i}.jsonl").exists())
    out = []
    for path in sorted(corpus.glob("*.txt")):
        if not path.with_suffix(".jsonl").exists():
            continue
        header, _text = read_page_file(path)
        if which == "all" or split_of(header["URL"]) == which:
            out.append(path.stem)
    return out


def load_page(corpus: Path, page_id: str) -> Page:
    header, text = read_page_file(corpus / f"{page_id}.txt")
    return Page(page_id, header["URL"], header, text, read_labels(corpus / f"{page_id}.jsonl"))


def locate(page: Page) -> list[str]:
    """Raw spans of the labels; a quote not found forward is reported, not guessed."""
    problems = []
    cursor = 0
    taken: set[tuple[int, str]] = set()
    for label in page.labels:
        position = page.text.find(label.quote, cursor)
        # The same quote twice (a headline repeated as 原标题) is two occurrences, and a
        # cell's number (9) is not the tail of a longer one (5896).
        while position >= 0 and (
            (position, label.quote) in taken or _inside_number(page.text, position, label.quote)
        ):
            position = page.text.find(label.quote, position + 1)
        if position < 0:
            problems.append(f"{page.page_id}: label quote not in page: {label.quote!r}")
            continue
        label.start, label.end = position, position + len(label.quote)
        taken.add((position, label.quote))
        cursor = position
    return problems


def _inside_number(text: str, position: int, quote: str) -> bool:
    """Whether ``quote`` found at ``position`` continues a longer number (9 in 5896, 1,234)."""

    def digit_at(index: int) -> bool:
        return 0 <= index < len(text) and text[index].isdigit()

    end = position + len(quote)
    joined_before = digit_at(position - 1) or (
        text[position - 1 : position] in (".", ",") and digit_at(position - 2)
    )
    joined_after = digit_at(end) or (text[end : end + 1] in (".", ",") and digit_at(end + 1))
    return (quote[0].isdigit() and joined_before) or (quote[-1].isdigit() and joined_after)


def same_value(predicted: Statistic, label: Label) -> bool:
    if predicted.unit != label.unit:
        return False
    value = float(predicted.value)
    if not math.isfinite(value):
        return False
    tolerance = 0.01 if label.unit == "%" else 1e-6 * max(1.0, abs(label.value))
    return abs(value - label.value) <= tolerance


def _loosely_same(label_text: str | None, *predicted: str | None) -> bool:
    if not label_text:
        return not any(predicted)
    return any(p and (label_text in p or p in label_text) for p in predicted)


def extract(page: Page) -> list[Statistic]:
    return extract_page(page.text, is_html=looks_like_html(page.text)).statistics


def raw_span(statistic: Statistic) -> tuple[int, int]:
    return statistic.raw_start, statistic.raw_end


def first_match(predictions, used: set[int], label, span, agrees) -> int | None:
    """The first prediction not yet used whose span overlaps the label's and that agrees.

    Shared by the real-page and the gold scoring; ``span`` says which offsets a
    prediction is compared on (raw page offsets, or normalized text offsets).
    """
    for i, prediction in enumerate(predictions):
        start, end = span(prediction)
        if i not in used and start < label.end and label.start < end and agrees(prediction):
            return i
    return None


def score_page(page: Page, scores: Scores, predictions: list[Statistic]) -> None:
    for problem in locate(page):
        scores.unlocated += 1
        scores.errors.append(problem)
    scores.pages += 1
    scores.predicted += len(predictions)
    used: set[int] = set()
    for label in page.labels:
        scores.labels[label.kind] += 1
        if label.start < 0:
            continue
        match_index = first_match(
            predictions, used, label, raw_span, lambda p, label=label: same_value(p, label)
        )
        if match_index is None:
            near = [
                f"{p.quote!r}={p.value} {p.unit}"
                for p in predictions
                if p.raw_start < label.end and label.start < p.raw_end
            ]
            scores.errors.append(
                f"{page.page_id}: missed {label.kind} {label.quote!r} = {label.value:g} "
                f"{label.unit} {label.qualifier}"
                + (f" (predicted {', '.join(near)})" if near else "")
            )
            continue
        used.add(match_index)
        predicted = predictions[match_index]
        scores.found[label.kind] += 1
        scores.pairs += 1
        if predicted.qualifier == label.qualifier:
            scores.qualifier_ok += 1
        else:
            scores.errors.append(
                f"{page.page_id}: qualifier {label.quote!r} predicted {predicted.qualifier}, "
                f"labelled {label.qualifier}"
            )
        if _loosely_same(label.org, predicted.row_header, predicted.org):
            scores.org_ok += 1
        if _loosely_same(
            label.indicator, predicted.indicator_name, predicted.col_header, predicted.quote
        ):
            scores.indicator_ok += 1
    scores.matched_predictions += len(used)
    for i, p in enumerate(predictions):
        if i not in used:
            scores.errors.append(
                f"{page.page_id}: extra {p.kind} {p.quote!r} = {p.value} {p.unit} {p.qualifier}"
            )


def score(corpus: Path, which: str) -> Scores:
    """Scores of one split; throughput is CPU time of extraction alone, one core."""
    pages = [load_page(corpus, page_id) for page_id in page_ids(corpus, which)]
    scores = Scores()
    if pages:
        extract(pages[0])  # load OpenCC, division data and catalog before timing
    for page in pages:
        started = time.process_time()
        predictions = extract(page)
        scores.seconds += time.process_time() - started
        score_page(page, scores, predictions)
    return scores


def combined(*parts: Scores) -> Scores:
    """One score over several splits' pages (``dev`` and ``dev_added``)."""
    total = Scores()
    for part in parts:
        for name in ("pages", "predicted", "matched_predictions", "pairs", "qualifier_ok"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        for name in ("org_ok", "indicator_ok", "unlocated", "seconds"):
            setattr(total, name, getattr(total, name) + getattr(part, name))
        for kind in KINDS:
            total.labels[kind] += part.labels[kind]
            total.found[kind] += part.found[kind]
        total.errors.extend(part.errors)
    return total


def report(name: str, scores: Scores) -> list[str]:
    return [
        f"real pages ({name})   {scores.pages} pages, labels prose {scores.labels['prose']}, "
        f"table {scores.labels['table']}, predicted {scores.predicted}"
        + (f", {scores.unlocated} label quotes not found" if scores.unlocated else ""),
        f"precision           {scores.precision:.4f}",
        f"recall (prose)      {scores.recall('prose'):.4f}",
        f"recall (table)      {scores.recall('table'):.4f}",
        f"qualifier accuracy  {scores.qualifier_accuracy:.4f}",
        f"org agreement       {scores.org_ok / scores.pairs if scores.pairs else 0:.4f}"
        "  (information only)",
        f"indicator agreement {scores.indicator_ok / scores.pairs if scores.pairs else 0:.4f}"
        "  (information only)",
        f"throughput (real)   {scores.pages_per_second:.1f} pages/s (one core)",
    ]
