"""``huizong orgs find``: division codes by place or federation name."""

from __future__ import annotations

import json

from huizong.cli import main
from huizong.portal.orgs_find import find_divisions


def test_a_federation_name_gives_its_place_with_level_and_parent():
    [match] = find_divisions("两当县妇联")
    assert match.to_dict() == {
        "code": "621228000000",
        "name": "两当县",
        "level": "county",
        "parent_code": "621200000000",
        "parent_name": "陇南市",
        "path": "甘肃省陇南市两当县",
    }
    assert [m.division.code for m in find_divisions("株洲")] == ["430200000000"]
    assert [m.division.code for m in find_divisions("甘肃省妇女联合会")] == ["620000000000"]


def test_nested_names_pick_the_town_and_shared_names_list_every_place():
    assert [m.division.code for m in find_divisions("两当县站儿巷镇妇联")] == ["621228101000"]
    shared = find_divisions("新华镇")
    assert len(shared) > 5 and {m.division.level for m in shared} == {"town"}
    assert find_divisions("不存在的地方") == [] and find_divisions("妇联") == []


def test_the_command_prints_matches_and_fails_on_none(capsys):
    assert main(["orgs", "find", "两当县妇联", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line)["code"] == "621228000000"
    assert main(["orgs", "find", "新华镇"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("10 divisions match '新华镇':") or "divisions match '新华镇'" in out
    assert main(["orgs", "find", "不存在的地方"]) == 1
    assert "no division matches" in capsys.readouterr().err
