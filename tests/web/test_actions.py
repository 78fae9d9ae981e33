"""Explain a warning, approve bottom-up, lock, withdraw, CSRF, audit."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from huizong.web import queries

from tests.web.conftest import CITY, HETANG, PERIOD, csrf_of, link_path

FORM = "FL-01"


def _finding(world, unit: str, severity: str) -> str:
    return next(f["finding_id"] for f in queries.unit_findings(world.engine, unit, FORM, PERIOD)
                if f["severity"] == severity)


def _post(client, path: str, token: str, **data):
    if path.endswith("/approve"):
        data.setdefault("confirm", "yes")  # the ticked "我已核对" box
    return client.post(path, data={"csrf_token": token, "period": PERIOD, "form": FORM, **data},
                       follow_redirects=False)


def _audit(world) -> list[dict]:
    with world.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            sa.text("SELECT * FROM web_audit ORDER BY created_at"))]


def test_unit_explains_its_warning(world, login):
    town = world.hetang_towns[1]
    warning = _finding(world, town, "warn")
    client = login(town, "town2@hetang.cn")
    response = _post(client, f"/unit/{town}/explain", csrf_of(client, town),
                     finding_id=warning, explanation="本季度开展了全县集中培训，人次属实。")
    assert response.status_code == 303
    assert "done=explain" in response.headers["location"]
    assert queries.explained_finding_ids(world.engine) == {warning}
    page = client.get(response.headers["location"]).text
    assert "本季度开展了全县集中培训" in page and "说明已保存" in page
    (entry,) = _audit(world)
    assert entry["action"] == "explain" and entry["actor_email"] == "town2@hetang.cn"
    assert entry["finding_id"] == warning and len(entry["link_id"]) == 32
    # The parent sees the explanation and the explained badge in its subtree.
    parent = login(HETANG)
    assert "本季度开展了全县集中培训" in parent.get(f"/unit/{town}").text
    assert "已说明" in parent.get(f"/subtree/{HETANG}").text


def test_errors_cannot_be_explained_away(world, login):
    town = world.hetang_towns[0]
    client = login(town)
    response = _post(client, f"/unit/{town}/explain", csrf_of(client, town),
                     finding_id=_finding(world, town, "error"), explanation="确实如此")
    assert response.status_code == 409
    assert "错误不能以说明代替更正" in response.text
    assert queries.explained_finding_ids(world.engine) == set()
    assert _audit(world) == []


def test_only_the_unit_itself_explains(world, login):
    town = world.hetang_towns[1]
    parent = login(HETANG)
    response = _post(parent, f"/unit/{town}/explain", csrf_of(parent, HETANG),
                     finding_id=_finding(world, town, "warn"), explanation="代为说明")
    assert response.status_code == 409
    assert queries.explained_finding_ids(world.engine) == set()


def test_resolved_and_empty_explanations_are_refused(world, login):
    town = world.hetang_towns[1]
    warning = _finding(world, town, "warn")
    client = login(town)
    token = csrf_of(client, town)
    assert _post(client, f"/unit/{town}/explain", token, finding_id=warning,
                 explanation="   ").status_code == 409
    world.warehouse.resolve(warning)
    assert _post(client, f"/unit/{town}/explain", token, finding_id=warning,
                 explanation="已核实").status_code == 409
    assert queries.explained_finding_ids(world.engine) == set()


def test_forms_need_the_sessions_csrf_token(world, app, login):
    town = world.hetang_towns[1]
    warning = _finding(world, town, "warn")
    client = login(town)
    other = login(town)  # same official, another session: its token is not this one's
    data = {"finding_id": warning, "explanation": "x"}
    assert _post(client, f"/unit/{town}/explain", "", **data).status_code == 403
    assert _post(client, f"/unit/{town}/explain", csrf_of(other, town), **data).status_code == 403
    cross = client.post(f"/unit/{town}/explain",
                        data={"csrf_token": csrf_of(client, town), "period": PERIOD, **data},
                        headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    parent = login(HETANG)
    assert _post(parent, f"/unit/{town}/approve", "forged").status_code == 403
    assert queries.explained_finding_ids(world.engine) == set()
    assert not queries.is_locked(world.engine, town, FORM, PERIOD)


def test_approval_needs_no_open_errors_and_locks(world, login):
    erroneous, clean, missing = world.hetang_towns
    client = login(HETANG, "county@hetang.cn")
    token = csrf_of(client, HETANG)
    refused = _post(client, f"/unit/{erroneous}/approve", token)
    assert refused.status_code == 409 and "错误未更正" in refused.text
    refused = _post(client, f"/unit/{missing}/approve", token)
    assert refused.status_code == 409 and "尚未收到本期报表" in refused.text
    assert _post(client, f"/unit/{clean}/approve", token).status_code == 303
    assert queries.is_locked(world.engine, clean, FORM, PERIOD)
    assert not queries.is_locked(world.engine, clean, FORM, "2024Q3")
    again = _post(client, f"/unit/{clean}/approve", token)
    assert again.status_code == 409 and "已经审核" in again.text
    world.warehouse.resolve(_finding(world, erroneous, "error"))
    assert _post(client, f"/unit/{erroneous}/approve", token).status_code == 303
    page = client.get(f"/unit/{clean}").text
    assert "已审核" in page and "county@hetang.cn" in page


def test_only_the_direct_parent_approves(world, login):
    clean = world.hetang_towns[1]
    for who in (clean, CITY):  # itself; its grandparent
        client = login(who)
        response = _post(client, f"/unit/{clean}/approve", csrf_of(client, who))
        assert response.status_code == 409, who
        assert "只有直属上级妇联" in response.text
    sibling = login(world.hetang_towns[0])
    response = _post(sibling, f"/unit/{clean}/approve", csrf_of(sibling, world.hetang_towns[0]))
    assert response.status_code == 404
    assert not queries.is_locked(world.engine, clean, FORM, PERIOD)


def test_county_is_approved_only_after_all_its_towns(world, login):
    erroneous, clean, missing = world.hetang_towns
    world.warehouse.resolve(_finding(world, erroneous, "error"))
    world.warehouse.submit(missing, PERIOD, {"01": 10.0})
    county = login(HETANG)
    county_token = csrf_of(county, HETANG)
    city = login(CITY)
    city_token = csrf_of(city, CITY)
    for town in (erroneous, clean):
        assert _post(county, f"/unit/{town}/approve", county_token).status_code == 303
    refused = _post(city, f"/unit/{HETANG}/approve", city_token)
    assert refused.status_code == 409 and "下级单位还有1个未审核" in refused.text
    assert "暂不能审核" in city.get(f"/unit/{HETANG}").text
    assert _post(county, f"/unit/{missing}/approve", county_token).status_code == 303
    assert _post(city, f"/unit/{HETANG}/approve", city_token).status_code == 303
    assert queries.is_locked(world.engine, HETANG, FORM, PERIOD)


def test_withdrawal_needs_a_reason_unlocks_and_is_audited(world, login):
    clean = world.hetang_towns[1]
    client = login(HETANG, "county@hetang.cn")
    token = csrf_of(client, HETANG)
    assert _post(client, f"/unit/{clean}/approve", token).status_code == 303
    assert _post(client, f"/unit/{clean}/withdraw", token, reason=" ").status_code == 409
    assert queries.is_locked(world.engine, clean, FORM, PERIOD)
    assert _post(client, f"/unit/{clean}/withdraw", token,
                 reason="镇里发现07行录入有误，需重报").status_code == 303
    assert not queries.is_locked(world.engine, clean, FORM, PERIOD)
    actions = [(a["action"], a["actor_email"], a["detail"]) for a in _audit(world)]
    assert actions[0][:2] == ("approve", "county@hetang.cn")
    assert actions[1] == ("withdraw", "county@hetang.cn", "镇里发现07行录入有误，需重报")
    page = client.get(f"/unit/{clean}").text
    assert "镇里发现07行录入有误" in page and "撤销审核" in page
    # Approved again after the resubmission: the lock comes back.
    assert _post(client, f"/unit/{clean}/approve", token).status_code == 303
    assert queries.is_locked(world.engine, clean, FORM, PERIOD)


def test_child_approval_cannot_be_withdrawn_under_an_approved_parent(world, login):
    erroneous, clean, missing = world.hetang_towns
    world.warehouse.resolve(_finding(world, erroneous, "error"))
    world.warehouse.submit(missing, PERIOD, {"01": 10.0})
    county = login(HETANG)
    token = csrf_of(county, HETANG)
    for town in world.hetang_towns:
        assert _post(county, f"/unit/{town}/approve", token).status_code == 303
    city = login(CITY)
    assert _post(city, f"/unit/{HETANG}/approve", csrf_of(city, CITY)).status_code == 303
    refused = _post(county, f"/unit/{clean}/withdraw", token, reason="重报")
    assert refused.status_code == 409 and "须先由上级撤销" in refused.text
    assert queries.is_locked(world.engine, clean, FORM, PERIOD)


def test_audit_shows_who_when_and_link(world, app, login):
    town = world.hetang_towns[1]
    path = link_path("auditor@hetang.cn", town)
    client = TestClient(app)
    client.get(path, follow_redirects=False)
    from huizong.web.auth import link_id_of

    _post(client, f"/unit/{town}/explain", csrf_of(client, town),
          finding_id=_finding(world, town, "warn"), explanation="属实")
    (entry,) = _audit(world)
    assert entry["link_id"] == link_id_of(path)
    page = client.get(f"/unit/{town}").text
    assert "auditor@hetang.cn" in page and link_id_of(path)[:8] in page


def test_explained_ids_ignore_findings_that_became_errors(world, login):
    town = world.hetang_towns[1]
    warning = _finding(world, town, "warn")
    client = login(town)
    _post(client, f"/unit/{town}/explain", csrf_of(client, town), finding_id=warning,
          explanation="属实")
    assert queries.explained_finding_ids(world.engine) == {warning}
    with world.engine.begin() as conn:
        conn.execute(sa.text("UPDATE finding SET severity = 'error' WHERE finding_id = :f"),
                     {"f": warning})
    assert queries.explained_finding_ids(world.engine) == set()


def test_approval_without_the_ticked_box_changes_nothing(world, login):
    clean = world.hetang_towns[1]
    client = login(HETANG, "county@hetang.cn")
    page = client.get(f"/unit/{clean}", params={"period": PERIOD}).text
    assert 'name="confirm" value="yes" required' in page and "data-confirm=" in page
    token = csrf_of(client, HETANG)
    for unticked in ("", "no", "on"):
        refused = _post(client, f"/unit/{clean}/approve", token, confirm=unticked)
        assert refused.status_code == 409
        assert "请勾选" in refused.text
    assert not queries.is_locked(world.engine, clean, FORM, PERIOD)
    assert _audit(world) == []
    assert _post(client, f"/unit/{clean}/approve", token).status_code == 303
    assert queries.is_locked(world.engine, clean, FORM, PERIOD)
