"""Accuracy and speed of statistic extraction: real pages first, then the gold pages.

Run from the repository root::

    PYTHONPATH=include python bench/bench_extract.py [--split dev|test|all] [--strict]

``--split dev`` scores the dev pages and the pages labelled after the split
(``dev_added`` in split.json), each on its own and combined.
        [--show-errors] [--memory-pages 10000]

Real pages: the independently labelled corpus in ``tests/data/realpages/``
(see ``bench/realpages.py`` for the format, the split and the matching rule).
Tune on ``--split dev`` only; ``--show-errors`` lists the misses, extras and
qualifier errors and is refused for the test split, whose pages are scored,
never inspected. The targets below apply to the real pages.

Gold (a regression set, written with the extractor): ``tests/gold/<name>.jsonl``
labels every statistic of one page, in text order, as
``{quote, value, unit, qualifier, indicator, kind}``. The page is
``tests/gold/pages/<name>.txt|.html``, or for ``seed_<name>`` the real page
``include/huizong/data/corpus/<name>.txt``. A gold quote is located in the
page's normalized text by searching forward from the previous gold quote's end.

Matching rule: a predicted statistic matches a gold one when their quote spans
(normalized offsets) overlap and value and unit agree (values within 1e-6
relative, percentages within 0.01). Each prediction matches at most one gold
statistic. Precision = matched predictions / predictions; recall = matched
gold / gold, for prose and table statistics separately; qualifier accuracy =
share of matched pairs whose qualifier agrees; indicator agreement is printed
for information.

Speed: normalization + extraction of generated ~5 KB pages on one core, and
the process RSS before and after a long run (it must stay flat: no per-page
state survives a page).

Targets: precision ≥ 0.97, recall ≥ 0.95 (prose) and ≥ 0.90 (table),
qualifier accuracy ≥ 0.98, ≥ 200 pages/s. ``--strict`` exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "include"))

from huizong.portal.charset import decode_html  # noqa: E402
from huizong.portal.extract import Statistic, extract_page  # noqa: E402
from huizong.portal.htmltext import looks_like_html  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realpages  # noqa: E402

GOLD_DIR = REPO / "tests" / "gold"
CORPUS_DIR = REPO / "include" / "huizong" / "data" / "corpus"
TARGETS = {
    "precision": 0.97,
    "recall_prose": 0.95,
    "recall_table": 0.90,
    "qualifier_accuracy": 0.98,
    "pages_per_second": 200.0,
}
MAX_RSS_GROWTH_MB = 25.0


@dataclass
class GoldStatistic:
    quote: str
    value: float
    unit: str | None
    qualifier: str
    indicator: str | None
    kind: str
    start: int = -1
    end: int = -1


@dataclass
class Tally:
    predicted: int = 0
    matched_predictions: int = 0
    gold: dict[str, int] = field(default_factory=lambda: {"prose": 0, "table": 0})
    found: dict[str, int] = field(default_factory=lambda: {"prose": 0, "table": 0})
    qualifier_ok: int = 0
    indicator_ok: int = 0
    pairs: int = 0
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    qualifier_errors: list[str] = field(default_factory=list)


def page_for(gold_path: Path) -> Path:
    name = gold_path.stem
    if name.startswith("seed_"):
        return CORPUS_DIR / f"{name[len('seed_') :]}.txt"
    for suffix in (".txt", ".html", ".htm"):
        candidate = GOLD_DIR / "pages" / f"{name}{suffix}"
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no page for gold file {gold_path.name}")


def read_page(path: Path) -> tuple[str, bool]:
    text = decode_html(path.read_bytes()).text
    return text, path.suffix in (".html", ".htm") or looks_like_html(text)


def load_gold(path: Path) -> list[GoldStatistic]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                out.append(
                    GoldStatistic(
                        quote=row["quote"],
                        value=float(row["value"]),
                        unit=row.get("unit"),
                        qualifier=row.get("qualifier") or "exact",
                        indicator=row.get("indicator"),
                        kind=row.get("kind") or "prose",
                    )
                )
    return out


def locate(gold: list[GoldStatistic], text: str) -> list[str]:
    problems = []
    cursor = 0
    for item in gold:
        position = text.find(item.quote, cursor)
        if position < 0:
            position = text.find(item.quote)
        if position < 0:
            problems.append(f"gold quote not in normalized text: {item.quote!r}")
            continue
        item.start, item.end = position, position + len(item.quote)
        cursor = item.end
    return problems


def same_value(predicted: Statistic, gold: GoldStatistic) -> bool:
    if predicted.unit != gold.unit:
        return False
    tolerance = 0.01 if gold.unit == "%" else 1e-6 * max(1.0, abs(gold.value))
    return abs(float(predicted.value) - gold.value) <= tolerance


def score_page(gold_path: Path, tally: Tally) -> None:
    page = page_for(gold_path)
    content, is_html = read_page(page)
    extraction = extract_page(content, is_html=is_html)
    gold = load_gold(gold_path)
    for problem in locate(gold, extraction.normalized.text):
        tally.misses.append(f"{gold_path.stem}: {problem}")
    predictions = extraction.statistics
    tally.predicted += len(predictions)
    used: set[int] = set()
    for item in gold:
        tally.gold[item.kind] = tally.gold.get(item.kind, 0) + 1
        if item.start < 0:
            continue
        match_index = realpages.first_match(
            predictions, used, item, lambda p: (p.start, p.end),
            lambda p, item=item: same_value(p, item),
        )
        if match_index is None:
            tally.misses.append(
                f"{gold_path.stem}: missed {item.quote!r} = {item.value:g} {item.unit}"
            )
            continue
        used.add(match_index)
        predicted = predictions[match_index]
        tally.found[item.kind] = tally.found.get(item.kind, 0) + 1
        tally.pairs += 1
        if predicted.qualifier == item.qualifier:
            tally.qualifier_ok += 1
        else:
            tally.qualifier_errors.append(
                f"{gold_path.stem}: {item.quote!r} {predicted.qualifier} ≠ {item.qualifier}"
            )
        if predicted.indicator == item.indicator:
            tally.indicator_ok += 1
    tally.matched_predictions += len(used)
    for i, p in enumerate(predictions):
        if i not in used:
            tally.extras.append(
                f"{gold_path.stem}: extra {p.quote!r} = {p.value} {p.unit} ({p.kind})"
            )


# --------------------------------------------------------------------------
# Generated pages for speed and memory
# --------------------------------------------------------------------------

_PLACES = ("株洲市", "融安县", "站儿巷镇", "嘉兴市", "海盐县", "浏阳市", "沙市镇", "湖南省")
_SENTENCES = (
    "全年组织各类报告会、学习会、宣讲会{a}场次,累计举办各类培训{b}期,培训妇女群众{c}.{d}万人次。",
    "全年完成“两癌”筛查人数{e}人,发放贫困妇女“两癌”救助金{a}万元,{b}人受益。",
    "截至{m}月{day}日,我市{e}个村(社区)完成村(社区)妇联换届{f}个,占比{p}%。",
    "开展帮扶活动共计{e}次,结对贫困家庭{c}.{d}万户,提供女性岗位{a}余个,惠及群众近{b}00人。",
    "全年接待来信来访来电{a}件次,处理12338维权热线{b}件,办结率{p}%。",
    "持续推进“湘关爱保”女性健康保险,全市共有{e}名妇女参保,保费{c}.{d}万元,获得理赔{b}人。",
    "組織“巾幗宣講團”深入鎮村開展宣講{a}場次,覆蓋婦女群眾近{b}00人次,舉辦培訓班三十余期。",
    "兩當縣站兒巷鎮婦聯(lián)全年開展婦女理論學習{a}場次,排查婚姻家庭矛盾糾紛{b}起,化解{b}起。",
    "直播观看量超{a}万,获点赞数超{e}万次,带动平台销售总金额{c}.{d}万元。",
    "在全省14个市州排名第二,“3+1姐妹帮帮团”{e}个,中帼示范基地{a}个,巾帽志愿者{f}名。",
)


# Prose without figures but with the usual distractors (dates, names with
# numerals, ordinals, hotlines); real pages carry about one figure per 70
# characters, and the generator keeps to that density.
_FILLER = (
    "全市各级妇联组织以习近平新时代中国特色社会主义思想为指导,紧紧围绕中心工作,创新工作机制,"
    "抓实工作举措,强化引领服务联系,凝聚坚定不移听党话、跟党走的巾帼力量。",
    "{m}月{day}日,市妇联党组召开专题会议,传达学习党的二十大精神,增强“四个意识”、坚定“四个自信”、"
    "做到“两个维护”。",
    "第一时间发动各级妇联组织积极作为,全国三八红旗手、巾帼建功标兵发挥示范引领作用,"
    "12338妇女维权热线畅通有序。",
    "在“十四五”开局之年,妇联组织锐意进取、开拓创新,妇女工作蓬勃开展,妇联改革全力推进,"
    "切实提升妇女群众的获得感、幸福感、安全感。",
    "婦聯(lián)幹部深入村(社區)開展走訪調研,了解婦女群眾急難愁盼問題,主動做好答疑解惑、"
    "紓困解難工作。",
    "来源:市妇联 发布日期:2021-0{m}-1{d1} 1{d1}:3{d1} 联系电话:0731-2851234{d1}。",
)


def generated_page(rng: random.Random, target_chars: int = 5000) -> str:
    place = rng.choice(_PLACES)
    parts = [f"{place}妇联{rng.randint(2018, 2024)}年工作总结", "发布日期: 2021-03-10 11:43", ""]
    size = sum(len(p) for p in parts)
    while size < target_chars:
        if rng.random() < 0.72:
            filler = rng.choice(_FILLER).format(
                m=rng.randint(1, 9), day=rng.randint(1, 28), d1=rng.randint(0, 9)
            )
            parts.append(filler)
            size += len(filler) + 1
            continue
        template = rng.choice(_SENTENCES)
        e = rng.randint(1000, 99999)
        sentence = template.format(
            a=rng.randint(2, 400),
            b=rng.randint(2, 99),
            c=rng.randint(1, 300),
            d=rng.randint(1, 99),
            e=e,
            f=rng.randint(1, e),
            m=rng.randint(1, 12),
            day=rng.randint(1, 28),
            p=f"{rng.uniform(50, 100):.2f}",
        )
        if rng.random() < 0.15:
            parts.append("")
        parts.append(sentence)
        size += len(sentence) + 1
    if rng.random() < 0.3:
        parts.extend(["", "单位\t妇女之家(个)\t执委(人)"])
        parts.extend(
            f"{name}\t{rng.randint(5, 90)}\t{rng.randint(50, 900)}"
            for name in ("荷塘区", "芦淞区", "石峰区", "天元区")
        )
    return "\n".join(parts)


def rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def throughput(pages: int, rng: random.Random) -> tuple[float, float]:
    corpus = [generated_page(rng) for _ in range(pages)]
    extract_page(corpus[0])  # load OpenCC, division data and catalog once
    # CPU time of this process: the figure is per core and does not depend on
    # what else the machine is running.
    started = time.process_time()
    for page in corpus:
        extract_page(page)
    elapsed = time.process_time() - started
    return pages / elapsed, sum(len(p) for p in corpus) / pages


def memory_run(pages: int, rng: random.Random) -> tuple[float, float]:
    templates = [generated_page(rng) for _ in range(50)]
    for page in templates[:20]:
        extract_page(page)
    start = rss_mb()
    for index in range(pages):
        # Vary numbers so no page is a repeat a cache could hold on to.
        page = templates[index % len(templates)].replace("12338", str(12338 + index % 7))
        extract_page(page + f"\n共计{index}人次。")
    return start, rss_mb()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--pages", type=int, default=300, help="generated pages for speed")
    parser.add_argument(
        "--memory-pages", type=int, default=10_000, help="pages for the RSS run (0 to skip)"
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="list gold misses and extras")
    parser.add_argument(
        "--split", choices=("dev", "test", "all"), default="test", help="real-page split to score"
    )
    parser.add_argument(
        "--corpus", type=Path, default=realpages.CORPUS_DIR, help="real-page corpus directory"
    )
    parser.add_argument(
        "--show-errors", action="store_true", help="list real-page errors (dev split only)"
    )
    args = parser.parse_args(argv)
    if args.show_errors and args.split != "dev":
        parser.error("--show-errors is for --split dev only: test pages are never inspected")

    real: realpages.Scores | None = None
    try:
        if args.split == "dev":
            # Pages labelled after the split (dev_added) are dev too: each part is
            # reported, and the targets apply to both together.
            parts = {name: realpages.score(args.corpus, name) for name in ("dev", "dev_added")}
            real = realpages.combined(*parts.values())
            reports = [(name, part) for name, part in parts.items() if part.pages]
            if parts["dev_added"].pages:
                reports.append(("dev+dev_added", real))
        else:
            real = realpages.score(args.corpus, args.split)
            reports = [(args.split, real)]
    except realpages.CorpusError as exc:
        print(f"real pages          not scored: {exc}")
    if real is not None:
        for name, part in reports:
            for line in realpages.report(name, part):
                print(line)
            print()
        if args.show_errors:
            for line in real.errors:
                print("  " + line)
            print()

    tally = Tally()
    gold_files = sorted(GOLD_DIR.glob("*.jsonl"))
    for gold_path in gold_files:
        score_page(gold_path, tally)
    precision = tally.matched_predictions / tally.predicted if tally.predicted else 0.0
    recall_prose = tally.found["prose"] / tally.gold["prose"] if tally.gold["prose"] else 1.0
    recall_table = tally.found["table"] / tally.gold["table"] if tally.gold["table"] else 1.0
    qualifier_accuracy = tally.qualifier_ok / tally.pairs if tally.pairs else 0.0
    indicator_agreement = tally.indicator_ok / tally.pairs if tally.pairs else 0.0

    print(f"gold pages          {len(gold_files)}")
    print(f"gold statistics     prose {tally.gold['prose']}, table {tally.gold['table']}")
    print(f"predicted           {tally.predicted}")
    print(f"precision           {precision:.4f}")
    print(f"recall (prose)      {recall_prose:.4f}")
    print(f"recall (table)      {recall_table:.4f}")
    print(f"qualifier accuracy  {qualifier_accuracy:.4f}")
    print(f"indicator agreement {indicator_agreement:.4f}  (information only)")
    if args.verbose:
        for line in tally.misses + tally.extras + tally.qualifier_errors:
            print("  " + line)

    rng = random.Random(20240601)
    pages_per_second, mean_chars = throughput(args.pages, rng)
    print(
        f"throughput          {pages_per_second:.1f} pages/s "
        f"({args.pages} generated pages, mean {mean_chars:.0f} chars, one core)"
    )
    rss_growth = 0.0
    if args.memory_pages:
        start, end = memory_run(args.memory_pages, rng)
        rss_growth = end - start
        print(
            f"memory              RSS start {start:.1f} MB, end {end:.1f} MB "
            f"after {args.memory_pages} pages (growth {rss_growth:+.1f} MB)"
        )

    # The targets are about real pages; without the corpus the gold figures stand in.
    figures = (
        real.figures()
        if real is not None and real.pages
        else {
            "precision": precision,
            "recall_prose": recall_prose,
            "recall_table": recall_table,
            "qualifier_accuracy": qualifier_accuracy,
        }
    )
    figures["pages_per_second"] = pages_per_second
    missed = [name for name, target in TARGETS.items() if figures[name] < target]
    if args.memory_pages and rss_growth > MAX_RSS_GROWTH_MB:
        missed.append("memory")
    print("targets             " + ("all met" if not missed else "missed: " + ", ".join(missed)))
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
