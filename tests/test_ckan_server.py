"""The sample catalogue and the CKAN-compatible server, over real HTTP on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sampledata.catalogue import (
    CATALOGUE_END,
    TIMESTAMP_FORMAT,
    TOKYO_WARD_CODES,
    WARD_NAMES,
    active_public_counts,
    generate_catalogue,
    read_catalogue,
    write_catalogue,
)
from sampledata.ckan_server import DEFAULT_SORT, CkanServer

REPO_ROOT = Path(__file__).resolve().parents[1]
WARDS = ["131016", "131024", "131032"]
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$")


@pytest.fixture(scope="module")
def packages() -> list[dict[str, Any]]:
    return generate_catalogue(WARDS, seed=11, packages_per_ward=(20, 45))


@pytest.fixture(scope="module")
def server(packages: list[dict[str, Any]]) -> Iterator[CkanServer]:
    with CkanServer(packages) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def get(http: requests.Session, server: CkanServer, action: str, **params: Any):
    return http.get(f"{server.base_url}/api/3/action/{action}", params=params, timeout=5)


def search(http: requests.Session, server: CkanServer, **params: Any) -> dict[str, Any]:
    response = get(http, server, "package_search", **params)
    assert response.status_code == 200, response.text
    return response.json()["result"]


def public_ids(packages: list[dict[str, Any]], org: str | None = None) -> set[str]:
    return {
        p["id"]
        for p in packages
        if p["state"] == "active"
        and not p["private"]
        and (org is None or p["organization"]["name"] == org)
    }


def truth_by_org(packages: list[dict[str, Any]]) -> dict[str, int]:
    return {f"t{code}": n for code, n in active_public_counts(packages).items()}


# --- catalogue -----------------------------------------------------------------------------


def test_same_arguments_give_the_same_catalogue() -> None:
    first = generate_catalogue(WARDS, seed=5, packages_per_ward=(10, 30))
    again = generate_catalogue(WARDS, seed=5, packages_per_ward=(10, 30))
    other = generate_catalogue(WARDS, seed=6, packages_per_ward=(10, 30))
    assert json.dumps(first, ensure_ascii=False) == json.dumps(again, ensure_ascii=False)
    assert [p["id"] for p in first] != [p["id"] for p in other]


def test_default_spread_reproduces_the_567_vs_98_gap() -> None:
    counts = active_public_counts(generate_catalogue(TOKYO_WARD_CODES, seed=7))
    assert sorted(counts) == sorted(TOKYO_WARD_CODES)
    assert min(counts.values()) == 98
    assert max(counts.values()) == 567
    assert all(98 <= n <= 567 for n in counts.values())


def test_every_ward_has_hidden_packages_that_do_not_count(packages: list[dict[str, Any]]) -> None:
    for code in WARDS:
        own = [p for p in packages if p["organization"]["name"] == f"t{code}"]
        private = [p for p in own if p["private"] and p["state"] == "active"]
        not_active = [p for p in own if p["state"] in ("deleted", "draft")]
        assert private, code
        assert any(p["state"] == "deleted" for p in not_active), code
        assert active_public_counts(packages)[code] == len(own) - len(private) - len(not_active)
        assert 20 <= active_public_counts(packages)[code] <= 45


def test_packages_are_shaped_like_ckan(packages: list[dict[str, Any]]) -> None:
    assert len({p["id"] for p in packages}) == len(packages)
    assert len({p["name"] for p in packages}) == len(packages)
    for package in packages:
        organization = package["organization"]
        assert UUID_RE.match(package["id"])
        assert re.match(r"^t\d{6}$", organization["name"])
        assert organization["title"] == WARD_NAMES[organization["name"][1:]]
        assert package["owner_org"] == organization["id"]
        assert package["state"] in ("active", "deleted", "draft")
        assert isinstance(package["private"], bool)
        assert TIMESTAMP_RE.match(package["metadata_created"])
        assert TIMESTAMP_RE.match(package["metadata_modified"])
        assert package["metadata_created"] <= package["metadata_modified"]
        assert package["metadata_modified"] <= CATALOGUE_END.strftime(TIMESTAMP_FORMAT)
        assert package["num_resources"] == len(package["resources"]) >= 1
        assert all(r["package_id"] == package["id"] for r in package["resources"])
        assert package["tags"] and all(t["name"] for t in package["tags"])


def test_write_then_read_gives_the_same_packages(
    tmp_path: Path, packages: list[dict[str, Any]]
) -> None:
    path = write_catalogue(packages, tmp_path / "nested" / "catalogue.json")
    assert read_catalogue(path) == packages
    assert "港区" in path.read_text(encoding="utf-8")  # UTF-8, not \u escapes


def test_read_catalogue_rejects_a_non_list(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"id": "x"}', encoding="utf-8")
    with pytest.raises(ValueError, match="JSON array"):
        read_catalogue(path)


@pytest.mark.parametrize(
    ("codes", "spread"),
    [
        pytest.param(["13103"], (1, 2), id="five-digit-code"),
        pytest.param(["131032", "131032"], (1, 2), id="repeated-code"),
        pytest.param(["131032"], (5, 2), id="low-above-high"),
        pytest.param(["131032"], (-1, 2), id="negative-low"),
    ],
)
def test_generate_rejects_bad_arguments(codes: list[str], spread: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        generate_catalogue(codes, seed=1, packages_per_ward=spread)


# --- envelope and status -------------------------------------------------------------------


def test_status_show_answers_in_the_ckan_envelope(
    http: requests.Session, server: CkanServer
) -> None:
    response = get(http, server, "status_show")
    body = response.json()
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert body["success"] is True
    assert body["help"] == f"{server.base_url}/api/3/action/help_show?name=status_show"
    assert body["result"]["ckan_version"].startswith("2.10")
    assert body["result"]["site_url"] == server.base_url


@pytest.mark.parametrize(
    ("action", "params", "status", "error_type", "fragment"),
    [
        pytest.param("package_search", {"rows": "abc"}, 409, "Validation Error", "rows", id="rows"),
        pytest.param("package_search", {"start": "-1"}, 409, "Validation Error", "natural", id="s"),
        pytest.param(
            "package_search",
            {"facet.field": "organization"},
            409,
            "Validation Error",
            "JSON",
            id="facet-field-not-json",
        ),
        pytest.param(
            "package_search",
            {"sort": "name sideways"},
            400,
            "Search Query Error",
            "sort",
            id="bad-sort",
        ),
        pytest.param(
            "package_search",
            {"fq": "colour:red"},
            409,
            "Search Error",
            "colour",
            id="unknown-fq-field",
        ),
        pytest.param("no_such_action", {}, 400, "Bad Request", "Action name not known", id="act"),
        pytest.param("package_show", {"id": "nope"}, 404, "Not Found Error", "nope", id="404"),
        pytest.param("package_show", {}, 409, "Validation Error", "id", id="show-without-id"),
        pytest.param(
            "organization_list",
            {"sort": "colour"},
            409,
            "Validation Error",
            "sort",
            id="org-sort",
        ),
    ],
)
def test_errors_come_in_the_ckan_error_envelope(
    http: requests.Session,
    server: CkanServer,
    action: str,
    params: dict[str, str],
    status: int,
    error_type: str,
    fragment: str,
) -> None:
    response = get(http, server, action, **params)
    body = response.json()
    assert response.status_code == status
    assert body["success"] is False
    assert "result" not in body
    assert body["help"].endswith(f"help_show?name={action}")
    assert body["error"]["__type"] == error_type
    assert fragment in body["error"]["message"]


def test_validation_errors_also_carry_the_field_list(
    http: requests.Session, server: CkanServer
) -> None:
    error = get(http, server, "package_search", rows="abc").json()["error"]
    assert error["rows"] == ["Invalid integer"]


def test_a_path_outside_the_action_api_is_404(http: requests.Session, server: CkanServer) -> None:
    response = http.get(f"{server.base_url}/dataset/whatever", timeout=5)
    assert response.status_code == 404
    assert response.json()["error"]["__type"] == "Not Found Error"


def test_post_needs_a_json_object(http: requests.Session, server: CkanServer) -> None:
    url = f"{server.base_url}/api/3/action/package_search"
    response = http.post(url, data="[1, 2]", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "needs to be a dictionary" in response.json()["error"]["message"]


# --- package_search ------------------------------------------------------------------------


def test_default_search_gives_ten_newest_public_packages(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]]
) -> None:
    result = search(http, server)
    expected = sorted(
        (p for p in packages if p["id"] in public_ids(packages)),
        key=lambda p: p["metadata_modified"],
        reverse=True,
    )
    assert result["count"] == len(public_ids(packages))
    assert [p["id"] for p in result["results"]] == [p["id"] for p in expected[:10]]
    assert result["sort"] == DEFAULT_SORT
    assert result["facets"] == {}
    assert result["search_facets"] == {}


def test_pages_cover_every_public_package_once(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]]
) -> None:
    seen: list[str] = []
    start = 0
    while True:
        result = search(http, server, rows=7, start=start, sort="name asc")
        if not result["results"]:
            break
        seen.extend(p["id"] for p in result["results"])
        start += 7
    assert len(seen) == len(set(seen))
    assert set(seen) == public_ids(packages)


def test_post_with_a_json_body_equals_get(http: requests.Session, server: CkanServer) -> None:
    params = {"fq": "organization:t131024", "rows": 5, "start": 3, "sort": "name asc"}
    posted = http.post(f"{server.base_url}/api/3/action/package_search", json=params, timeout=5)
    assert posted.status_code == 200
    assert posted.json()["result"] == search(http, server, **params)


def test_rows_above_1000_are_capped_like_ckan() -> None:
    many = generate_catalogue(["131113"], seed=2, packages_per_ward=(1200, 1200))
    with CkanServer(many) as big, requests.Session() as session:
        result = search(session, big, rows=5000, sort="id asc")
        following = search(session, big, rows=5000, start=1000, sort="id asc")
    assert result["count"] == 1200
    assert len(result["results"]) == 1000
    assert len(following["results"]) == 200


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"fq": "organization:t131032"}, id="fq"),
        pytest.param({"fq": 'organization:"t131032"'}, id="fq-quoted"),
        pytest.param({"fq": "+organization:t131032"}, id="fq-plus-prefix"),
        pytest.param({"q": "organization:t131032"}, id="q-field"),
        pytest.param({"q": "*:*", "fq": "organization:t131032 capacity:public"}, id="two-terms"),
    ],
)
def test_organization_filter_counts_its_public_packages(
    http: requests.Session,
    server: CkanServer,
    packages: list[dict[str, Any]],
    params: dict[str, str],
) -> None:
    result = search(http, server, rows=1000, **params)
    assert result["count"] == active_public_counts(packages)["131032"]
    assert {p["id"] for p in result["results"]} == public_ids(packages, "t131032")


@pytest.mark.parametrize("separator", [" ", "+"], ids=["space", "plus"])
def test_fq_terms_combine(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]], separator: str
) -> None:
    target = next(p for p in packages if p["id"] in public_ids(packages, "t131024"))
    fq = f"organization:t131024{separator}name:{target['name']}"
    result = search(http, server, fq=fq)
    assert [p["id"] for p in result["results"]] == [target["id"]]
    assert (
        search(http, server, fq=f"organization:t131016{separator}name:{target['name']}")["count"]
        == 0
    )


def test_negated_fq_term_excludes(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]]
) -> None:
    result = search(http, server, fq="-organization:t131016", rows=0)
    assert result["count"] == len(public_ids(packages)) - active_public_counts(packages)["131016"]


def test_q_matches_words_case_insensitively(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]]
) -> None:
    target = next(p for p in packages if p["id"] in public_ids(packages))
    result = search(http, server, q=target["name"].upper())
    assert [p["id"] for p in result["results"]] == [target["id"]]
    ward_title = WARD_NAMES["131032"]
    assert (
        search(http, server, q=ward_title, rows=0)["count"]
        == active_public_counts(packages)["131032"]
    )


@pytest.mark.parametrize(
    ("sort", "key", "descending"),
    [
        pytest.param("name asc", "name", False, id="name-asc"),
        pytest.param("name desc", "name", True, id="name-desc"),
        pytest.param("id asc", "id", False, id="id-asc"),
        pytest.param("metadata_modified asc", "metadata_modified", False, id="modified-asc"),
        pytest.param("metadata_created desc", "metadata_created", True, id="created-desc"),
    ],
)
def test_sort_orders_results(
    http: requests.Session,
    server: CkanServer,
    packages: list[dict[str, Any]],
    sort: str,
    key: str,
    descending: bool,
) -> None:
    result = search(http, server, sort=sort, rows=1000)
    values = [p[key] for p in result["results"]]
    assert values == sorted(values, reverse=descending)
    assert len(values) == len(public_ids(packages))
    assert result["sort"] == sort


def test_organization_facet_counts_public_packages(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]]
) -> None:
    result = search(
        http, server, rows=0, **{"facet.field": '["organization"]', "facet.limit": "-1"}
    )
    assert result["results"] == []
    assert result["facets"]["organization"] == truth_by_org(packages)
    items = result["search_facets"]["organization"]["items"]
    assert {i["name"]: i["count"] for i in items} == truth_by_org(packages)
    assert {i["name"]: i["display_name"] for i in items} == {f"t{c}": WARD_NAMES[c] for c in WARDS}


def test_facet_limit_keeps_the_largest(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]]
) -> None:
    result = search(http, server, rows=0, **{"facet.field": '["organization"]', "facet.limit": 1})
    truth = truth_by_org(packages)
    largest = max(truth, key=lambda name: (truth[name], name))
    assert result["facets"]["organization"] == {largest: truth[largest]}


def test_include_private_adds_private_but_never_deleted_or_draft(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]]
) -> None:
    public = search(http, server, rows=1000)
    with_private = search(http, server, rows=1000, include_private="true")
    private_active = {p["id"] for p in packages if p["private"] and p["state"] == "active"}
    hidden = {p["id"] for p in packages if p["state"] != "active"}
    returned = {p["id"] for p in with_private["results"]}
    assert with_private["count"] == public["count"] + len(private_active)
    assert private_active <= returned
    assert not returned & hidden
    assert not {p["id"] for p in public["results"]} & private_active


# --- package_show, organization_list -------------------------------------------------------


def test_package_show_by_id_or_name(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]]
) -> None:
    target = next(p for p in packages if p["id"] in public_ids(packages))
    by_id = get(http, server, "package_show", id=target["id"]).json()["result"]
    by_name = get(http, server, "package_show", id=target["name"]).json()["result"]
    assert by_id == by_name == target


@pytest.mark.parametrize("kind", ["private", "deleted"])
def test_package_show_refuses_unpublished(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]], kind: str
) -> None:
    if kind == "private":
        target = next(p for p in packages if p["private"])
    else:
        target = next(p for p in packages if p["state"] == "deleted")
    response = get(http, server, "package_show", id=target["id"])
    assert response.status_code == 403
    assert response.json()["error"]["__type"] == "Authorization Error"


def test_organization_list_names_and_counts(
    http: requests.Session, server: CkanServer, packages: list[dict[str, Any]]
) -> None:
    names = get(http, server, "organization_list").json()["result"]
    detailed = get(http, server, "organization_list", all_fields="true").json()["result"]
    assert names == [f"t{code}" for code in sorted(WARDS)]
    assert {o["name"]: o["package_count"] for o in detailed} == truth_by_org(packages)
    assert all(o["display_name"] == WARD_NAMES[o["name"][1:]] for o in detailed)


def test_organization_list_pages_with_limit_and_offset(
    http: requests.Session, server: CkanServer
) -> None:
    first = get(http, server, "organization_list", limit=2).json()["result"]
    rest = get(http, server, "organization_list", limit=2, offset=2).json()["result"]
    assert first + rest == ["t131016", "t131024", "t131032"]


# --- shifting pages, request log, loopback, CLI --------------------------------------------


def test_insert_at_top_shifts_every_sort_it_is_meant_to(packages: list[dict[str, Any]]) -> None:
    with CkanServer(packages) as shifting, requests.Session() as session:
        before = search(session, shifting, rows=1000)
        inserted = shifting.insert_at_top()
        after = search(session, shifting, rows=1000)
        first_by = {
            s: search(session, shifting, sort=s)["results"][0] for s in ("name asc", "id asc")
        }
    assert after["count"] == before["count"] + 1
    assert after["results"][0]["id"] == inserted["id"]
    assert [p["id"] for p in after["results"][1:]] == [p["id"] for p in before["results"]]
    assert all(p["id"] == inserted["id"] for p in first_by.values())


def test_after_search_hook_runs_between_requests(packages: list[dict[str, Any]]) -> None:
    calls: list[int] = []
    with CkanServer(packages) as hooked, requests.Session() as session:
        hooked.after_search = lambda srv, n: calls.append(n)
        search(session, hooked, rows=3)
        search(session, hooked, rows=0)
        get(session, hooked, "status_show")
        log = hooked.request_log
    assert calls == [1, 2]
    assert [(r.action, r.status, r.returned) for r in log] == [
        ("package_search", 200, 3),
        ("package_search", 200, 0),
        ("status_show", 200, None),
    ]
    assert log[0].params == {"rows": "3"}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::1", "example.org"])
def test_server_refuses_non_loopback_hosts(packages: list[dict[str, Any]], host: str) -> None:
    with pytest.raises(ValueError):
        CkanServer(packages, host=host)


def test_cli_serves_a_catalogue_file(tmp_path: Path, packages: list[dict[str, Any]]) -> None:
    path = write_catalogue(packages, tmp_path / "catalogue.json")
    command = [sys.executable, "-m", "sampledata.ckan_server", "--catalogue", str(path)]
    process = subprocess.Popen(
        [*command, "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base_url = process.stdout.readline().strip()
        assert re.match(r"^http://127\.0\.0\.1:\d+$", base_url)
        response = requests.get(f"{base_url}/api/3/action/package_search?rows=0", timeout=5)
        assert response.json()["result"]["count"] == len(public_ids(packages))
    finally:
        process.terminate()
        returncode = process.wait(timeout=10)
    assert returncode == 0
