"""Portals are configuration; bad configuration names its file and key."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from huizong.portal.config import (
    HostRule,
    PortalConfigError,
    default_portals_path,
    get_portal,
    load_portals,
)

VALID = {
    "portals": [
        {
            "id": "rongan-fulian",
            "name": "融安县妇女联合会",
            "base_url": "http://www.rongan.gov.cn/fl",
            "list_pages": [
                "tzgg/",
                {
                    "path": "http://www.rongan.gov.cn/zhen/list.shtml",
                    "organisation": {
                        "name": "长安镇妇联",
                        "level": "town",
                        "division_code": "450224100000",
                    },
                    "pagination": {"kind": "script"},
                },
            ],
            "pagination": {"kind": "numbered", "first_page": "index.shtml"},
            "article_selector": "ul.list li a",
            "main_text_selector": "div.TRS_Editor",
            "organisation": {
                "name": "融安县妇女联合会",
                "level": "county",
                "division_code": "450224000000",
            },
            "max_pages": 3,
        }
    ]
}


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "portals.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def broken(tmp_path: Path, change) -> str:
    document = copy.deepcopy(VALID)
    change(document["portals"][0])
    path = write(tmp_path, document)
    with pytest.raises(PortalConfigError) as caught:
        load_portals(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    return message


def test_a_portal_is_read_from_yaml(tmp_path):
    (portal,) = load_portals(write(tmp_path, VALID))
    assert portal.id == "rongan-fulian"
    assert portal.base_url == "http://www.rongan.gov.cn/fl/"
    first, second = portal.list_pages
    assert first.url == "http://www.rongan.gov.cn/fl/tzgg/index.shtml"
    assert first.pagination.kind == "numbered" and first.org == portal.org
    assert second.url == "http://www.rongan.gov.cn/zhen/list.shtml"
    assert second.pagination.kind == "script"
    assert second.pagination.first_page == "index.shtml"  # inherited
    assert second.org.division_code == "450224100000" and second.org.level == "town"
    assert portal.org.name == "融安县妇女联合会"
    assert portal.main_text_selector == "div.TRS_Editor"
    assert portal.max_pages == 3 and portal.request_interval_seconds == 1.0
    assert portal.allowed_hosts == (HostRule("www.rongan.gov.cn"),)  # default: base URL host


def test_packaged_file_has_the_sample_portal(monkeypatch):
    monkeypatch.delenv("HUIZONG_SAMPLE_PORTAL_URL", raising=False)
    monkeypatch.delenv("HUIZONG_SAMPLE_PORTAL_HOST", raising=False)
    assert default_portals_path().is_file()
    sample = get_portal(load_portals(), "sample")
    assert sample.base_url == "http://127.0.0.1:8765/"
    assert [lp.url for lp in sample.list_pages] == [
        "http://127.0.0.1:8765/tzgg/index.html",
        "http://127.0.0.1:8765/gzdt/index.html",
    ]
    assert [lp.pagination.kind for lp in sample.list_pages] == ["numbered", "script"]
    assert sample.org.division_code == "430200000000"
    assert HostRule("127.0.0.1", allow_private=True) in sample.allowed_hosts
    assert HostRule("localhost", allow_private=True) in sample.allowed_hosts


def test_environment_placeholders_are_expanded(monkeypatch):
    monkeypatch.setenv("HUIZONG_SAMPLE_PORTAL_URL", "http://127.0.0.1:40123")
    monkeypatch.setenv("HUIZONG_SAMPLE_PORTAL_HOST", "sample-portal")
    sample = get_portal(load_portals(), "sample")
    assert sample.base_url == "http://127.0.0.1:40123/"
    assert sample.list_pages[0].url == "http://127.0.0.1:40123/tzgg/index.html"
    assert HostRule("sample-portal", allow_private=True) in sample.allowed_hosts


def test_unset_variable_without_default_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("HUIZONG_TEST_UNSET", raising=False)
    message = broken(tmp_path, lambda p: p.update(base_url="${HUIZONG_TEST_UNSET}"))
    assert "portals[0].base_url: environment variable HUIZONG_TEST_UNSET is not set" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p.pop("article_selector"), "portals[0].article_selector: is required"),
        (
            lambda p: p.update(article_selector="ul.list >> a"),
            "portals[0].article_selector: 'ul.list >> a' is not a valid CSS selector",
        ),
        (lambda p: p.update(id="Rong An"), "portals[0].id: 'Rong An' must be lower-case"),
        (lambda p: p.update(base_url="www.rongan.gov.cn"), "portals[0].base_url: "),
        (
            lambda p: p["pagination"].update(kind="infinite"),
            "portals[0].pagination.kind: 'infinite' must be one of "
            "numbered, next, script, list, none",
        ),
        (
            lambda p: p["pagination"].update(page_pattern="page.html"),
            "portals[0].pagination.page_pattern: 'page.html' must contain {n}",
        ),
        (
            lambda p: p["organisation"].update(division_code=4502240),
            "portals[0].organisation.division_code: '4502240' must be a 12-digit",
        ),
        (
            lambda p: p["organisation"].update(level="village"),
            "portals[0].organisation.level: 'village' must be one of",
        ),
        (
            lambda p: p["list_pages"][1]["organisation"].pop("name"),
            "portals[0].list_pages[1].organisation.name: is required",
        ),
        (lambda p: p.update(list_pages=[]), "portals[0].list_pages: must be a non-empty list"),
        (lambda p: p.update(max_pages=0), "portals[0].max_pages: must be at least 1"),
        (lambda p: p.update(max_pages=2.5), "portals[0].max_pages: must be a whole number"),
        (
            lambda p: p.update(allowed_hosts=["http://www.rongan.gov.cn/"]),
            "portals[0].allowed_hosts[0]: 'http://www.rongan.gov.cn/' must be a bare host name",
        ),
        (
            lambda p: p.update(
                allowed_hosts=[{"host": "www.rongan.gov.cn", "allow_private": "yes"}]
            ),
            "portals[0].allowed_hosts[0].allow_private: must be true or false",
        ),
        (
            lambda p: p["list_pages"].append("http://elsewhere.example/list/"),
            "portals[0].list_pages: http://elsewhere.example/list/index.shtml is on host",
        ),
        (
            lambda p: p["list_pages"].append("http://www.rongan.gov.cn:8080/list/"),
            "portals[0].list_pages: http://www.rongan.gov.cn:8080/list/index.shtml is on host "
            "'www.rongan.gov.cn:8080', which is not in allowed_hosts",
        ),
        (
            lambda p: p.update(allowed_hosts=["www.rongan.gov.cn:99999"]),
            "portals[0].allowed_hosts[0]: 'www.rongan.gov.cn:99999': port 99999 must be between",
        ),
        (
            lambda p: p.update(allowed_hosts=[{"host": "www.rongan.gov.cn", "port": "http"}]),
            "portals[0].allowed_hosts[0].port: 'http' must be a whole number",
        ),
        (
            lambda p: p.update(allowed_hosts=[{"host": "www.rongan.gov.cn:80", "port": 80}]),
            "portals[0].allowed_hosts[0].port: the port is already given in host",
        ),
        (
            lambda p: p.update(base_url="http://www.rongan.gov.cn:http/"),
            "portals[0].base_url: 'http://www.rongan.gov.cn:http/' has an invalid port",
        ),
        (
            lambda p: p.update(ignore_robots=True),
            "portals[0].ignore_robots_reason: is required when ignore_robots is true",
        ),
        (
            lambda p: p.update(ignore_robots="yes"),
            "portals[0].ignore_robots: must be true or false",
        ),
        (
            lambda p: p.update(ignore_robots_reason="we asked"),
            "portals[0].ignore_robots_reason: is only used together with ignore_robots: true",
        ),
    ],
)
def test_errors_name_file_and_key(tmp_path, change, expected):
    assert expected in broken(tmp_path, change)


def test_duplicate_ids_and_malformed_files(tmp_path):
    document = copy.deepcopy(VALID)
    document["portals"].append(copy.deepcopy(VALID["portals"][0]))
    with pytest.raises(PortalConfigError, match=r"portals\[1\]\.id: duplicate portal id"):
        load_portals(write(tmp_path, document))
    with pytest.raises(PortalConfigError, match="a top-level 'portals' list is required"):
        load_portals(write(tmp_path, {"sites": []}))
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("portals: [\n", encoding="utf-8")
    with pytest.raises(PortalConfigError, match=r"bad\.yaml: not valid YAML"):
        load_portals(bad_yaml)
    with pytest.raises(PortalConfigError, match="cannot read"):
        load_portals(tmp_path / "missing.yaml")


def test_unknown_portal_id_lists_the_known_ones(tmp_path):
    portals = load_portals(write(tmp_path, VALID))
    with pytest.raises(PortalConfigError, match="configured: rongan-fulian"):
        get_portal(portals, "beihai")


def test_host_rules_match_exact_hosts_and_subdomain_wildcards():
    assert HostRule("www.rongan.gov.cn").matches("WWW.RONGAN.GOV.CN.")
    assert not HostRule("www.rongan.gov.cn").matches("rongan.gov.cn")
    wildcard = HostRule("*.gov.cn")
    assert wildcard.matches("fl.zhuzhou.gov.cn")
    assert not wildcard.matches("gov.cn") and not wildcard.matches("evilgov.cn")


def test_host_rules_name_ports_and_default_to_the_scheme_port():
    rule = HostRule("www.rongan.gov.cn")
    assert rule.allows("http", "www.rongan.gov.cn", None)
    assert rule.allows("http", "www.rongan.gov.cn", 80)
    assert rule.allows("https", "www.rongan.gov.cn", 443)
    assert not rule.allows("http", "www.rongan.gov.cn", 443)
    assert not rule.allows("http", "www.rongan.gov.cn", 8080)
    assert not rule.allows("ftp", "www.rongan.gov.cn", None)
    with_port = HostRule("127.0.0.1", allow_private=True, port=8765)
    assert with_port.allows("http", "127.0.0.1", 8765)
    assert not with_port.allows("http", "127.0.0.1", 5432)
    assert not with_port.allows("http", "127.0.0.1", None)


def test_allowed_hosts_parse_ports_in_either_form(tmp_path):
    document = copy.deepcopy(VALID)
    document["portals"][0]["allowed_hosts"] = [
        "www.rongan.gov.cn",
        "*.rongan.gov.cn:8080",
        {"host": "127.0.0.1", "port": 8765, "allow_private": True},
        "[::1]:8766",
    ]
    [portal] = load_portals(write(tmp_path, document))
    assert portal.allowed_hosts == (
        HostRule("www.rongan.gov.cn"),
        HostRule("*.rongan.gov.cn", port=8080),
        HostRule("127.0.0.1", allow_private=True, port=8765),
        HostRule("::1", port=8766),
    )
    assert portal.ignore_robots is False and portal.ignore_robots_reason is None


def test_the_base_url_port_is_allowed_with_the_rule_naming_its_host(tmp_path):
    document = copy.deepcopy(VALID)
    entry = document["portals"][0]
    entry.update(base_url="http://127.0.0.1:8765/", list_pages=["tzgg/"])
    entry["allowed_hosts"] = [{"host": "127.0.0.1", "allow_private": True}]
    [portal] = load_portals(write(tmp_path, document))
    assert portal.allowed_hosts == (
        HostRule("127.0.0.1", allow_private=True),
        HostRule("127.0.0.1", allow_private=True, port=8765),
    )
    del entry["allowed_hosts"]
    [default] = load_portals(write(tmp_path, document))
    assert default.allowed_hosts == (HostRule("127.0.0.1", port=8765),)


def test_ignore_robots_needs_and_keeps_a_reason(tmp_path):
    document = copy.deepcopy(VALID)
    document["portals"][0].update(ignore_robots=True, ignore_robots_reason="站点书面同意")
    [portal] = load_portals(write(tmp_path, document))
    assert portal.ignore_robots is True and portal.ignore_robots_reason == "站点书面同意"
