"""The same pages, rules and SQL on PostgreSQL (the production warehouse)."""

from __future__ import annotations

import pgutil
import pytest
from fastapi.testclient import TestClient
from huizong.warehouse.db import get_engine, migrate
from huizong.warehouse.seed import seed_all
from huizong.web import queries
from huizong.web.app import WebConfig, create_app
from huizong.web.sample import SampleWarehouse, build_county

from tests.web.conftest import CITY, HETANG, LUSONG, PERIOD, PERIODS, SECRET, csrf_of, link_path

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_world(tmp_path_factory):
    with pgutil.postgres_database("huizong_web") as url:
        engine = get_engine(url)
        migrate(engine)
        migrate(engine)  # the approvals DDL is re-runnable
        seed_all(engine)
        warehouse = SampleWarehouse(engine, tmp_path_factory.mktemp("raw"))
        hetang = build_county(warehouse, HETANG, "荷塘区", CITY, towns=3, periods=PERIODS)
        build_county(warehouse, LUSONG, "芦淞区", CITY, towns=3, periods=PERIODS, seed=2)
        yield warehouse, hetang
        engine.dispose()


def test_flow_on_postgres(pg_world):
    warehouse, towns = pg_world
    engine = warehouse.engine
    app = create_app(WebConfig(lambda: engine, lambda: SECRET, lambda: warehouse.raw_dir))

    def login(unit: str) -> TestClient:
        client = TestClient(app)
        assert client.get(link_path(f"o@{unit}.cn", unit), follow_redirects=False).status_code \
            == 303
        return client

    county = login(HETANG)
    for url in (f"/subtree/{HETANG}", f"/unit/{HETANG}", f"/chart/trend/{HETANG}/08.svg",
                f"/chart/completeness/{HETANG}.svg", f"/table/{HETANG}/rows.parquet",
                f"/table/{HETANG}/audit.csv"):
        assert county.get(url).status_code == 200, url
    assert county.get(f"/unit/{LUSONG}").status_code == 404
    assert county.get(f"/subtree/{CITY}").status_code == 404

    rows = {r["indicator_code"]: r for r in queries.return_rows(engine, HETANG, "FL-01", PERIOD)}
    assert rows["08"]["diff"] == 17 and rows["08"]["children_expected"] == 3

    town = login(towns[1])
    warning = next(f["finding_id"] for f in queries.unit_findings(engine, towns[1], "FL-01",
                                                                   PERIOD)
                   if f["severity"] == "warn")
    assert town.post(f"/unit/{towns[1]}/explain", data={
        "csrf_token": csrf_of(town, towns[1]), "period": PERIOD, "finding_id": warning,
        "explanation": "属实"}, follow_redirects=False).status_code == 303
    assert warning in queries.explained_finding_ids(engine)

    token = csrf_of(county, HETANG)
    data = {"csrf_token": token, "period": PERIOD}
    assert county.post(f"/unit/{towns[1]}/approve", data={**data, "confirm": "yes"},
                       follow_redirects=False).status_code == 303
    assert queries.is_locked(engine, towns[1], "FL-01", PERIOD)
    assert county.post(f"/unit/{towns[0]}/approve",
                       data={**data, "confirm": "yes"}).status_code == 409
    assert county.post(f"/unit/{towns[1]}/withdraw", data={**data, "reason": "重报"},
                       follow_redirects=False).status_code == 303
    assert not queries.is_locked(engine, towns[1], "FL-01", PERIOD)
    assert [a["action"] for a in queries.unit_audit(engine, towns[1])] == [
        "withdraw", "approve", "explain"]
    report = queries.subtree_report(engine, CITY, "FL-01", PERIOD)
    assert report.total.expected == 15
