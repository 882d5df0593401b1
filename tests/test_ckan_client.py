"""The CKAN client against the sample server and against scripted misbehaving servers."""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest
import requests

from ingestion.opendata.ckan import (
    CkanClient,
    CkanError,
    encode_params,
    packages_to_frame,
    retry_delay,
)
from sampledata.catalogue import TOKYO_WARD_CODES, active_public_counts, generate_catalogue
from sampledata.ckan_server import CkanServer

HTML_503 = (
    "<html><head><title>503 Service Unavailable</title></head>"
    "<body><h1>Service Unavailable</h1></body></html>"
)
OK_STATUS = {"help": "h", "success": True, "result": {"ckan_version": "2.10.5"}}
EXPECTED_DTYPES = {
    "organization": "str",
    "package_id": "str",
    "package_name": "str",
    "state": "str",
    "is_private": "boolean",
    "metadata_created": "datetime64[us]",
    "metadata_modified": "datetime64[us]",
    "num_resources": "Int64",
}


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_catalogue() -> list[dict[str, Any]]:
    """One ward with exactly 2,500 active public packages (plus hidden ones)."""
    return generate_catalogue(["131121"], seed=3, packages_per_ward=(2500, 2500))


@pytest.fixture(scope="module")
def tokyo_catalogue() -> list[dict[str, Any]]:
    return generate_catalogue(TOKYO_WARD_CODES, seed=7)


@pytest.fixture(scope="module")
def tokyo_server(tokyo_catalogue: list[dict[str, Any]]) -> Iterator[CkanServer]:
    with CkanServer(tokyo_catalogue) as server:
        yield server


@pytest.fixture
def big_server(big_catalogue: list[dict[str, Any]]) -> Iterator[CkanServer]:
    with CkanServer(big_catalogue) as server:
        yield server


def public_ids(packages: list[dict[str, Any]]) -> set[str]:
    return {p["id"] for p in packages if p["state"] == "active" and not p["private"]}


def searches(server: CkanServer) -> list[Any]:
    return [r for r in server.request_log if r.action == "package_search"]


# --- a scripted server for what the sample server never does -------------------------------


@dataclass
class Reply:
    """One scripted answer."""

    status: int
    body: str
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def json_reply(payload: Any, status: int = 200) -> Reply:
    return Reply(status, json.dumps(payload))


