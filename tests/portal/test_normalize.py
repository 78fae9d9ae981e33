from __future__ import annotations

from pathlib import Path

import pytest
from huizong.portal.normalize import normalize
from hypothesis import given
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parents[2] / "include" / "huizong" / "data" / "corpus"


def seed(prefix: str) -> str:
    return next(CORPUS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def test_inserted_pinyin_is_removed_and_traditional_converted() -> None:
    result = normalize("兩當縣站兒巷鎮(zhèn)婦聯(lián)組織(zhī)開展活動")
    assert result.text == "两当县站儿巷镇妇联组织开展活动"
    assert "pinyin_removed" in result.repairs
    assert "t2s" in result.repairs


@pytest.mark.parametrize(
    "kept", ["13个村(社区)", "办法（试行）", "文件(2020)", "邮箱(OA)", "疫苗(HPV)"]
)
def test_legitimate_brackets_survive(kept: str) -> None:
    assert normalize(kept).text == kept.replace("（", "(").replace("）", ")")


def test_circled_numbers_do_not_glue_onto_digits() -> None:
    text = normalize("其中:①3个区县全覆盖").text
    assert "13个" not in text
    assert "3个区县" in text


def test_full_width_and_zero_width_and_odd_spacing() -> None:
    text = normalize("开展活动 400\u200b 余场次,覆盖 1.4 万名,共１，２３４人,占８５％").text
    assert "400余场次" in text
    assert "1.4万名" in text
    assert "1,234人" in text
    assert "85%" in text


def test_ocr_confusions_of_federation_vocabulary() -> None:
    text = normalize("中帼建功、巾帽脱贫、巾烟思想、巾幅之志、巾相领航;殷股关怀").text
    assert text == "巾帼建功、巾帼脱贫、巾帼思想、巾帼之志、巾帼领航;殷殷关怀"


def test_article_printed_twice_is_kept_once() -> None:
    result = normalize(seed("001"))
    assert result.text.count("融妇通〔20201") == 1
    assert result.text.count("请于2020323日前") == 1
    assert "欢迎访问" not in result.text
    assert "second_copy_removed" in result.repairs


def test_footer_and_unrelated_headlines_are_dropped() -> None:
    text_002 = normalize(seed("002")).text
    assert "微信扫一扫" not in text_002
    assert "版权声明" not in text_002
    assert text_002.rstrip().endswith("谱写新时代的巾帼华章。")
    text_000 = normalize(seed("000")).text
    assert "结核病" not in text_000
    assert text_000.rstrip().endswith("着力筑牢疫情防控坚强防线。")


def test_signature_and_byline_at_the_end_survive() -> None:
    assert normalize(seed("001")).text.rstrip().endswith("2020年33")
    assert normalize(seed("003")).text.rstrip().endswith("(图片由市妇联提供)")


def test_offsets_map_back_to_the_raw_span() -> None:
    raw = "西部決策網訊 站兒巷鎮(zhèn)婦聯(lián)共開展兌換活動142次,受益群衆(zhòng)588人"
    result = normalize(raw)
    start = result.text.index("588人")
    raw_start, raw_end = result.to_raw(start, start + len("588人"))
    assert raw[raw_start:raw_end] == "588人"
    start = result.text.index("妇联")
    assert result.raw_slice(start, start + 2) == "婦聯"


def test_offsets_of_full_width_text() -> None:
    raw = "培训学员１，２３４人"
    result = normalize(raw)
    start = result.text.index("1,234")
    assert result.raw_slice(start, start + 5) == "１，２３４"


# Page-like text that exercises every rewrite: full-width digits, pinyin,
# Traditional characters, circled numbers, zero-width spaces.
PAGE_TEXT = st.text(
    alphabet=st.sampled_from(list("妇联巾帼１２3４,，。\n (社区)婦聯(lián)①万余人次 \u200b")),
    max_size=80,
)


@given(PAGE_TEXT)
def test_every_character_maps_into_the_raw_text(raw: str) -> None:
    result = normalize(raw)
    assert len(result.starts) == len(result.text) == len(result.ends)
    for index in range(len(result.text)):
        raw_start, raw_end = result.to_raw(index, index + 1)
        assert 0 <= raw_start <= raw_end <= len(raw)


@given(PAGE_TEXT)
def test_offset_columns_iterate_slice_and_compare_like_lists(raw: str) -> None:
    result = normalize(raw)
    for column in (result.starts, result.ends):
        by_index = [column[index] for index in range(len(column))]
        assert list(column) == by_index == column
        assert column[1:-1] == by_index[1:-1]
