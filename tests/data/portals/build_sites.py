"""Build the portal imitations in this folder: one small site per CMS family.

Run ``python tests/data/portals/build_sites.py`` to rewrite every
``<family>/site/`` tree, ``<family>/truth.json`` and ``<family>/serve.json``
from the definitions below; the output is committed, so tests read files and
never run this.

Each site imitates the chrome of its CMS family as it appears on Chinese
government and federation portals (TRS WCM, Hanweb JCMS, DedeCMS, PHPCMS,
帝国CMS, 动易/ASP, WordPress, a hand-made static site): its list markup,
pagination, ``<title>`` suffixes, site-name ``<h1>``, bylines, encoding, and
traps — reposts and tracking-query aliases of one article, calendars, dead
links, list pages past the end, a page padded past the download cap, 成文日期
and updated dates next to the publication date.

Article bodies are paragraphs of real pages (``bodies.json``, copied from the
real-page corpus, which names each source). The notices wrap them in a frame
of our own (document number, recipients, deadline, signature), so the truth
of every field is known.

A file whose URL has a query is stored with ``?`` written ``%3F``; the test
server (``tests/portal/test_portal_imitations.py``) serves it for that exact
query and, like real sites, ignores tracking parameters.
"""

# ruff: noqa: E501 - HTML templates are kept one line per element, as the sites write them
from __future__ import annotations

import datetime
import html
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BODIES = json.loads((HERE / "bodies.json").read_text(encoding="utf-8"))
D = datetime.date


def esc(text: str) -> str:
    return html.escape(text, quote=True)


@dataclass
class Article:
    path: str  # where the site serves it (with query if any)
    title: str
    published: datetime.date
    body: int  # index into BODIES
    doc_number: str | None = None
    deadline_text: str | None = None  # as written in the notice
    deadline: datetime.date | None = None
    signed: datetime.date | None = None  # 成文日期 / the signature's date
    also_at: list[str] = field(default_factory=list)  # aliases the lists link too
    truncated: bool = False
    short: str | None = None  # the list's cut title, when the list cuts it

    def paragraphs(self, issuer: str) -> list[str]:
        paras = list(BODIES[self.body]["paragraphs"])
        if self.deadline_text is None and self.doc_number is None:
            return paras
        signed = self.signed or self.published
        deadline = (
            [f"请于{self.deadline_text}前将工作开展情况和统计报表报送{issuer}办公室。"]
            if self.deadline_text
            else []
        )
        return [
            *([self.doc_number] if self.doc_number else []),
            "各县（市、区）妇联、各乡镇（街道）妇联：",
            *paras,
            *deadline,
            issuer,
            f"{signed.year}年{signed.month}月{signed.day}日",
        ]


def cut(title: str, length: int, mark: str = "...") -> str:
    return title if len(title) <= length else title[:length] + mark


def body_html(article: Article, issuer: str, tag: str = "p") -> str:
    return "\n".join(
        f'<{tag} style="text-indent:2em">{esc(p)}</{tag}>' for p in article.paragraphs(issuer)
    )


