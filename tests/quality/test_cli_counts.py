"""`huizong check` and `huizong findings --open` agree on how many findings are open.

They used to disagree without saying why: after a run, `check` said 7 (it
re-checks what is staged, completeness and notices) while `findings --open`
listed 17 (the audit also stored findings about returns it then published).
"""

from __future__ import annotations

import argparse
import re

import sqlalchemy as sa
from huizong.quality import cli
from quality_warehouse import TOWNS


def _run(argv: list[str], capsys) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="huizong")
    cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code = args.func(args)
    return code, capsys.readouterr().out


def test_check_and_findings_open_report_the_same_open_count(wh, capsys, monkeypatch):
    monkeypatch.setenv("HUIZONG_WAREHOUSE_URL", wh.engine.url.render_as_string(False))
    # 其中 (row 12) above its parent (row 11): an error about the staged return.
    wh.stage(TOWNS[4], "2024Q4", {"11": 546, "12": 561})
    code, out = _run(["check", "--record", "--as-of", "2025-01-05"], capsys)
    assert code == 1 and "subtotal_le_parent" in out
    # The run publishes (or blocks) it: nothing is staged any more.
    wh.mark_published()
    with wh.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM stg_return_value"))
        conn.execute(sa.text("UPDATE return_submission SET status = 'published'"))

    _, listed = _run(["findings", "--open"], capsys)
    open_listed = int(re.search(r"^(\d+) open finding\(s\), (\d+) error", listed, re.M).group(1))
    assert open_listed == len([line for line in listed.splitlines() if "[open]" in line])
    assert open_listed >= 1

    _, checked = _run(["check", "--as-of", "2025-01-05"], capsys)
    now = int(re.search(r"^(\d+) finding\(s\), \d+ error", checked, re.M).group(1))
    stored = re.search(
        r"^(\d+) open finding\(s\) stored .*?: (\d+) found again now, (\d+) not found by this "
        r"check .*?, (\d+) new here",
        checked,
        re.M,
    )
    assert stored, checked
    total, again, not_found, new = map(int, stored.groups())
    assert total == open_listed  # the same count as findings --open
    assert again + not_found == total and again + new == now
    assert not_found >= 1  # the published return's error, no longer staged
