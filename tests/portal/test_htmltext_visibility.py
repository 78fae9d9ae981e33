"""Nothing a reader cannot see is extracted from an HTML page (issues #13, #15).

Each case hides one statistic by one mechanism inside the article body, beside a
visible one, and is checked twice: at ``html_to_text`` and through
``huizong extract`` on an .html file. Each case also has its revealed twin (the
same markup with the hiding taken away), which must yield the hidden figure:
that is what makes each test able to fail.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from huizong.cli import main as huizong_main
from huizong.portal.charset import decode_html
from huizong.portal.htmltext import html_to_text

VISIBLE = "全县共有妇女之家128个"
HIDDEN = "培训妇女9999人次"


def article(hidden: str, head: str = "", charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html><html><head><meta charset="{charset}">'
        f"<title>某县妇联2023年工作总结</title>{head}</head><body>"
        '<div class="nav"><a href="/">首页</a> <a href="/gzdt/">工作动态</a></div>'
        '<div class="article"><h1>某县妇联2023年工作总结</h1>'
        f"<p>2023年，{VISIBLE}，各级妇联组织围绕中心、服务大局，扎实推进各项工作，"
        "妇女群众的获得感不断增强。</p>"
        f"{hidden}"
        "<p>下一步，县妇联将继续加强基层组织建设，更好地服务妇女儿童。</p>"
        "</div></body></html>"
    )


def cli_quotes(tmp_path: Path, html: str, name: str = "page.html", encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(html.encode(encoding))
    out = io.StringIO()
    with redirect_stdout(out):
        code = huizong_main(["extract", str(path)])
    assert code == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    return " ".join(f"{r['quote']}={r['value']}" for r in rows)


# name -> (markup in <head>, hidden markup in the article, the same revealed)
CASES: dict[str, tuple[str, str, str]] = {
    "script": ("", f"<script>var s = '全县{HIDDEN}';</script>", f"<p>全县{HIDDEN}。</p>"),
    "json_ld": (
        "",
        f'<script type="application/ld+json">{{"description": "全县{HIDDEN}"}}</script>',
        f"<p>全县{HIDDEN}。</p>",
    ),
    "script_in_head": (
        f"<script>document.title='全县{HIDDEN}';</script>",
        "",
        f"<p>全县{HIDDEN}。</p>",
    ),
    "style_text": (
        "",
        f"<style>.x {{ color: red }} /* 全县{HIDDEN} */</style>",
        f"<p>全县{HIDDEN}。</p>",
    ),
    "comment": ("", f"<!-- <p>全县{HIDDEN}。</p> -->", f"<p>全县{HIDDEN}。</p>"),
    "ie_conditional_comment": (
        "",
        f"<!--[if IE]><p>全县{HIDDEN}。</p><![endif]-->",
        f"<p>全县{HIDDEN}。</p>",
    ),
    "ie_conditional_lt_ie9": (
        "",
        f"<!--[if lt IE 9]><div class='tip'>全县{HIDDEN}。</div><![endif]-->",
        f"<div class='tip'>全县{HIDDEN}。</div>",
    ),
    "template": (
        "",
        f"<template><p>全县{HIDDEN}。</p></template>",
        f"<div><p>全县{HIDDEN}。</p></div>",
    ),
    "noscript": (
        "",
        f"<noscript><p>全县{HIDDEN}。</p></noscript>",
        f"<div><p>全县{HIDDEN}。</p></div>",
    ),
    "input_hidden": (
        "",
        f'<form><input type="hidden" name="summary" value="全县{HIDDEN}"></form>',
        f"<form><p>全县{HIDDEN}</p></form>",
    ),
    "input_value": (
        "",
        f'<input type="text" value="全县{HIDDEN}"><select><option>全县{HIDDEN}</option></select>',
        f"<p>全县{HIDDEN}</p>",
    ),
    "hidden_attribute": ("", f"<p hidden>全县{HIDDEN}。</p>", f"<p>全县{HIDDEN}。</p>"),
    "hidden_attribute_descendants": (
        "",
        f'<div hidden="hidden"><section><p>另外，<b>全县{HIDDEN}</b>。</p></section></div>',
        f"<div><section><p>另外，<b>全县{HIDDEN}</b>。</p></section></div>",
    ),
    "inline_display_none": (
        "",
        f'<p style="display:none">全县{HIDDEN}。</p>',
        f'<p style="display:block">全县{HIDDEN}。</p>',
    ),
    "inline_display_none_spacing_case_important": (
        "",
        f'<div style="COLOR: red ;  Display :\n NONE !IMPORTANT ;"><p>全县{HIDDEN}。</p></div>',
        f'<div style="COLOR: red ;  Display :\n BLOCK !IMPORTANT ;"><p>全县{HIDDEN}。</p></div>',
    ),
    "inline_display_none_descendants": (
        "",
        f'<div style="display: none"><ul><li><span>全县{HIDDEN}</span></li></ul></div>',
        f'<div style="display: block"><ul><li><span>全县{HIDDEN}</span></li></ul></div>',
    ),
    "inline_visibility_hidden": (
        "",
        f'<p style="visibility:hidden">全县{HIDDEN}。</p>',
        f'<p style="visibility:visible">全县{HIDDEN}。</p>',
    ),
    "inline_visibility_collapse_descendants": (
        "",
        f'<div style="visibility: Collapse"><p><em>全县{HIDDEN}</em>。</p></div>',
        f'<div style="visibility: visible"><p><em>全县{HIDDEN}</em>。</p></div>',
    ),
    "class_rule_display_none": (
        "<style>.hide { display: none; }</style>",
        f'<p class="lead hide">全县{HIDDEN}。</p>',
        f'<p class="lead">全县{HIDDEN}。</p>',
    ),
    "class_rule_visibility_hidden": (
        "<style>\n.ghost{visibility:hidden}\n</style>",
        f'<div class="ghost"><p>全县{HIDDEN}。</p></div>',
        f'<div class="ghosts"><p>全县{HIDDEN}。</p></div>',
    ),
    "id_rule": (
        "<style>#secret { DISPLAY : NONE !important }</style>",
        f'<div id="secret"><p>全县{HIDDEN}。</p></div>',
        f'<div id="secret2"><p>全县{HIDDEN}。</p></div>',
    ),
    "tag_class_rule": (
        "<style>p.off{display:none}</style>",
        f'<p class="off">全县{HIDDEN}。</p>',
        f'<div class="off">全县{HIDDEN}。</div>',
    ),
    "grouped_selector_rule": (
        "<style>h6, .gone, #nothing { display: none }</style>",
        f'<p class="gone">全县{HIDDEN}。</p>',
        f'<p class="went">全县{HIDDEN}。</p>',
    ),
    "descendant_selector_rule": (
        "<style>.box .inner { display: none }</style>",
        f'<div class="box"><div><p class="inner">全县{HIDDEN}。</p></div></div>',
        f'<div class="crate"><div><p class="inner">全县{HIDDEN}。</p></div></div>',
    ),
    "child_selector_rule": (
        "<style>div.box>p{visibility:hidden}</style>",
        f'<div class="box"><p>全县{HIDDEN}。</p></div>',
        f'<div class="box"><div><p>全县{HIDDEN}。</p></div></div>',
    ),
    "attribute_selector_rule": (
        '<style>[data-role="off"] { display: none }</style>',
        f'<p data-role="off">全县{HIDDEN}。</p>',
        f'<p data-role="on">全县{HIDDEN}。</p>',
    ),
    "rule_in_body_style_and_media_screen": (
        "",
        f"<style>@media screen {{ .scr {{ display: none }} }}</style><p class=scr>全县{HIDDEN}</p>",
        f"<style>@media print {{ .scr {{ display: none }} }}</style><p class=scr>全县{HIDDEN}</p>",
    ),
    # A later declaration with a value that is not a display value is dropped
    # by browsers, so the earlier "none" stands.
    "invalid_later_display_value": (
        "",
        f'<p style="display:none; display: 12px">全县{HIDDEN}。</p>',
        f'<p style="display:none; display: block">全县{HIDDEN}。</p>',
    ),
    "important_rule_beats_inline": (
        "<style>.hide { display: none !important }</style>",
        f'<p class="hide" style="display: block">全县{HIDDEN}。</p>',
        f'<p class="hide2" style="display: block">全县{HIDDEN}。</p>',
    ),
    "dialog_closed": (
        "",
        f"<dialog><p>全县{HIDDEN}。</p></dialog>",
        f"<dialog open><p>全县{HIDDEN}。</p></dialog>",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hidden_statistic_is_not_extracted(name: str, tmp_path: Path) -> None:
    head, hidden, _ = CASES[name]
    html = article(hidden, head)
    text = html_to_text(html).text
    assert VISIBLE in text
    assert "9999" not in text
    quotes = cli_quotes(tmp_path, html)
    assert f"{VISIBLE}=128" in quotes
    assert "9999" not in quotes


@pytest.mark.parametrize("name", sorted(CASES))
def test_revealed_twin_is_extracted(name: str, tmp_path: Path) -> None:
    head, _, revealed = CASES[name]
    html = article(revealed, head)
    assert HIDDEN in html_to_text(html).text
    quotes = cli_quotes(tmp_path, html)
    assert f"{VISIBLE}=128" in quotes and "=9999" in quotes


# Shown to a reader, so kept: each would be lost by an over-eager filter.
SHOWN: dict[str, tuple[str, str]] = {
    # Every current browser ignores the markers and shows what is between them.
    "downlevel_revealed_conditional": ("", f"<![if !IE]><p>全县{HIDDEN}。</p><![endif]>"),
    "downlevel_revealed_comment_form": (
        "",
        f"<!--[if !IE]><!--><p>全县{HIDDEN}。</p><!--<![endif]-->",
    ),
    # aria-hidden hides from screen readers only.
    "aria_hidden": ("", f'<p aria-hidden="true">全县{HIDDEN}。</p>'),
    # visibility is inherited but a descendant may set it back.
    "visible_inside_hidden": (
        "",
        f'<div style="visibility:hidden">注：<p style="visibility:visible">全县{HIDDEN}</p></div>',
    ),
    # The rule is for print, for a state the page is not in, or commented out.
    "print_only_rule": (
        "<style>@media print { .x { display: none } }</style>",
        f'<p class="x">全县{HIDDEN}。</p>',
    ),
    "hover_rule": ("<style>.x:hover { display: none }</style>", f'<p class="x">全县{HIDDEN}。</p>'),
    "rule_in_noscript_or_template": (
        "<noscript><style>.x { display: none }</style></noscript>"
        "<template><style>.x { visibility: hidden }</style></template>",
        f'<p class="x">全县{HIDDEN}。</p>',
    ),
    "commented_out_rule": (
        "<style>/* .x { display: none } */</style>",
        f'<p class="x">全县{HIDDEN}。</p>',
    ),
    "rule_in_string_only": (
        "<style>.y::after { content: '.x { display: none }' }</style>",
        f'<p class="x">全县{HIDDEN}。</p>',
    ),
    # Later and more specific rules win the cascade.
    "more_specific_rule_shows": (
        "<style>#a.hide { display: block } .hide { display: none }</style>",
        f'<p id="a" class="hide">全县{HIDDEN}。</p>',
    ),
    "inline_overrides_sheet": (
        "<style>.hide { display: none }</style>",
        f'<p class="hide" style="display:block">全县{HIDDEN}。</p>',
    ),
    "hidden_overridden_by_author": (
        "<style>p[hidden] { display: block }</style>",
        f"<p hidden>全县{HIDDEN}。</p>",
    ),
}


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_shown_statistic_is_extracted(name: str, tmp_path: Path) -> None:
    head, shown = SHOWN[name]
    html = article(shown, head)
    text = html_to_text(html).text
    assert HIDDEN in text and VISIBLE in text
    assert "[if" not in text and "endif" not in text
    quotes = cli_quotes(tmp_path, html)
    assert "=9999" in quotes


def test_display_none_drops_only_the_element_not_the_text_after_it() -> None:
    html = article(f'<p>甲<span style="display:none">全县{HIDDEN}</span>乙村建成妇女之家3个。</p>')
    text = html_to_text(html).text
    assert "甲乙村建成妇女之家3个" in text and "9999" not in text


def test_hidden_table_rows_and_cells_are_dropped(tmp_path: Path) -> None:
    rows = "".join(
        f"<tr><td>{town}</td><td>{a}</td><td>{b}</td></tr>"
        for town, a, b in (("城关镇", 12, 30), ("新华镇", 8, 21), ("河口乡", 5, 17))
    )
    table = (
        "<style>.sum{display:none}</style>"
        "<table border='1'><tr><th>乡镇</th><th>妇女之家(个)</th><th>培训人次(人次)</th></tr>"
        f"{rows}"
        "<tr style='display:none'><td>隐藏镇</td><td>9999</td><td>9999</td></tr>"
        "<tr class='sum'><td>合计</td><td>8888</td><td>8888</td></tr>"
        "<tr><td>石桥镇</td><td>7</td><td><span hidden>7777</span></td></tr>"
        "</table>"
    )
    page = html_to_text(article(table))
    (grid,) = page.tables
    assert [row[0] for row in grid.body] == ["城关镇", "新华镇", "河口乡", "石桥镇"]
    assert grid.body[-1] == ("石桥镇", "7", "")
    for figure in ("9999", "8888", "7777"):
        assert figure not in page.text
    quotes = cli_quotes(tmp_path, article(table))
    assert "城关镇" not in quotes or "12" in quotes
    for figure in ("9999", "8888", "7777"):
        assert figure not in quotes


def test_display_none_cell_shifts_the_row_like_a_browser() -> None:
    table = (
        "<table><tr><th>乡镇</th><th>妇女之家(个)</th><th>培训人次(人次)</th></tr>"
        "<tr><td>城关镇</td><td style='display:none'>9999</td><td>12</td><td>30</td></tr>"
        "<tr><td>新华镇</td><td>8</td><td>21</td></tr></table>"
    )
    (grid,) = html_to_text(article(table)).tables
    assert grid.body == (("城关镇", "12", "30"), ("新华镇", "8", "21"))


def gbk_page(hidden: str) -> bytes:
    """A short GBK page declared gb2312, its <meta> after 5 KB of <style> (browsers
    still honour it there; charset detection alone reads this page as cp1250)."""
    head = (
        "<html><head><style>"
        + ".a{color:red}\n" * 400
        + '</style><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        + "<title>石塅村妇联工作总结</title></head><body>"
    )
    # GBK-only characters (not in GB2312): 塅 and the middle dot of names.
    body = (
        "<h1>石塅村妇联——工作总结·2023</h1>"
        f"<p>{VISIBLE}，培训妇女3560人次，发放贷款1.25亿元。巾帼志愿者服务队开展活动。</p>"
    )
    return (head + body + hidden + "</body></html>").encode("gbk")


def test_gbk_page_declared_gb2312_is_decoded_and_hides(tmp_path: Path) -> None:
    data = gbk_page(f'<p style="display:none">全县{HIDDEN}。</p>')
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb2312")
    path = tmp_path / "gbk.html"
    path.write_bytes(data)
    out = io.StringIO()
    with redirect_stdout(out):
        assert huizong_main(["extract", str(path)]) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    quotes = " ".join(f"{r['quote']}={r['value']}" for r in rows)
    assert f"{VISIBLE}=128" in quotes and "培训妇女3560人次=3560" in quotes
    assert "9999" not in quotes
    assert decode_html(data).text.count("塅") == 2


def test_gbk_page_with_a_stray_byte_is_still_read(tmp_path: Path) -> None:
    # A page cut mid-character (a CMS summary) is not refused, nor handed to
    # detection: browsers show it in its charset, with one replacement character.
    data = gbk_page("<p>末尾STRAY</p>").replace(b"STRAY", b"\x81")
    assert b"\x81</p>" in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("gb18030")
    decoded = decode_html(data)
    assert decoded.encoding == "gb18030" and decoded.replaced == 1
    assert "石塅村" in decoded.text
    path = tmp_path / "stray.html"
    path.write_bytes(data)
    out = io.StringIO()
    with redirect_stdout(out):
        assert huizong_main(["extract", str(path)]) == 0
    quotes = [json.loads(line)["quote"] for line in out.getvalue().splitlines()]
    assert any(VISIBLE in q for q in quotes)


def test_short_page_fallback_reads_only_the_visible_markup() -> None:
    # Too little text for a main block: the page goes to trafilatura, which
    # must get the pruned page, not the raw one.
    html = (
        "<html><head><style>.x{display:none}</style></head><body>"
        f"<p>{VISIBLE}。</p><p style='display:none'>全县{HIDDEN}。</p>"
        "<div class='x'>全县培训妇女8888人次</div><div hidden>全县培训妇女7777人次</div>"
        "</body></html>"
    )
    page = html_to_text(html)
    assert page.method == "trafilatura"
    assert VISIBLE in page.text
    for figure in ("9999", "8888", "7777"):
        assert figure not in page.text


def test_deep_nesting_and_empty_pages_are_read() -> None:
    # Deeper than Python's recursion limit (libxml2 keeps up to 2048 levels).
    deep = (
        "<html><body>" + "<div>" * 1800 + f"<p>{VISIBLE}。</p>" + "</div>" * 1800 + "</body></html>"
    )
    assert VISIBLE in html_to_text(deep).text
    for empty in ("", "   ", "<!-- only a comment -->", "\x00"):
        assert html_to_text(empty).tables == ()


def test_stray_byte_page_keeps_its_meta_charset_over_a_wrong_server_default() -> None:
    data = gbk_page("<p>末尾STRAY</p>").replace(b"STRAY", b"\x81")
    decoded = decode_html(data, "text/html; charset=utf-8")
    assert decoded.encoding == "gb18030" and decoded.replaced == 1
    assert "石塅村" in decoded.text


def test_mislabelled_page_with_many_bad_bytes_is_not_forced_into_its_label() -> None:
    # Every Chinese character fails as UTF-8: far too many to be stray bytes.
    data = gbk_page("")
    decoded = decode_html(data.replace(b"charset=gb2312", b"charset=utf-8"))
    assert decoded.replaced == 0 and "石塅村" in decoded.text


def test_undeclared_short_gbk_page_is_read_as_chinese() -> None:
    # charset detection alone calls this page cp1250.
    data = gbk_page("").replace(
        b'<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', b""
    )
    decoded = decode_html(data)
    assert decoded.encoding == "gb18030" and "石塅村" in decoded.text