class ScriptedServer:
    """Answers request n with reply n; the last reply repeats."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.hits = 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def next_reply(self) -> Reply:
        with self.lock:
            self.hits += 1
            return self.replies[min(self.hits, len(self.replies)) - 1]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                reply = scripted.next_reply()
                time.sleep(reply.delay)
                data = reply.body.encode("utf-8")
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> ScriptedServer:
        thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def quick_client(base_url: str, sleeps: list[float] | None = None, **settings: Any) -> CkanClient:
    """A client that records its backoff waits instead of sleeping."""
    recorded = sleeps if sleeps is not None else []
    return CkanClient(base_url, timeout=(1.0, 2.0), sleep=recorded.append, **settings)


# --- paging --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page_size", "requests_expected"),
    [
        pytest.param(1000, 3, id="1000-per-page"),
        pytest.param(300, 9, id="300-per-page"),
        pytest.param(2500, 3, id="capped-at-1000-by-server"),
        pytest.param(5000, 3, id="far-above-cap"),
    ],
)
def test_iter_packages_pages_until_count(
    big_server: CkanServer,
    big_catalogue: list[dict[str, Any]],
    page_size: int,
    requests_expected: int,
) -> None:
    with CkanClient(big_server.base_url, page_size=page_size) as client:
        ids = [p["id"] for p in client.iter_packages()]
    log = searches(big_server)
    assert len(ids) == len(set(ids)) == 2500
    assert set(ids) == public_ids(big_catalogue)
    assert len(log) == requests_expected == math.ceil(2500 / min(page_size, 1000))
    assert [r.params["sort"] for r in log] == ["id asc"] * requests_expected
    assert {r.params["rows"] for r in log} == {str(page_size)}
    assert [int(r.params["start"]) for r in log] == [
        i * min(page_size, 1000) for i in range(requests_expected)
    ]
    assert ids == sorted(ids)


def test_iter_packages_dedupes_when_pages_shift(
    big_server: CkanServer, big_catalogue: list[dict[str, Any]]
) -> None:
    def publish_after_first_page(server: CkanServer, searches_done: int) -> None:
        if searches_done == 1:
            server.insert_at_top()

    big_server.after_search = publish_after_first_page
    with CkanClient(big_server.base_url) as client:
        ids = [p["id"] for p in client.iter_packages()]
    rows_sent = [r.returned for r in searches(big_server)]
    assert rows_sent == [1000, 1000, 501]  # the last row of page 1 came again on page 2
    assert len(ids) == len(set(ids)) == 2500
    assert set(ids) == public_ids(big_catalogue)


def test_iter_packages_fails_when_server_ignores_start() -> None:
    page = {"count": 5, "results": [{"id": "a", "name": "a"}, {"id": "b", "name": "b"}]}
    with ScriptedServer([json_reply({"success": True, "result": page})]) as scripted:
        client = quick_client(scripted.base_url, page_size=2)
        with pytest.raises(CkanError, match="ignore 'start'"):
            list(client.iter_packages())
    assert scripted.hits == 2


def test_organization_packages_match_the_truth(
    tokyo_server: CkanServer, tokyo_catalogue: list[dict[str, Any]]
) -> None:
    truth = active_public_counts(tokyo_catalogue)
    with CkanClient(tokyo_server.base_url) as client:
        for code in ("131032", "131121", "131237"):
            found = client.organization_packages(f"t{code}")
            assert len(found) == truth[code]
            assert {p["organization"]["name"] for p in found} == {f"t{code}"}
            assert all(p["state"] == "active" and not p["private"] for p in found)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("T131032", id="uppercase"),
        pytest.param("t131032 OR name:x", id="query-injection"),
        pytest.param("", id="empty"),
    ],
)
def test_organization_packages_rejects_bad_names(name: str) -> None:
    with pytest.raises(ValueError):
        CkanClient("http://127.0.0.1:9").organization_packages(name)


# --- counts: the truth seen through the client ---------------------------------------------


def test_dataset_counts_equal_active_public_counts(
    tokyo_server: CkanServer, tokyo_catalogue: list[dict[str, Any]]
) -> None:
    with CkanClient(tokyo_server.base_url) as client:
        counts = client.dataset_counts()
    truth = active_public_counts(tokyo_catalogue)
    assert counts == {f"t{code}": n for code, n in truth.items()}
    assert (min(counts.values()), max(counts.values())) == (98, 567)
    request = tokyo_server.request_log[-1]
    assert request.params["rows"] == "0"
    assert request.params["facet.field"] == '["organization"]'
    assert request.params["facet.limit"] == "-1"


def test_every_package_through_the_client_equals_the_truth(
    tokyo_server: CkanServer, tokyo_catalogue: list[dict[str, Any]]
) -> None:
    with CkanClient(tokyo_server.base_url) as client:
        frame = packages_to_frame(list(client.iter_packages()))
    truth = active_public_counts(tokyo_catalogue)
    per_ward = frame.groupby("organization").size().to_dict()
    assert per_ward == {f"t{code}": n for code, n in truth.items()}
    assert not frame["is_private"].any()
    assert set(frame["state"]) == {"active"}


def test_change_signal_is_one_small_search(
    tokyo_server: CkanServer, tokyo_catalogue: list[dict[str, Any]]
) -> None:
    with CkanClient(tokyo_server.base_url) as client:
        change = client.change_signal()
    truth = active_public_counts(tokyo_catalogue)
    published = [p for p in tokyo_catalogue if p["state"] == "active" and not p["private"]]
    assert change.per_organization == {f"t{code}": n for code, n in truth.items()}
    assert change.count == len(published)
    assert change.newest_modified == max(p["metadata_modified"] for p in published)
    request = tokyo_server.request_log[-1]
    assert (request.params["rows"], request.returned) == ("1", 1)
    assert request.params["sort"] == "metadata_modified desc"


def test_change_signal_moves_when_a_package_is_published(
    big_catalogue: list[dict[str, Any]],
) -> None:
    with CkanServer(big_catalogue) as server, CkanClient(server.base_url) as client:
        before = client.change_signal()
        inserted = server.insert_at_top()
        after = client.change_signal()
    assert after.newest_modified == inserted["metadata_modified"] != before.newest_modified
    assert after.count == before.count + 1


def test_change_signal_of_an_empty_catalogue() -> None:
    with CkanServer([]) as server, CkanClient(server.base_url) as client:
        change = client.change_signal()
    assert (change.count, change.per_organization, change.newest_modified) == (0, {}, None)


def test_organization_list_gives_every_ward(tokyo_server: CkanServer) -> None:
    with CkanClient(tokyo_server.base_url) as client:
        names = client.organization_list()
    assert names == [f"t{code}" for code in sorted(TOKYO_WARD_CODES)]


# --- CKAN error envelopes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "params", "status", "error_type", "fragments"),
    [
        pytest.param(
            "package_show", {"id": "nope"}, 404, "Not Found Error", ["nope"], id="not-found"
        ),
        pytest.param(
            "no_such_action", {}, 400, "Bad Request", ["Action name not known"], id="unknown"
        ),
        pytest.param(
            "package_search",
            {"rows": "abc"},
            409,
            "Validation Error",
            ["rows", "Invalid integer"],
            id="validation",
        ),
        pytest.param(
            "package_search",
            {"sort": "bogus"},
            400,
            "Search Query Error",
            ["sort"],
            id="search-query",
        ),
    ],
)
def test_error_envelope_becomes_ckan_error(
    tokyo_server: CkanServer,
    action: str,
    params: dict[str, Any],
    status: int,
    error_type: str,
    fragments: list[str],
) -> None:
    sleeps: list[float] = []
    client = quick_client(tokyo_server.base_url, sleeps)
    with pytest.raises(CkanError) as caught:
        client.call(action, **params)
    error = caught.value
    assert error.status == status
    assert error.error_type == error_type
    assert f"CKAN {error_type}" in error.message
    assert all(fragment in error.message for fragment in fragments)
    assert f"/api/3/action/{action}" in error.url
    assert f"HTTP {status}" in str(error) and error.url in str(error)
    assert sleeps == []  # CKAN errors are not retried


def test_private_package_show_is_an_authorization_error(
    tokyo_server: CkanServer, tokyo_catalogue: list[dict[str, Any]]
) -> None:
    private = next(p for p in tokyo_catalogue if p["private"])
    with pytest.raises(CkanError) as caught:
        CkanClient(tokyo_server.base_url).call("package_show", id=private["id"])
    assert (caught.value.status, caught.value.error_type) == (403, "Authorization Error")


@pytest.mark.parametrize(
    ("reply", "fragments"),
    [
        pytest.param(
            json_reply(
                {"success": False, "error": {"__type": "Validation Error", "q": ["bad"]}}, 409
            ),
            ["CKAN Validation Error", "q", "bad"],
            id="validation-without-message",
        ),
        pytest.param(
            json_reply({"success": False, "error": "exploded"}, 500),
            ["without an error object", "exploded"],
            id="error-not-an-object",
        ),
        pytest.param(
            json_reply("Bad request - Action name not known: nope", 400),
            ["not a CKAN envelope", "Action name not known"],
            id="bare-string-like-real-ckan",
        ),
        pytest.param(
            json_reply({"success": True, "result": {}}, 500),
            ["HTTP 500", "although the envelope says success"],
            id="success-with-error-status",
        ),
        pytest.param(
            Reply(500, "<html>Internal Server Error</html>", "text/html"),
            ["HTTP 500", "not JSON", "Internal Server Error"],
            id="html-500",
        ),
    ],
)
def test_failures_that_are_not_retried(reply: Reply, fragments: list[str]) -> None:
    sleeps: list[float] = []
    with ScriptedServer([reply]) as scripted, pytest.raises(CkanError) as caught:
        quick_client(scripted.base_url, sleeps).call("status_show")
    assert all(fragment in caught.value.message for fragment in fragments), caught.value.message
    assert caught.value.status == reply.status
    assert scripted.hits == 1
    assert sleeps == []


# --- retries -------------------------------------------------------------------------------


def test_html_503_until_retries_run_out() -> None:
    sleeps: list[float] = []
    with ScriptedServer([Reply(503, HTML_503, "text/html")]) as scripted:
        client = quick_client(scripted.base_url, sleeps, max_retries=3)
        with pytest.raises(CkanError) as caught:
            client.call("status_show")
    error = caught.value
    assert scripted.hits == 4
    assert sleeps == [0.5, 1.0, 2.0]
    assert error.status == 503
    assert "not JSON" in error.message and "text/html" in error.message
    assert "503 Service Unavailable" in error.message
    assert "HTTP 503" in str(error)


@pytest.mark.parametrize(
    ("first", "sleeps_expected"),
    [
        pytest.param(Reply(503, HTML_503, "text/html"), [0.5], id="html-503"),
        pytest.param(Reply(502, "Bad Gateway", "text/plain"), [0.5], id="502"),
        pytest.param(json_reply({"success": False}, 504), [0.5], id="504"),
        pytest.param(
            Reply(429, "slow down", "text/plain", headers={"Retry-After": "7"}),
            [7.0],
            id="429-retry-after",
        ),
    ],
)
def test_transient_failure_then_success(first: Reply, sleeps_expected: list[float]) -> None:
    sleeps: list[float] = []
    with ScriptedServer([first, json_reply(OK_STATUS)]) as scripted:
        result = quick_client(scripted.base_url, sleeps).call("status_show")
    assert result == {"ckan_version": "2.10.5"}
    assert scripted.hits == 2
    assert sleeps == sleeps_expected


def test_read_timeout_ends_as_ckan_error_quickly() -> None:
    slow = Reply(200, json.dumps(OK_STATUS), delay=1.5)
    with ScriptedServer([slow]) as scripted:
        client = CkanClient(
            scripted.base_url, timeout=(1.0, 0.2), max_retries=1, backoff_factor=0.01
        )
        began = time.monotonic()
        with pytest.raises(CkanError) as caught:
            client.call("status_show")
        elapsed = time.monotonic() - began
    assert elapsed < 3.0
    assert scripted.hits == 2
    assert caught.value.status is None
    assert "no answer after 2 attempt(s)" in caught.value.message
    assert "timed out" in caught.value.message


def test_connection_refused_ends_as_ckan_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    with pytest.raises(CkanError) as caught:
        quick_client(f"http://127.0.0.1:{port}", sleeps, max_retries=2).call("status_show")
    assert caught.value.status is None
    assert "no answer after 3 attempt(s)" in caught.value.message
    assert "ConnectionError" in caught.value.message
    assert sleeps == [0.5, 1.0]


@pytest.mark.parametrize(
    ("factor", "attempt", "retry_after", "expected"),
    [
        pytest.param(0.5, 1, None, 0.5, id="first"),
        pytest.param(0.5, 3, None, 2.0, id="third"),
        pytest.param(0.5, 1, "7", 7.0, id="retry-after-longer"),
        pytest.param(4.0, 2, "1", 8.0, id="backoff-longer"),
        pytest.param(0.5, 1, "3600", 60.0, id="retry-after-capped"),
        pytest.param(0.5, 1, "Wed, 21 Oct 2015 07:28:00 GMT", 0.5, id="http-date-ignored"),
    ],
)
def test_retry_delay(factor: float, attempt: int, retry_after: str | None, expected: float) -> None:
    response = requests.Response()
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    assert retry_delay(factor, attempt, response) == expected


# --- wrong-shaped JSON ---------------------------------------------------------------------


def envelope(result: Any) -> Reply:
    return json_reply({"help": "h", "success": True, "result": result})


@pytest.mark.parametrize(
    ("method", "reply", "fragment"),
    [
        pytest.param("package_search", json_reply([]), "not a CKAN envelope", id="list"),
        pytest.param("package_search", json_reply({"result": {}}), "not a CKAN envelope", id="ns"),
        pytest.param(
            "package_search", json_reply({"success": True}), "has no result", id="no-result"
        ),
        pytest.param("package_search", envelope([]), "expected an object", id="result-list"),
        pytest.param(
            "package_search", envelope({"count": "12", "results": []}), "'count'", id="count-str"
        ),
        pytest.param(
            "package_search", envelope({"count": True, "results": []}), "'count'", id="count-bool"
        ),
        pytest.param(
            "package_search",
            envelope({"count": 1, "results": {"id": "a"}}),
            "'results' is not a list",
            id="results-dict",
        ),
        pytest.param(
            "package_search",
            envelope({"count": 1, "results": [{"name": "a"}]}),
            "'id'",
            id="package-without-id",
        ),
        pytest.param(
            "dataset_counts", envelope({"count": 0, "results": []}), "no facet", id="no-facets"
        ),
        pytest.param(
            "dataset_counts",
            envelope({"count": 0, "results": [], "facets": {"organization": {"t131032": "5"}}}),
            "counts must be integers",
            id="facet-count-str",
        ),
        pytest.param(
            "organization_list", envelope({"t131032": 1}), "expected names", id="orgs-dict"
        ),
        pytest.param(
            "change_signal",
            envelope(
                {
                    "count": 1,
                    "results": [{"id": "a", "name": "a", "metadata_modified": 20251201}],
                    "facets": {"organization": {"t131032": 1}},
                }
            ),
            "'metadata_modified' is not a timestamp",
            id="newest-without-timestamp",
        ),
        pytest.param(
            "change_signal", envelope({"count": 0, "results": []}), "no facet", id="signal-no-facet"
        ),
    ],
)
def test_wrong_shaped_json_is_a_ckan_error(method: str, reply: Reply, fragment: str) -> None:
    with ScriptedServer([reply]) as scripted:
        client = quick_client(scripted.base_url)
        with pytest.raises(CkanError) as caught:
            getattr(client, method)()
    assert fragment in caught.value.message, caught.value.message
    assert scripted.hits == 1


# --- parameters and construction -----------------------------------------------------------


def test_encode_params() -> None:
    encoded = encode_params(
        {"q": "*:*", "fq": None, "rows": 0, "include_private": True, "facet.field": ["組織"]}
    )
    assert encoded == {
        "q": "*:*",
        "rows": "0",
        "include_private": "true",
        "facet.field": '["組織"]',
    }
    with pytest.raises(TypeError):
        encode_params({"when": object()})


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"base_url": "ftp://example.org"}, id="scheme"),
        pytest.param({"base_url": "http://x", "max_retries": -1}, id="retries"),
        pytest.param({"base_url": "http://x", "page_size": 0}, id="page-size"),
    ],
)
def test_client_rejects_bad_settings(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CkanClient(**settings)


def test_from_env_reads_the_base_url() -> None:
    client = CkanClient.from_env({"DXKPI_CKAN_URL": "http://127.0.0.1:8765/"}, max_retries=1)
    assert client.action_url("package_search") == (
        "http://127.0.0.1:8765/api/3/action/package_search"
    )
    assert client.max_retries == 1
    with pytest.raises(ValueError, match="DXKPI_CKAN_URL"):
        CkanClient.from_env({})


def test_a_given_session_is_used_and_left_open(tokyo_server: CkanServer) -> None:
    class CountingSession(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self.gets = 0
            self.closed = False

        def get(self, *args: Any, **kwargs: Any) -> requests.Response:
            self.gets += 1
            return super().get(*args, **kwargs)

        def close(self) -> None:
            self.closed = True
            super().close()

    session = CountingSession()
    with CkanClient(tokyo_server.base_url, session=session) as client:
        client.call("status_show")
        client.dataset_counts()
    assert session.gets == 2
    assert not session.closed
    session.close()


# --- packages_to_frame ---------------------------------------------------------------------


def sample_package(**overrides: Any) -> dict[str, Any]:
    package = {
        "id": "bbbb",
        "name": "t131032d0000000001",
        "organization": {"name": "t131032"},
        "state": "active",
        "private": False,
        "metadata_created": "2024-04-01T00:00:00.000000",
        "metadata_modified": "2025-12-01T00:00:00.000000",
        "num_resources": 2,
        "resources": [{}, {}],
    }
    return {**package, **overrides}


def test_frame_has_exactly_the_columns_and_dtypes() -> None:
    frame = packages_to_frame(
        [
            sample_package(),
            sample_package(
                id="aaaa",
                name="other",
                private=True,
                metadata_modified="2025-04-01T09:00:00+09:00",
                num_resources=None,
                resources=[{}, {}, {}],
            ),
        ]
    )
    assert {c: str(t) for c, t in frame.dtypes.items()} == EXPECTED_DTYPES
    assert list(frame.columns) == list(EXPECTED_DTYPES)
    assert frame["package_id"].tolist() == ["aaaa", "bbbb"]
    assert frame.index.tolist() == [0, 1]
    assert frame["is_private"].tolist() == [True, False]
    first = frame.iloc[0]
    assert first["metadata_modified"] == pd.Timestamp("2025-04-01 00:00:00")  # offset -> UTC
    assert first["num_resources"] == 3  # falls back to len(resources)
    second = frame.iloc[1]
    assert second["organization"] == "t131032"
    assert second["metadata_modified"] == pd.Timestamp("2025-12-01")
    assert second["num_resources"] == 2


def test_frame_keeps_missing_values_missing() -> None:
    frame = packages_to_frame([sample_package(organization=None, private=None, state=None)])
    assert pd.isna(frame.loc[0, "organization"])
    assert pd.isna(frame.loc[0, "is_private"])
    assert pd.isna(frame.loc[0, "state"])


def test_empty_frame_keeps_the_dtypes() -> None:
    frame = packages_to_frame([])
    assert frame.empty
    assert {c: str(t) for c, t in frame.dtypes.items()} == EXPECTED_DTYPES


@pytest.mark.parametrize(
    ("package", "fragment"),
    [
        pytest.param({"name": "x"}, "id or name", id="no-id"),
        pytest.param("not a package", "not an object", id="not-a-dict"),
        pytest.param(sample_package(metadata_created="yesterday"), "metadata_created", id="ts"),
    ],
)
def test_frame_rejects_malformed_packages(package: Any, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        packages_to_frame([package])
