"""Nothing outside the session's subtree is reachable by any URL."""

from __future__ import annotations

import pytest

from tests.web.conftest import CITY, HETANG, LUSONG, PERIOD, csrf_of


def _sibling_urls(world, submission_of_sibling: str) -> list[str]:
    town = world.lusong_towns[0]
    urls = []
    for code in (LUSONG, town):
        urls += [
            f"/subtree/{code}",
            f"/subtree/{code}?period={PERIOD}",
            f"/unit/{code}",
            f"/unit/{code}?period=2024Q3",
            f"/chart/trend/{code}/08.svg",
            f"/chart/completeness/{code}.svg",
        ]
        urls += [f"/table/{code}/{t}.{fmt}" for t in ("children", "rows", "findings",
                                                       "versions", "audit")
                 for fmt in ("csv", "parquet")]
    urls += [f"/raw/{submission_of_sibling}", f"/subtree/{CITY}", f"/unit/{CITY}"]
    return urls


def _a_submission(world, unit: str) -> str:
    from huizong.web import queries

    return queries.unit_versions(world.engine, unit, "FL-01", PERIOD)[0]["submission_id"]


def test_sibling_county_is_unreachable(world, login):
    client = login(HETANG)
    assert client.get(f"/subtree/{HETANG}").status_code == 200
    for url in _sibling_urls(world, _a_submission(world, world.lusong_towns[0])):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "芦淞区" not in response.text, url
        assert "株洲市" not in response.text, url


def test_sibling_county_cannot_be_acted_on(world, login):
    from huizong.web import queries

    client = login(HETANG)
    token = csrf_of(client, HETANG)
    warning = next(f for f in queries.unit_findings(world.engine, LUSONG, "FL-01", PERIOD)
                   if f["severity"] == "warn")
    for path, data in (
        (f"/unit/{LUSONG}/explain", {"finding_id": warning["finding_id"], "explanation": "x"}),
        (f"/unit/{world.lusong_towns[1]}/approve", {}),
        (f"/unit/{world.lusong_towns[1]}/withdraw", {"reason": "x"}),
        # A finding of the sibling posted through one's own unit's URL.
        (f"/unit/{HETANG}/explain", {"finding_id": warning["finding_id"], "explanation": "x"}),
    ):
        response = client.post(path, data={"csrf_token": token, "period": PERIOD, **data})
        assert response.status_code in (404, 409), path
    assert queries.explained_finding_ids(world.engine) == set()
    assert not queries.is_locked(world.engine, world.lusong_towns[1], "FL-01", PERIOD)


def test_sibling_links_are_absent_from_own_pages(world, login):
    client = login(HETANG)
    for url in (f"/subtree/{HETANG}", f"/unit/{HETANG}", f"/table/{HETANG}/children.csv"):
        body = client.get(url).text
        assert LUSONG not in body and "芦淞区" not in body
        assert all(t not in body for t in world.lusong_towns)


def test_town_sees_itself_only(world, login):
    town, sibling = world.hetang_towns[0], world.hetang_towns[1]
    client = login(town)
    assert client.get(f"/unit/{town}").status_code == 200
    for url in (f"/unit/{sibling}", f"/unit/{HETANG}", f"/subtree/{HETANG}"):
        assert client.get(url).status_code == 404, url


def test_parent_sees_both_counties_and_their_towns(world, login):
    client = login(CITY)
    page = client.get(f"/subtree/{CITY}", params={"period": PERIOD})
    assert page.status_code == 200
    assert "荷塘区" in page.text and "芦淞区" in page.text
    for code in (HETANG, LUSONG, world.lusong_towns[2]):
        assert client.get(f"/unit/{code}").status_code == 200


@pytest.mark.parametrize("bad", ["../../etc", "43020200000", "4302020000001", "abcdefghijkl"])
def test_malformed_unit_codes_are_not_found(login, bad):
    assert login(HETANG).get(f"/unit/{bad}").status_code == 404
