"""A 50 MiB page is read in bounded time and memory (issue #15).

The page is what portals serve: a short article, a picture pasted from Word as
a base64 ``data:`` URI of about 22 MB, and about 27 MB of related-link list
items. ``huizong extract`` runs on it in a subprocess under a 1.5 GiB
address-space limit; the timeout only keeps a regression from hanging the
suite (wall time is measured outside the tests, see the commit message).
"""

from __future__ import annotations

import base64
import json
import os
import random
import resource
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 1536 * 1024 * 1024
IMAGE_BYTES = 22 * 1024 * 1024
LINK_BYTES = 28 * 1024 * 1024


def write_big_page(path: Path) -> int:
    rng = random.Random(15)
    image = base64.b64encode(rng.randbytes(IMAGE_BYTES * 3 // 4)).decode("ascii")
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            "<title>某县妇联2023年工作总结</title></head><body>"
            '<div class="top"><a href="/">首页</a> <a href="/gzdt/">工作动态</a></div>'
            '<div class="main-text"><h1>某县妇联2023年工作总结</h1>'
            "<p>2023年，全县共有妇女之家128个，培训妇女3560人次，"
            "发放创业担保贷款1.25亿元，两癌筛查完成2.3万人。</p>"
            "<!--[if gte vml 1]><v:shape><v:imagedata>全县培训妇女9999人次</v:imagedata>"
            "</v:shape><![endif]-->"
            f'<p><img width="600" height="400" src="data:image/png;base64,{image}"></p>'
            '</div><div class="related"><h3>相关链接</h3><ul>\n'
        )
        written = 0
        n = 0
        while written < LINK_BYTES:
            item = (
                f'<li><a href="/gzdt/2023/{n:06d}.html" target="_blank">'
                f"关于开展第{n}期妇女儿童权益保护宣传活动的通知</a>"
                "<span>2023-06-01</span></li>\n"
            )
            out.write(item)
            written += len(item.encode("utf-8"))
            n += 1
        out.write("</ul></div></body></html>\n")
    return path.stat().st_size


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
def test_fifty_mib_page_is_extracted_under_the_memory_limit(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    size = write_big_page(page)
    assert size >= 50 * 1024 * 1024
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "include"), str(REPO / "plugins")]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "huizong.cli", "extract", str(page)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        preexec_fn=limit_memory,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    figures = {(r["quote"], r["value"]) for r in rows}
    assert ("全县共有妇女之家128个", 128) in figures
    assert ("培训妇女3560人次", 3560) in figures
    assert ("发放创业担保贷款1.25亿元", 125_000_000) in figures
    assert ("两癌筛查完成2.3万人", 23_000) in figures
    assert not any(r["value"] == 9999 for r in rows)
    # The related links are page chrome, not the article.
    assert not any("宣传活动" in r["quote"] for r in rows)
