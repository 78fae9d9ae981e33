"""Article title, date and main text: selector, then page metadata, then heuristics."""

from __future__ import annotations

import datetime

from huizong.portal.article import read_article, title_core
from huizong.portal.crawl import extract_article_links, link_tooltip_title

D = datetime.date
TITLE = "关于做好2024年度妇联组织和工作统计年报的通知"


def page(body: str, head: str = "", title: str = f"{TITLE}_通知公告_某县妇联") -> str:
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f"<body>{body}</body></html>"
    )


def test_configured_selectors_come_first_and_main_text_selector_takes_effect():
    html = page(
        f'<h1>某县妇联</h1><div class="t"><b>{TITLE}</b></div><span class="d">2024-12-20</span>'
        '<div class="side"><p>侧栏的推荐文章内容在这里出现。</p></div>'
        '<div class="body"><p>各乡镇妇联：为全面掌握全县妇联组织建设和工作开展情况，'
        '现就做好年度统计年报工作通知如下。请于1月10日前报送年报。</p></div>',
        head=(
            '<meta name="ArticleTitle" content="元数据标题不应优先">'
            '<meta name="PubDate" content="2020-01-01">'
        ),
    )
    meta = read_article(
        html, title_selector="div.t", date_selector="span.d", main_text_selector="div.body"
    )
    assert (meta.title, meta.title_source) == (TITLE, "selector")
    assert (meta.published, meta.published_source) == (D(2024, 12, 20), "selector")
    assert "请于1月10日前" in meta.text and "侧栏" not in meta.text
    missed = read_article(html, title_selector="div.none", main_text_selector="div.gone")
    assert missed.title == "元数据标题不应优先"
    assert any("title_selector 'div.none' matched nothing" in n for n in missed.notes)
    assert any("main_text_selector 'div.gone' matched nothing" in n for n in missed.notes)


def test_page_metadata_before_heuristics():
    html = page(
        "<h1>某县妇联</h1><p>发布时间：2019-01-01</p>",
        head=(
            f'<meta property="og:title" content="{TITLE}">'
            '<meta property="article:published_time" content="2024-12-20T09:00:00+08:00">'
        ),
    )
    meta = read_article(html)
    assert (meta.title, meta.published) == (TITLE, D(2024, 12, 20))
    assert meta.title_source == meta.published_source == "meta"
    wp = page(
        '<time class="updated" datetime="2025-02-01">2月1日</time>'
        '<time class="entry-date published" datetime="2024-12-20T09:00:00+08:00">12月20日</time>'
    )
    assert read_article(wp).published == D(2024, 12, 20)


def test_never_the_site_name_h1_nor_a_byline():
    html = page(
        "<h1>某县妇联</h1>"
        '<div class="entry-meta">发布于 2024年12月20日 作者 admin</div>'
        f"<h3>{TITLE}</h3><p>正文第一段，内容很长很长。</p>"
    )
    meta = read_article(html, link_title=TITLE, site_names=("某县妇联",))
    assert (meta.title, meta.title_source) == (TITLE, "heading")
    # Without any link text the <title> minus its suffixes finds the same heading.
    assert read_article(html).title == TITLE
    # A page whose only heading is the site name: the link's text, never the h1.
    bare = page("<h1>某县妇联</h1><p>正文。</p>", title="某县妇联")
    assert read_article(bare, link_title=TITLE, site_names=("某县妇联",)).title == TITLE
    assert read_article(bare, site_names=("某县妇联",)).title is None


def test_a_cut_list_title_matches_its_heading_by_prefix():
    html = page(f"<h2>{TITLE}</h2>", title="某县妇联")
    meta = read_article(html, link_title=TITLE[:12] + "...", site_names=("某县妇联",))
    assert (meta.title, meta.title_source) == (TITLE, "heading")


def test_publication_date_from_marker_lines_never_from_signed_updated_or_body():
    signed_first = page(
        "<table><tr><td>成文日期：</td><td>2024-12-18</td></tr>"
        "<tr><td>发布日期：</td><td>2024-12-20</td></tr></table>"
        "<p>2024年12月1日，全县召开了会议。</p>"
    )
    assert read_article(signed_first).published == D(2024, 12, 20)
    updated = page("<p>更新于：2025-01-03</p><p>发布于 2013-1-21</p>")
    assert read_article(updated).published == D(2013, 1, 21)
    only_updated = page("<td>作者：admin 点击数：5 更新时间：2013-1-21</td>")
    assert read_article(only_updated).published == D(2013, 1, 21)
    body_only = page("<p>2024年12月1日，全县召开了会议。会议要求12月20日前完成。</p>")
    assert read_article(body_only).published is None
    assert read_article(body_only, link_date=D(2024, 12, 2)).published_source == "list"


def test_title_core_and_link_tooltips():
    assert title_core(f"{TITLE}_通知公告_某县妇联") == TITLE
    assert title_core(f"某县妇联--{TITLE}", ("某县妇联",)) == TITLE
    assert title_core("推出居家抗疫·系列微课——塅头村 - 某镇") == "推出居家抗疫·系列微课——塅头村"
    tooltip = f"文章标题：{TITLE}\n作者：admin\n更新时间：2013-1-21 9:10:11\n点击数：56"
    assert link_tooltip_title(tooltip) == TITLE
    assert link_tooltip_title(f"{TITLE} 作者：admin") == TITLE
    html = (
        f'<ul><li><a href="a.asp?id=1" title="{tooltip}">关于做好…</a>'
        "<span>(2013-1-21)</span></li></ul>"
    )
    [link] = extract_article_links(html, "http://x.gov.cn/list.asp", "li")
    assert link.title == TITLE and link.date == D(2013, 1, 21)


def test_a_byline_date_without_a_marker_but_never_a_body_date():
    html = page(
        f"<h1>{TITLE}<br/><span>2024-07-02 09:30:00 来源：本站 点击：12</span></h1>"
        "<p>2024年6月1日，全县召开会议，来源广泛的代表参加。这是正文的一段很长的文字，没有日期标记。</p>"
    )
    meta = read_article(html)
    assert (meta.title, meta.published, meta.published_source) == (
        TITLE, D(2024, 7, 2), "byline")


def test_meta_names_in_any_case_and_og_title_without_its_site_suffix():
    html = page(
        "<p>正文</p>",
        head=(
            f'<meta property="og:title" content="{TITLE} - 某县妇联">'
            '<meta name="pubdate" content="2024-12-20 08:00">'
        ),
        title=f"{TITLE} - 某县妇联",
    )
    meta = read_article(html, site_names=("某县妇联",))
    assert (meta.title, meta.published) == (TITLE, D(2024, 12, 20))


def test_a_time_or_date_field_in_the_body_is_not_the_publication_date():
    html = page(
        "<p>会议时间：2024年3月10日上午9点。报名日期：2024年3月1日。</p>"
        "<div><small>时间:</small>2024-02-20 10:20<small>来源:</small>未知</div>"
    )
    assert read_article(html).published == D(2024, 2, 20)
    assert read_article(page("<p>会议时间：2024年3月10日上午9点。</p>")).published is None