@dataclass
class Site:
    family: str
    name: str  # the site's name, as its chrome shows it
    codec: str  # how the pages are encoded
    content_type: str  # the Content-Type header the server sends
    articles: list[Article]
    dead: list[str] = field(default_factory=list)  # linked, but 404
    files: dict[str, str] = field(default_factory=dict)  # path -> HTML text

    def add(self, path: str, text: str) -> None:
        self.files[path] = text

    def write(self) -> None:
        root = HERE / self.family
        if (root / "site").exists():
            shutil.rmtree(root / "site")
        for path, text in self.files.items():
            name = path.lstrip("/").replace("?", "%3F")
            if name.endswith("/") or not name:
                name += "index.html"
            target = root / "site" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode(self.codec, "xmlcharrefreplace"))
        truth = {
            "family": self.family,
            "articles": [
                {
                    "url": a.path,
                    "title": a.title,
                    "date": a.published.isoformat(),
                    "doc_number": a.doc_number,
                    "deadline": a.deadline.isoformat() if a.deadline else None,
                    "also_at": a.also_at,
                    "truncated": a.truncated,
                    "body_source": BODIES[a.body]["source"],
                }
                for a in self.articles
            ],
            "dead_links": self.dead,
        }
        (root / "truth.json").write_text(
            json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        (root / "serve.json").write_text(
            json.dumps({"content_type": self.content_type}) + "\n", encoding="utf-8"
        )


def pages_of(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# --- TRS WCM: index.html / index_1.html, createPageHTML, ArticleTitle/PubDate metas ---------


def build_trs() -> Site:
    issuer = "株洲市妇女联合会"
    arts = [
        Article("/tzgg/202404/t20240402_3120.html", "关于开展2024年度“最美家庭”寻找活动的通知",
                D(2024, 4, 2), 8, "株妇发〔2024〕12号", "2024年4月15日", D(2024, 4, 15),
                signed=D(2024, 3, 29)),
        Article("/tzgg/202312/t20231220_3011.html", "关于报送2023年度妇联组织和工作统计年报的通知",
                D(2023, 12, 20), 3, "株妇字〔2023〕30号", "1月10日", D(2024, 1, 10),
                signed=D(2023, 12, 18)),
        Article("/tzgg/202311/t20231108_2987.html", BODIES[0]["title"], D(2023, 11, 8), 0),
        Article("/tzgg/202310/t20231016_2950.html", BODIES[9]["title"], D(2023, 10, 16), 9,
                truncated=True),
        Article("/tzgg/202309/t20230905_2901.html", BODIES[12]["title"], D(2023, 9, 5), 12),
    ]
    arts[2].also_at = ["/tzgg/202311/t20231108_2987.html?from=tzgg_list"]
    site = Site("trs", issuer, "utf-8", "text/html; charset=UTF-8", arts)
    column = "通知公告"
    pages = pages_of(arts, 2)
    for index, items in enumerate(pages):
        rows = [(a.path, a) for a in items]
        if index == 1:
            rows.append((arts[2].also_at[0], arts[2]))  # the tracking alias, a page later
        lis = "\n".join(
            f'<li><a href=".{p[len("/tzgg"):]}" title="{esc(a.title)}" target="_blank">'
            f"{esc(cut(a.title, 20))}</a><span>{a.published.isoformat()}</span></li>"
            for p, a in rows
        )
        site.add(
            f"/tzgg/index{'_' + str(index) if index else ''}.html",
            f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{column}_{issuer}</title></head><body>
<div class="header"><h1 class="logo">{issuer}</h1><ul class="nav"><li><a href="../">首页</a></li>
<li><a href="../gzdt/">工作动态</a></li><li><a href="./">{column}</a></li></ul></div>
<div class="main"><ul class="list">
{lis}
</ul>
<div class="page"><script>var currentPage = {index};//所在页从0开始
var countPage = {len(pages)}//共多少页
createPageHTML(countPage, currentPage, "index", "html");</script></div></div>
<div class="footer"><a href="http://www.gov.cn/">中国政府网</a> 主办：{issuer}</div>
</body></html>""",
        )
    for a in arts:
        padding = "<!-- " + "统计图表占位" * 3000 + " -->" if a.truncated else ""
        text = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{esc(a.title)}_{column}_{issuer}</title>
<meta name="ArticleTitle" content="{esc(a.title)}">
<meta name="PubDate" content="{a.published.isoformat()} 10:20">
<meta name="ContentSource" content="{issuer}"></head><body>
<div class="header"><h1 class="logo">{issuer}</h1></div>
<div class="position">当前位置：<a href="../../">首页</a> &gt; <a href="../">{column}</a> &gt; 正文</div>
<div class="article"><h2 class="title">{esc(a.title)}</h2>
<div class="info">发布时间：{a.published.isoformat()} 10:20 来源：{issuer} 【字号：大 中 小】</div>
<div class="TRS_Editor">{body_html(a, issuer)}</div>
<div class="share">分享到：<a href="http://service.weibo.com/share/share.php">微博</a></div></div>
{padding}
<div class="footer">主办：{issuer}</div></body></html>"""
        site.add(a.path, text)
        for alias in a.also_at:
            site.add(alias, text)
    return site


# --- Hanweb JCMS: /col/colN/index.html?uid=…&pageNum=n, 成文日期 table, no date meta --------


def build_hanweb() -> Site:
    issuer = "湖南省妇女联合会"
    arts = [
        Article("/art/2024/5/10/art_1234_101.html", "关于做好2024年妇女儿童发展规划监测统计工作的通知",
                D(2024, 5, 10), 6, "湘妇通〔2024〕5号", "5月31日", D(2024, 5, 31),
                signed=D(2024, 5, 8)),
        Article("/art/2024/6/1/art_1234_108.html", "关于报送上半年妇女小额担保贷款发放情况的通知",
                D(2024, 6, 1), 13, None, "2024612日", D(2024, 6, 12), signed=D(2024, 5, 30)),
        Article("/art/2024/4/18/art_1234_96.html", BODIES[1]["title"], D(2024, 4, 18), 1),
        Article("/art/2024/3/8/art_1234_90.html", BODIES[7]["title"], D(2024, 3, 8), 7),
        Article("/art/2024/2/20/art_1234_85.html", BODIES[15]["title"], D(2024, 2, 20), 15),
        Article("/art/2024/1/9/art_1234_80.html", BODIES[16]["title"], D(2024, 1, 9), 16),
    ]
    site = Site("hanweb", issuer, "utf-8", "text/html; charset=utf-8", arts)
    pages = pages_of(arts, 2)
    for index, items in enumerate(pages):
        # JCMS writes the list as CDATA records of a <datastore> in a script,
        # rendered by its own JavaScript.
        records = "\n".join(
            f'<record><![CDATA[<li><a href="{a.path}" target="_blank" title="{esc(a.title)}">'
            f"{esc(cut(a.title, 18, '…'))}</a><span>[{a.published.isoformat()}]</span></li>]]></record>"
            for a in items
        )
        target = "/col/col1234/index.html" + (f"?uid=5678&pageNum={index + 1}" if index else "")
        site.add(
            target,
            f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>通知公告 {issuer}</title></head><body>
<div class="top"><div class="logo"><img src="/images/logo.png" alt="{issuer}"></div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/col/col1234/index.html">通知公告</a></li></ul></div>
<div class="main"><div id="5678"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/&columnid=1234&unitid=5678&webname=%E6%B9%96%E5%8D%97&permissiontype=0"></a>]]></nextgroup>
<recordset>
{records}
</recordset><totalrecord>{len(arts)}</totalrecord><totalpage>{len(pages)}</totalpage></datastore></script>
</div></div><div class="bottom">版权所有：{issuer} 技术支持：大汉网络</div></body></html>""",
        )
    for a in arts:
        signed = (a.signed or a.published).isoformat()
        site.add(
            a.path,
            f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{esc(a.title)}</title><meta name="SiteName" content="{issuer}">
<meta name="ColumnName" content="通知公告"></head><body>
<div class="top"><div class="logo"><img src="/images/logo.png" alt="{issuer}"></div></div>
<table class="xxgk_table"><tr><td>索引号：</td><td>430000/2024-00{a.body}</td>
<td>成文日期：</td><td>{signed}</td></tr>
<tr><td>发布机构：</td><td>{issuer}</td><td>发布日期：</td><td>{a.published.isoformat()}</td></tr></table>
<div class="main-txt"><div class="title">{esc(a.title)}</div>
<div class="zoom" id="zoom">{body_html(a, issuer)}</div></div>
<div class="bottom">版权所有：{issuer}</div></body></html>""",
        )
    return site


def dede_numbers(index: int, count: int) -> str:
    """DedeCMS's pager: 上一页, the page numbers (the current one unlinked), 下一页, 末页."""

    def name(n: int) -> str:
        return "index.html" if n == 0 else f"list_5_{n + 1}.html"

    parts = [f"<li><a href='{name(index - 1)}'>上一页</a></li>"] if index else []
    for n in range(count):
        parts.append(
            f'<li class="thisclass">{n + 1}</li>' if n == index
            else f"<li><a href='{name(n)}'>{n + 1}</a></li>"
        )
    if index + 1 < count:
        parts.append(f"<li><a href='{name(index + 1)}'>下一页</a></li>")
    parts.append(f"<li><a href='{name(count - 1)}'>末页</a></li>")
    return "".join(parts)


# --- DedeCMS: GBK, list_5_2.html, titles cut without a title attribute, dead link ----------


def build_dede() -> Site:
    issuer = "融安县妇女联合会"
    arts = [
        Article("/a/tzgg/2024/0305/12.html", "关于开展纪念“三八”国际妇女节系列活动的通知",
                D(2024, 3, 5), 22, "融妇发〔2024〕3号", "3月20日", D(2024, 3, 20),
                signed=D(2024, 3, 4)),
        Article("/a/tzgg/2024/0218/11.html", BODIES[10]["title"], D(2024, 2, 18), 10),
        Article("/a/tzgg/2024/0115/9.html", BODIES[11]["title"], D(2024, 1, 15), 11),
        Article("/a/tzgg/2023/1226/8.html", "关于报送2023年度妇女儿童维权工作情况的通知",
                D(2023, 12, 26), 14, "融妇字〔2023〕21号", "2024年1月5日", D(2024, 1, 5),
                signed=D(2023, 12, 25)),
        Article("/a/tzgg/2023/1120/6.html", BODIES[18]["title"], D(2023, 11, 20), 18),
    ]
    site = Site("dede", issuer, "gbk", "text/html", arts, dead=["/a/tzgg/2024/0301/10.html"])
    listed: list[tuple[str, str, datetime.date]] = [(a.path, a.title, a.published) for a in arts]
    listed.insert(1, (site.dead[0], "关于征集巾帼志愿服务优秀案例的通知", D(2024, 3, 1)))
    pages = pages_of(listed, 2)
    for index, items in enumerate(pages):
        lis = "\n".join(
            f'<li><a href="{p}" class="title">{esc(cut(t, 16))}</a>'
            f'<span class="info"><small>日期：</small>{d.isoformat()}</span></li>'
            for p, t, d in items
        )
        name = "index.html" if index == 0 else f"list_5_{index + 1}.html"
        site.add(
            f"/a/tzgg/{name}",
            f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>通知公告_{issuer}</title></head><body>
<div class="header"><div class="top w960 center"><h1><a href="/">{issuer}</a></h1></div></div>
<div class="w960 center clear mt1"><div class="pleft"><div class="listbox"><ul class="e2">
{lis}
</ul></div>
<div class="dede_pages"><ul class="pagelist"><li><a href="index.html">首页</a></li>
{dede_numbers(index, len(pages))}<li><span class="pageinfo">共 <strong>{len(pages)}</strong>页<strong>{len(listed)}</strong>条</span></li></ul></div>
</div></div><div class="footer w960 center">Powered by DedeCMS</div></body></html>""",
        )
    for a in arts:
        site.add(
            a.path,
            f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{esc(a.title)}_通知公告_{issuer}</title>
<meta name="keywords" content="{esc(a.title)}"></head><body>
<div class="header"><div class="top w960 center"><h1><a href="/">{issuer}</a></h1></div></div>
<div class="place"><strong>当前位置:</strong> <a href='/'>主页</a> &gt; <a href='/a/tzgg/'>通知公告</a> &gt;</div>
<div class="viewbox"><div class="title"><h2>{esc(a.title)}</h2></div>
<div class="info"><small>时间:</small>{a.published.isoformat()} 10:20<small>来源:</small>未知<small>作者:</small>admin<small>点击:</small>
<script src="/plus/count.php?view=yes&aid={a.path.rsplit('/', 1)[1][:-5]}" type='text/javascript' language="javascript"></script>次</div>
<div class="content"><table width='100%'><tr><td><div id="contentMidPicAD"></div>
{body_html(a, issuer)}
</td></tr></table></div></div><div class="footer w960 center">Powered by DedeCMS</div></body></html>""",
        )
    return site


# --- PHPCMS: query URLs, 下一页 that points at itself on the last page, h1 with the date ----


def build_phpcms() -> Site:
    issuer = "两当县妇女联合会"
    show = "/index.php?m=content&c=index&a=show&catid=9&id={}"
    arts = [
        Article(show.format(41), "关于组织参加全县妇女创业创新技能培训的通知", D(2024, 7, 2), 2,
                "两妇发〔2024〕15号", "7月12日", D(2024, 7, 12), signed=D(2024, 7, 1)),
        Article(show.format(39), BODIES[17]["title"], D(2024, 6, 11), 17),
        Article(show.format(36), BODIES[19]["title"], D(2024, 5, 20), 19),
        Article(show.format(33), BODIES[21]["title"], D(2024, 4, 2), 21),
        Article(show.format(30), "两当县妇联关于印发《2024年工作要点》的通知", D(2024, 3, 1), 4,
                "两妇发〔2024〕4号", None, None),
    ]
    arts[1].also_at = [show.format(39) + "&spm=list.2"]
    site = Site("phpcms", issuer, "utf-8", "text/html; charset=utf-8", arts)
    lists = "/index.php?m=content&c=index&a=lists&catid=9"
    pages = pages_of(arts, 2)
    for index, items in enumerate(pages):
        here = lists + (f"&page={index + 1}" if index else "")
        rows = [(a.path, a) for a in items]
        if index == 1:
            rows.append((arts[1].also_at[0], arts[1]))
        lis = "\n".join(
            f'<li><span class="rt">{a.published.isoformat()}</span>·'
            f'<a href="{esc(p)}" target="_blank" title="{esc(a.title)}">{esc(a.title)}</a></li>'
            for p, a in rows
        )
        following = lists + f"&page={min(index + 2, len(pages))}"
        if index + 1 == len(pages):
            following = here
        site.add(
            here,
            f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知公告 - {issuer}</title>
</head><body><div class="header"><div class="logo"><a href="/"><img src="/statics/images/logo.gif"></a></div>
<div class="nav"><a href="/">首页</a> <a href="{esc(lists)}">通知公告</a></div></div>
<div class="main"><div class="col-left"><ul class="list lh24 f14">
{lis}
</ul><div id="pages"><a class="a1">{len(arts)}条</a> <a href="{esc(lists)}" class="a1">上一页</a>
<span>{index + 1}</span> <a href="{esc(following)}" class="a1">下一页</a></div></div></div>
<div class="footer">Powered by PHPCMS v9</div></body></html>""",
        )
    for a in arts:
        text = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{esc(a.title)} - 通知公告 - {issuer}</title><meta name="keywords" content="{esc(a.title)}">
</head><body><div class="header"><div class="logo"><a href="/"><img src="/statics/images/logo.gif"></a></div></div>
<div class="crumbs"><a href="/">首页</a><span> &gt; </span><a href="{esc(lists)}">通知公告</a> &gt; 正文</div>
<div id="Article"><h1>{esc(a.title)}<br/><span>{a.published.isoformat()} 09:30:00&nbsp;&nbsp;&nbsp;来源：&nbsp;&nbsp;&nbsp;评论：<a href="#comment_iframe" id="comment">0</a> 点击：<span id="hits"></span></span></h1>
<div class="content">{body_html(a, issuer)}</div></div>
<div class="footer">Powered by PHPCMS v9</div></body></html>"""
        site.add(a.path, text)
    return site


# --- 帝国CMS: index_2.html, the site's name as the page's only <h1>, calendar, padded list ---


def build_ecms() -> Site:
    issuer = "礼县妇女联合会"
    arts = [
        Article("/tzgg/2024-08-06/233.html", "关于开展“巾帼心向党 奋进新征程”主题宣讲活动的通知",
                D(2024, 8, 6), 20, "礼妇字〔2024〕18号", "2024年8月30日", D(2024, 8, 30),
                signed=D(2024, 8, 5)),
        Article("/tzgg/2024-07-15/221.html", BODIES[12]["title"], D(2024, 7, 15), 12),
        Article("/tzgg/2024-06-03/208.html", BODIES[5]["title"], D(2024, 6, 3), 5),
        Article("/tzgg/2024-05-21/199.html", BODIES[23]["title"], D(2024, 5, 21), 23),
        Article("/tzgg/2024-04-09/187.html", "关于做好2024年农村妇女“两癌”免费检查工作的通知",
                D(2024, 4, 9), 24, "礼妇发〔2024〕7号", "4月30日", D(2024, 4, 30),
                signed=D(2024, 4, 8)),
    ]
    site = Site("ecms", issuer, "utf-8", "text/html; charset=utf-8", arts)
    pages = pages_of(arts, 2)
    calendar = "".join(
        f'<a href="/e/action/ListInfo.php?classid=2&date=2024-08-{d:02d}">{d}</a> ' for d in (1, 6, 15)
    ) + '<a href="/e/action/ListInfo.php?classid=2&date=2024-09">下月</a>'
    for index, items in enumerate([*pages, []]):  # and a padded page past the end
        lis = "\n".join(
            f'<li><a href="{a.path}" title="{esc(a.title)}">{esc(cut(a.title, 22))}</a>'
            f"<span>{a.published.isoformat()}</span></li>"
            for a in items
        )
        name = "index.html" if index == 0 else f"index_{index + 1}.html"
        following = (
            f"<a href='/tzgg/index_{index + 2}.html'>下一页</a>" if index + 1 < len(pages) else "下一页"
        )
        site.add(
            f"/tzgg/{name}",
            f"""<html><head><meta charset="utf-8"><title>通知公告 - {issuer}</title></head><body>
<h1>{issuer}</h1><div class="menu"><a href="/">网站首页</a> <a href="/tzgg/">通知公告</a></div>
<div class="news_list"><ul>
{lis}
</ul></div>
<div class="pagelist">页次：{min(index + 1, len(pages))}/{len(pages)}&nbsp;每页2&nbsp;总数{len(arts)}&nbsp;&nbsp;
<a href='/tzgg/index.html'>首页</a>&nbsp;&nbsp;{following}</div>
<div class="calendar"><b>2024年8月</b> {calendar}</div>
<div class="copyright">Powered by EmpireCMS</div></body></html>""",
        )
    for a in arts:
        site.add(
            a.path,
            f"""<html><head><meta charset="utf-8"><title>{esc(a.title)} - {issuer}</title></head><body>
<h1>{issuer}</h1><div class="menu"><a href="/">网站首页</a> <a href="/tzgg/">通知公告</a></div>
<div class="newstitle"><h3>{esc(a.title)}</h3></div>
<div class="newsinfo">发布时间：{a.published.isoformat()} 09:12:45 | 来源：本站 | 点击：<script src="/e/public/ViewClick/?classid=2&id=1"></script></div>
<div class="newstext">{body_html(a, issuer)}</div>
<div class="calendar"><b>2024年8月</b> {calendar}</div>
<div class="copyright">Powered by EmpireCMS</div></body></html>""",
        )
    return site


# --- 动易/ASP: GBK without a charset header, tooltip titles with bylines, 更新时间 2013-1-21 ---


def build_dongyi() -> Site:
    issuer = "成县妇女联合会"
    show = "/Article/ShowArticle.asp?ArticleID={}"
    arts = [
        Article(show.format(123), "成县妇联关于开展“巾帼建功”竞赛活动的通知", D(2013, 1, 21), 4,
                "成妇发〔2013〕2号", "2月5日", D(2013, 2, 5), signed=D(2013, 1, 18)),
        Article(show.format(118), BODIES[13]["title"], D(2013, 1, 9), 13),
        Article(show.format(110), BODIES[20]["title"], D(2012, 12, 3), 20),
        Article(show.format(104), "关于报送2012年度妇女小额担保贷款统计报表的通知", D(2012, 12, 24), 21,
                "成妇字〔2012〕40号", "1月8日", D(2013, 1, 8), signed=D(2012, 12, 21)),
        Article(show.format(99), BODIES[24]["title"], D(2012, 11, 5), 24),
    ]
    arts[2].also_at = [show.format(140)]  # reposted later under another id
    site = Site("dongyi", issuer, "gbk", "text/html", arts)
    lists = "/Article/ShowClass.asp?ClassID=5"
    listed = [(a.path, a) for a in arts]
    listed.append((arts[2].also_at[0], arts[2]))
    pages = pages_of(listed, 2)
    for index, items in enumerate(pages):
        here = lists + (f"&page={index + 1}" if index else "")
        rows = "\n".join(
            f"<tr><td class='listbg'><img src='/images/article_common.gif'>"
            f"<a class='listA' href='{esc(p.rsplit('/', 1)[1])}' title='文章标题：{esc(a.title)}&#13;&#10;"
            f"作者：admin&#13;&#10;更新时间：{a.published.year}-{a.published.month}-{a.published.day}"
            f" 9:10:11&#13;&#10;点击数：56' target='_blank'>{esc(cut(a.title, 14, '…'))}</a></td></tr>"
            for p, a in items
        )
        following = (
            f"<a href='ShowClass.asp?ClassID=5&amp;page={index + 2}'>下一页</a>"
            if index + 1 < len(pages)
            else "下一页"
        )
        site.add(
            here,
            f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{issuer}--通知公告</title></head><body>
<table class="top_tdbg"><tr><td><img src="/Images/banner.jpg" alt="{issuer}"></td></tr></table>
<table class="listtable">
{rows}
</table>
<div class="showpage">共 <b>{len(listed)}</b> 篇文章&nbsp;&nbsp;首页 上一页&nbsp;{following}&nbsp;尾页&nbsp;
页次：<strong><font color=red>{index + 1}</font>/{len(pages)}</strong>页</div>
<table class="Bottom_tdbgall"><tr><td>Powered by：动易网络</td></tr></table></body></html>""",
        )
    for a in arts:
        text = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{issuer}--{esc(a.title)}</title></head><body>
<table class="top_tdbg"><tr><td><img src="/Images/banner.jpg" alt="{issuer}"></td></tr></table>
<table width="760"><tr><td class="main_ArticleTitle" align="center">{esc(a.title)}</td></tr>
<tr><td class="Article_tdbgall" align="center">作者：admin&nbsp;&nbsp;&nbsp;&nbsp;文章来源：本站原创&nbsp;&nbsp;&nbsp;&nbsp;点击数：<script language='javascript' src='GetHits.asp?ArticleID=1'></script>&nbsp;&nbsp;&nbsp;&nbsp;更新时间：{a.published.year}-{a.published.month}-{a.published.day}</td></tr>
<tr><td id="fontzoom" class="main_tdbg_760">{body_html(a, issuer)}</td></tr></table>
<table class="Bottom_tdbgall"><tr><td>Powered by：动易网络</td></tr></table></body></html>"""
        site.add(a.path, text)
        for alias in a.also_at:
            site.add(alias, text)
    return site


# --- WordPress: page/2/, 发布于 … 作者 admin, published and updated <time>, calendar widget --


def build_wordpress() -> Site:
    issuer = "站儿巷镇妇联"
    arts = [
        Article("/2024/09/12/notice-autumn-training/", "关于举办秋季妇女手工编织技能培训班的通知",
                D(2024, 9, 12), 19, "站妇发〔2024〕6号", "9月20日", D(2024, 9, 20),
                signed=D(2024, 9, 11)),
        Article("/2024/08/30/family-forum/", BODIES[11]["title"], D(2024, 8, 30), 11),
        Article("/2024/08/02/health-lecture/", BODIES[9]["title"], D(2024, 8, 2), 9),
        Article("/2024/07/10/loans/", BODIES[21]["title"], D(2024, 7, 10), 21),
        Article("/2024/06/18/volunteers/", BODIES[17]["title"], D(2024, 6, 18), 17),
    ]
    arts[0].also_at = ["/2024/09/12/notice-autumn-training/?utm_source=feed&utm_medium=rss"]
    site = Site("wordpress", issuer, "utf-8", "text/html; charset=UTF-8", arts)
    pages = pages_of(arts, 2)
    calendar = (
        '<table id="wp-calendar"><caption>2024年9月</caption><tbody><tr>'
        '<td><a href="/2024/09/12/">12</a></td><td>13</td></tr></tbody></table>'
        '<nav class="wp-calendar-nav"><a href="/2024/08/">« 8月</a></nav>'
    )
    header = (
        f'<header id="masthead" class="site-header"><h1 class="site-title"><a href="/" rel="home">'
        f"{issuer}</a></h1><p class=\"site-description\">又一个WordPress站点</p></header>"
    )

    def meta(a: Article) -> str:
        updated = a.published + datetime.timedelta(days=40)
        return (
            f'<div class="entry-meta"><span class="posted-on">发布于 <a href="{a.path}" rel="bookmark">'
            f'<time class="entry-date published" datetime="{a.published.isoformat()}T09:00:00+08:00">'
            f"{a.published.year}年{a.published.month}月{a.published.day}日</time>"
            f'<time class="updated" datetime="{updated.isoformat()}T16:20:00+08:00">'
            f"{updated.year}年{updated.month}月{updated.day}日</time></a></span>"
            f'<span class="byline"> 作者 <span class="author vcard"><a class="url fn n" '
            f'href="/author/admin/">admin</a></span></span></div>'
        )

    for index, items in enumerate(pages):
        rows = [(a.path, a) for a in items]
        if index == 1:
            rows.insert(0, (arts[0].also_at[0], arts[0]))
        posts = "\n".join(
            f'<article class="post type-post"><header class="entry-header"><h2 class="entry-title">'
            f'<a href="{esc(p)}" rel="bookmark">{esc(a.title)}</a></h2>{meta(a)}</header>'
            f'<div class="entry-summary"><p>{esc(BODIES[a.body]["paragraphs"][0][:60])}…</p></div></article>'
            for p, a in rows
        )
        nav = "".join(
            f'<a class="page-numbers" href="/category/tzgg/{"page/" + str(n + 1) + "/" if n else ""}">{n + 1}</a>'
            for n in range(len(pages))
        )
        if index + 1 < len(pages):
            nav += f'<a class="next page-numbers" href="/category/tzgg/page/{index + 2}/">下一页</a>'
        site.add(
            "/category/tzgg/" + (f"page/{index + 1}/" if index else ""),
            f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="UTF-8">
<title>通知公告 – {issuer}</title></head><body class="archive category">{header}
<main id="main" class="site-main">{posts}
<nav class="navigation pagination"><div class="nav-links">{nav}</div></nav></main>
<aside id="secondary" class="widget-area"><section class="widget widget_calendar">{calendar}</section></aside>
<footer class="site-footer">自豪地采用WordPress</footer></body></html>""",
        )
    for a in arts:
        text = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="UTF-8">
<title>{esc(a.title)} – {issuer}</title><link rel="canonical" href="{a.path}"></head>
<body class="post-template-default single single-post">{header}
<main id="main" class="site-main"><article class="post type-post"><header class="entry-header">
<h1 class="entry-title">{esc(a.title)}</h1>{meta(a)}</header>
<div class="entry-content">{body_html(a, issuer)}</div></article></main>
<aside id="secondary" class="widget-area"><section class="widget widget_calendar">{calendar}</section></aside>
<footer class="site-footer">自豪地采用WordPress</footer></body></html>"""
        site.add(a.path, text)
        for alias in a.also_at:
            site.add(alias, text)
    return site


# --- hand-made static site: GBK, <title> is only the site name, an explicit page list ------


def build_static() -> Site:
    issuer = "云屏镇妇联"
    arts = [
        Article("/wz/2024/1209.htm", "云屏镇妇联关于做好年终统计报表工作的通知", D(2024, 12, 9), 3,
                "云妇〔2024〕9号", "1月6日", D(2025, 1, 6), signed=D(2024, 12, 6)),
        Article("/wz/2024/1105.htm", BODIES[15]["title"], D(2024, 11, 5), 15),
        Article("/wz/2024/0918.htm", BODIES[16]["title"], D(2024, 9, 18), 16),
        Article("/wz/2024/0603.htm", BODIES[14]["title"], D(2024, 6, 3), 14),
    ]
    site = Site("static", issuer, "gbk", "text/html; charset=gb2312", arts, dead=["/wz/2024/0101.htm"])
    pages = [
        ["gonggao.htm", [("wz/2024/1209.htm", arts[0]), ("wz/2024/1105.htm", arts[1])]],
        ["gonggao2.htm", [("./wz/2024/0918.htm", arts[2]), ("wz/2024/0101.htm", None)]],
        ["gonggao3.htm", [("wz/2024/0603.htm", arts[3]), ("./wz/2024/1209.htm", arts[0])]],
    ]
    for name, rows in pages:
        cells = "\n".join(
            f'<tr><td width="80%">·<a href="{p}" target="_blank">'
            f"{esc(a.title) if a else '新年慰问活动安排'}</a></td>"
            f"<td>({(a.published if a else D(2024, 1, 1)).year}-{(a.published if a else D(2024, 1, 1)).month}-"
            f"{(a.published if a else D(2024, 1, 1)).day})</td></tr>"
            for p, a in rows
        )
        links = " ".join(f'<a href="{n}">第{i + 1}页</a>' for i, (n, _) in enumerate(pages))
        site.add(
            f"/{name}",
            f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{issuer}</title></head><body bgcolor="#FFFFFF">
<table width="778" align="center"><tr><td><img src="images/top.jpg" width="778" height="120"></td></tr></table>
<table width="778" align="center" class="gg"><tr><td colspan="2"><b>通知公告</b></td></tr>
{cells}
</table><p align="center">{links}</p>
<p align="center">版权所有 {issuer} 2008-2024 <a href="http://www.miibeian.gov.cn/">陇ICP备000000号</a></p></body></html>""",
        )
    for a in arts:
        site.add(
            a.path,
            f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>{issuer}</title></head><body bgcolor="#FFFFFF">
<table width="778" align="center"><tr><td><img src="../../images/top.jpg"></td></tr></table>
<p align="center"><font size="5" color="#CC0000"><b>{esc(a.title)}</b></font></p>
<p align="center">发布日期：{a.published.year}年{a.published.month}月{a.published.day}日　来源：{issuer}</p>
<hr size="1"><div id="zw">{body_html(a, issuer)}</div>
<p align="center"><a href="javascript:window.close()">【关闭窗口】</a></p></body></html>""",
        )
    return site


BUILDERS = (
    build_trs, build_hanweb, build_dede, build_phpcms,
    build_ecms, build_dongyi, build_wordpress, build_static,
)


def main() -> None:
    for build in BUILDERS:
        site = build()
        site.write()
        print(f"{site.family}: {len(site.articles)} articles, {len(site.files)} files")


if __name__ == "__main__":
    main()
