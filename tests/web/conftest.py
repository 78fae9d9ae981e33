"""A warehouse with two sibling counties (荷塘区, 芦淞区 under 株洲市) and the app on it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from huizong.warehouse.db import get_engine, migrate
from huizong.warehouse.seed import seed_all
from huizong.web.app import WebConfig, create_app
from huizong.web.auth import Signer, make_link_token
from huizong.web.sample import SampleWarehouse, build_county

SECRET = "web-tests-secret-" + "0123456789abcdef" * 2
CITY = "430200000000"  # 株洲市
HETANG = "430202000000"  # 荷塘区
LUSONG = "430203000000"  # 芦淞区
PERIODS = ["2024Q3", "2024Q4"]
PERIOD = "2024Q4"


@dataclass
class World:
    warehouse: SampleWarehouse
    hetang_towns: list[str]
    lusong_towns: list[str]

    @property
    def engine(self):
        return self.warehouse.engine


@pytest.fixture
def world(tmp_path) -> World:
    engine = get_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    migrate(engine)
    seed_all(engine)
    warehouse = SampleWarehouse(engine, tmp_path / "raw")
    hetang = build_county(warehouse, HETANG, "荷塘区", CITY, towns=3, periods=PERIODS, seed=1)
    lusong = build_county(warehouse, LUSONG, "芦淞区", CITY, towns=3, periods=PERIODS, seed=2)
    return World(warehouse, hetang, lusong)


@pytest.fixture
def app(world: World):
    return create_app(
        WebConfig(
            engine_provider=lambda: world.engine,
            secret_provider=lambda: SECRET,
            raw_dir_provider=lambda: world.warehouse.raw_dir,
        )
    )


def link_path(email: str, unit: str, expires: timedelta | None = None, **kw) -> str:
    return "/l/" + make_link_token(Signer(SECRET), email, unit, expires, **kw)


@pytest.fixture
def login(app) -> Callable[..., TestClient]:
    """A client signed in through a fresh link for ``email`` at ``unit``."""

    def _login(unit: str, email: str | None = None) -> TestClient:
        client = TestClient(app)
        response = client.get(link_path(email or f"official@{unit}.cn", unit),
                              follow_redirects=False)
        assert response.status_code == 303, response.text
        return client

    return _login


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: TestClient, unit: str, period: str = PERIOD) -> str:
    page = client.get(f"/unit/{unit}", params={"period": period})
    assert page.status_code == 200, page.text
    match = CSRF_RE.search(page.text)
    assert match, "the page carries no form"
    return match.group(1)
