"""A small CKAN-compatible HTTP server (Action API v3) for the demo and the tests.

It answers the read actions the pipeline uses, with CKAN 2.10's envelopes, status codes and
result shapes: ``package_search``, ``organization_list``, ``package_show`` and ``status_show``,
by GET (query string) or POST (JSON body). It only binds to loopback.

Search is a simplification of CKAN's Solr search: ``q`` matches words in name/title/notes
(case-insensitive) and ``field:value`` terms; ``fq`` takes space- or ``+``-separated
``field:value`` terms; ``score`` is the same for every package. Deleted and draft packages are
never returned; private ones only with ``include_private=true`` (the caller is treated as a
member of every organisation, as with an API token).

For tests, ``CkanServer.after_search`` runs between requests and ``insert_at_top`` adds a
package that comes first in the default sort (and in ``name asc`` / ``id asc``), so the pages a
client is reading shift under it.

Run ``dxkpi-ckan --catalogue catalogue.json`` to serve a catalogue written by
``sampledata.catalogue.write_catalogue``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import re
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ingestion.common.reference import load_wards
from sampledata.catalogue import (
    TIMESTAMP_FORMAT,
    generate_catalogue,
    is_active_public,
    read_catalogue,
)

LOGGER = logging.getLogger(__name__)
CKAN_VERSION = "2.10.5"
API_PREFIXES = ("/api/3/action/", "/api/action/")
ROWS_DEFAULT = 10
ROWS_MAX = 1000
FACET_LIMIT_DEFAULT = 50
DEFAULT_SORT = "score desc, metadata_modified desc"
ORG_LIST_MAX = 1000
ORG_LIST_ALL_FIELDS_MAX = 25
POLL_INTERVAL = 0.05
TRUE_STRINGS = frozenset({"true", "yes", "t", "y", "1", "on"})
FALSE_STRINGS = frozenset({"false", "no", "f", "n", "0", "off", ""})
MATCH_ALL = "*:*"
TERM_RE = re.compile(r'([+-]?)(?:([A-Za-z_][\w.]*):)?("[^"]*"|[^\s+"]+)')
INTEGER_RE = re.compile(r"^\s*-?\d+\s*$")
SORT_FIELDS = frozenset(
    {
        "score",
        "id",
        "name",
        "title",
        "title_string",
        "metadata_created",
        "metadata_modified",
        "num_resources",
        "num_tags",
    }
)

Params = dict[str, Any]


class ActionError(Exception):
    """A failed action: the HTTP status and CKAN's ``error`` object."""

    def __init__(self, status: int, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", error.get("__type", "error")))
        self.status = status
        self.error = error


def validation_error(field_name: str, problem: str) -> ActionError:
    """Build CKAN's 409 Validation Error for one field."""
    error = {
        "__type": "Validation Error",
        "message": f"{field_name}: {problem}",
        field_name: [problem],
    }
    return ActionError(409, error)


def not_found(detail: str) -> ActionError:
    """Build CKAN's 404 Not Found Error."""
    return ActionError(404, {"__type": "Not Found Error", "message": f"Not found: {detail}"})


def not_authorized(detail: str) -> ActionError:
    """Build CKAN's 403 Authorization Error."""
    message = f"Access denied: {detail}"
    return ActionError(403, {"__type": "Authorization Error", "message": message})


def search_query_error(detail: str) -> ActionError:
    """Build CKAN's 400 Search Query Error."""
    message = f"Search Query is invalid: {detail}"
    return ActionError(400, {"__type": "Search Query Error", "message": message})


def search_error(detail: str) -> ActionError:
    """Build CKAN's 409 Search Error."""
    return ActionError(409, {"__type": "Search Error", "message": f"Search error: {detail}"})


def bad_request(detail: str) -> ActionError:
    """Build a 400 Bad Request (CKAN answers a bare string here; this server keeps the envelope)."""
    return ActionError(400, {"__type": "Bad Request", "message": f"Bad request - {detail}"})


@dataclass(frozen=True)
class RequestRecord:
    """One request the server answered."""

    method: str
    action: str
    params: Params
    status: int
    returned: int | None = None


@dataclass(frozen=True)
class Term:
    """One search term: ``field:value`` (field set) or a free-text word (field None)."""

    field: str | None
    value: str
    negate: bool = False


@dataclass
class SearchRequest:
    """The validated parameters of one ``package_search``."""

    terms: list[Term]
    rows: int
    start: int
    sort: str
    facet_fields: list[str]
    facet_limit: int
    include_private: bool
    sort_keys: list[tuple[str, bool]]


# --- parameters --------------------------------------------------------------------------


def scalar_param(params: Params, name: str, default: Any = None) -> Any:
    """Return one parameter; a repeated query parameter yields its last value."""
    value = params.get(name, default)
    if isinstance(value, list):
        return value[-1] if value else default
    return value


def int_param(params: Params, name: str, default: int, natural: bool = True) -> int:
    """Parse an integer parameter the way CKAN's int and natural-number validators do."""
    value = scalar_param(params, name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise validation_error(name, "Invalid integer")
    if isinstance(value, str) and not INTEGER_RE.match(value):
        raise validation_error(name, "Invalid integer")
    number = int(value)
    if natural and number < 0:
        raise validation_error(name, "Must be a natural number")
    return number


def bool_param(params: Params, name: str, default: bool = False) -> bool:
    """Parse a boolean parameter the way CKAN's boolean validator does."""
    value = scalar_param(params, name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_STRINGS:
        return True
    if text in FALSE_STRINGS:
        return False
    raise validation_error(name, "Value must be one of: true, false")


def json_list_param(params: Params, name: str) -> list[str]:
    """Parse a list-of-strings parameter given as a JSON string or a JSON array."""
    value = params.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise validation_error(name, "Could not parse as valid JSON") from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise validation_error(name, "Not a list of strings")
    return value


# --- search --------------------------------------------------------------------------------


def parse_terms(text: str) -> list[Term]:
    """Split a ``q`` or ``fq`` string into terms (``*:*`` and ``AND`` match everything)."""
    terms = []
    for sign, field_name, raw in TERM_RE.findall(text or ""):
        if not field_name and raw in (MATCH_ALL, "*", "AND"):
            continue
        terms.append(Term(field_name or None, raw.strip('"'), negate=sign == "-"))
    return terms


def field_values(package: Mapping[str, Any], name: str) -> list[str]:
    """Return the indexed values of one search field of a package."""
    if name in ("id", "name", "state", "type", "license_id", "owner_org"):
        value = package.get(name)
        return [] if value is None else [str(value)]
    if name == "organization":
        organization = package.get("organization") or {}
        return [organization["name"]] if organization.get("name") else []
    if name == "tags":
        return [t["name"] for t in package.get("tags") or [] if "name" in t]
    if name == "res_format":
        return [r["format"] for r in package.get("resources") or [] if r.get("format")]
    if name == "groups":
        return [g["name"] for g in package.get("groups") or [] if "name" in g]
    if name == "capacity":
        return ["private" if package.get("private") else "public"]
    raise search_error(f"undefined field {name}")


def text_matches(package: Mapping[str, Any], word: str) -> bool:
    """Tell whether a word appears (case-insensitively) in the name, title or notes."""
    needle = word.casefold()
    haystack = " ".join(str(package.get(k) or "") for k in ("name", "title", "notes"))
    return needle in haystack.casefold()


def term_matches(package: Mapping[str, Any], term: Term) -> bool:
    """Tell whether a package satisfies one term."""
    if term.field is None:
        found = text_matches(package, term.value)
    else:
        values = field_values(package, term.field)
        found = bool(values) if term.value == "*" else term.value in values
    return found != term.negate


def parse_sort(text: str) -> list[tuple[str, bool]]:
    """Parse ``"field dir, field dir"`` into (field, descending) pairs."""
    keys = []
    for part in text.split(","):
        words = part.split()
        if len(words) != 2 or words[1].lower() not in ("asc", "desc"):
            raise search_query_error(f'Invalid "sort" parameter: {text!r}')
        if words[0] not in SORT_FIELDS:
            raise search_query_error(f"can not sort on undefined field: {words[0]}")
        keys.append((words[0], words[1].lower() == "desc"))
    return keys


def sort_value(package: Mapping[str, Any], name: str) -> Any:
    """Return the value a package sorts by for one sort field."""
    if name == "score":
        return 0
    if name in ("num_resources", "num_tags"):
        return int(package.get(name) or 0)
    source = "title" if name == "title_string" else name
    return str(package.get(source) or "")


def sort_packages(
    packages: list[dict[str, Any]], keys: list[tuple[str, bool]]
) -> list[dict[str, Any]]:
    """Sort by several keys; ties keep the index (insertion) order."""
    ordered = list(packages)
    for name, descending in reversed(keys):
        ordered.sort(key=lambda p, n=name: sort_value(p, n), reverse=descending)
    return ordered


def facet_counts(packages: Iterable[dict[str, Any]], name: str, limit: int) -> dict[str, int]:
    """Count facet values (minimum count 1): by count when limited, by value when ``-1``."""
    counter = Counter(v for p in packages for v in set(field_values(p, name)))
    if limit < 0:
        return dict(sorted(counter.items()))
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    return dict(ranked[:limit])


def shape_search_facets(
    facets: dict[str, dict[str, int]], org_titles: Mapping[str, str]
) -> dict[str, Any]:
    """Build CKAN's ``search_facets`` (items with display names) from raw facet counts."""
    shaped = {}
    for name, counts in facets.items():
        titles = org_titles if name == "organization" else {}
        items = [
            {"name": value, "display_name": titles.get(value, value), "count": count}
            for value, count in counts.items()
        ]
        shaped[name] = {"title": name, "items": items}
    return shaped


def read_search_request(params: Params) -> SearchRequest:
    """Validate ``package_search`` parameters (CKAN caps ``rows`` at 1000)."""
    q = str(scalar_param(params, "q", "") or "")
    fq = str(scalar_param(params, "fq", "") or "")
    sort = str(scalar_param(params, "sort", "") or "") or DEFAULT_SORT
    return SearchRequest(
        terms=parse_terms(q) + parse_terms(fq),
        rows=min(int_param(params, "rows", ROWS_DEFAULT), ROWS_MAX),
        start=int_param(params, "start", 0),
        sort=sort,
        facet_fields=json_list_param(params, "facet.field"),
        facet_limit=int_param(params, "facet.limit", FACET_LIMIT_DEFAULT, natural=False),
        include_private=bool_param(params, "include_private"),
        sort_keys=parse_sort(sort),
    )


def visible(package: Mapping[str, Any], include_private: bool) -> bool:
    """Tell whether search may return a package: active, and public unless asked for private."""
    if package.get("state") != "active":
        return False
    return include_private or not package.get("private")


def run_search(
    packages: list[dict[str, Any]], request: SearchRequest, org_titles: Mapping[str, str]
) -> dict[str, Any]:
    """Answer one ``package_search`` over a snapshot of the catalogue."""
    matched = [
        p
        for p in packages
        if visible(p, request.include_private) and all(term_matches(p, t) for t in request.terms)
    ]
    ordered = sort_packages(matched, request.sort_keys)
    facets = {f: facet_counts(matched, f, request.facet_limit) for f in request.facet_fields}
    return {
        "count": len(matched),
        "results": ordered[request.start : request.start + request.rows],
        "facets": facets,
        "search_facets": shape_search_facets(facets, org_titles),
        "sort": request.sort,
    }


# --- catalogue state -----------------------------------------------------------------------


class CatalogueStore:
    """The packages a server answers from, safe to read and change from several threads."""

    def __init__(self, packages: Iterable[dict[str, Any]]) -> None:
        self._lock = threading.Lock()
        self._packages: list[dict[str, Any]] = []
        self._by_key: dict[str, dict[str, Any]] = {}
        for package in packages:
            self.add(package)

    def add(self, package: dict[str, Any]) -> None:
        """Add a package at the end of the index order.

        Raises:
            ValueError: When the package has no id/name or its id or name is taken.
        """
        package_id, name = package.get("id"), package.get("name")
        if not isinstance(package_id, str) or not isinstance(name, str):
            raise ValueError("a package needs a string id and name")
        with self._lock:
            if package_id in self._by_key or name in self._by_key:
                raise ValueError(f"package id or name already in the catalogue: {name}")
            self._packages.append(package)
            self._by_key[package_id] = package
            self._by_key[name] = package

    def snapshot(self) -> list[dict[str, Any]]:
        """Return the packages in index order (a new list; the dicts are shared, read-only)."""
        with self._lock:
            return list(self._packages)

    def find(self, id_or_name: str) -> dict[str, Any] | None:
        """Return the package with this id or name, if any."""
        with self._lock:
            return self._by_key.get(id_or_name)


def organizations_of(packages: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Collect the organisations of the packages, keyed and sorted by name."""
    found: dict[str, dict[str, Any]] = {}
    for package in packages:
        organization = package.get("organization") or {}
        if organization.get("name"):
            found.setdefault(organization["name"], organization)
    return dict(sorted(found.items()))


# --- actions -------------------------------------------------------------------------------

Action = Callable[["CkanServer", Params], Any]


def action_package_search(server: CkanServer, params: Params) -> dict[str, Any]:
    """``package_search``: filtered, sorted, paged packages with facets."""
    request = read_search_request(params)
    packages = server.store.snapshot()
    titles = {name: org.get("title", name) for name, org in organizations_of(packages).items()}
    return run_search(packages, request, titles)


def action_package_show(server: CkanServer, params: Params) -> dict[str, Any]:
    """``package_show``: one package by id or name (404 unknown, 403 private or not active)."""
    id_or_name = scalar_param(params, "id")
    if not id_or_name:
        raise validation_error("id", "Missing value")
    package = server.store.find(str(id_or_name))
    if package is None:
        raise not_found(f"package {id_or_name}")
    if not is_active_public(package):
        raise not_authorized(f"User  not authorized to read package {package['id']}")
    return package


def action_organization_list(server: CkanServer, params: Params) -> list[Any]:
    """``organization_list``: names, or dicts with ``package_count`` when ``all_fields``."""
    all_fields = bool_param(params, "all_fields")
    maximum = ORG_LIST_ALL_FIELDS_MAX if all_fields else ORG_LIST_MAX
    limit = min(int_param(params, "limit", maximum), maximum)
    offset = int_param(params, "offset", 0)
    sort_field, descending = parse_org_sort(str(scalar_param(params, "sort", "") or "name asc"))
    packages = server.store.snapshot()
    counts = Counter(p["organization"]["name"] for p in packages if is_active_public(p))
    shaped = [
        organization_dict(org, counts.get(name, 0))
        for name, org in organizations_of(packages).items()
    ]
    shaped.sort(key=lambda org: org[sort_field], reverse=descending)
    page = shaped[offset : offset + limit]
    return page if all_fields else [org["name"] for org in page]


def parse_org_sort(text: str) -> tuple[str, bool]:
    """Parse ``organization_list``'s sort (``name``, ``title`` or ``package_count``)."""
    words = text.split()
    direction = words[1].lower() if len(words) == 2 else "asc"
    if not words or words[0] not in ("name", "title", "package_count") or len(words) > 2:
        raise validation_error("sort", f"Cannot sort by field `{text}`")
    if direction not in ("asc", "desc"):
        raise validation_error("sort", f"Invalid sort direction `{direction}`")
    return words[0], direction == "desc"


def organization_dict(organization: Mapping[str, Any], package_count: int) -> dict[str, Any]:
    """Shape an organisation like ``organization_list(all_fields=True)`` does."""
    return {
        **organization,
        "display_name": organization.get("title") or organization["name"],
        "image_display_url": organization.get("image_url", ""),
        "package_count": package_count,
        "num_followers": 0,
    }


def action_status_show(server: CkanServer, params: Params) -> dict[str, Any]:
    """``status_show``: the site's CKAN version and settings."""
    return {
        "ckan_version": CKAN_VERSION,
        "site_url": server.base_url,
        "site_title": "dxkpi sample catalogue",
        "site_description": "A local CKAN-compatible catalogue of the sample municipalities.",
        "locale_default": "ja",
        "error_emails_to": None,
        "extensions": ["dxkpi_sample"],
    }


ACTIONS: dict[str, Action] = {
    "package_search": action_package_search,
    "package_show": action_package_show,
    "organization_list": action_organization_list,
    "status_show": action_status_show,
}


# --- HTTP ----------------------------------------------------------------------------------


def params_from_query(query: str) -> Params:
    """Read URL parameters: a single value as a string, repeated ones as a list."""
    parsed = parse_qs(query, keep_blank_values=True)
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def params_from_body(body: bytes, content_type: str) -> Params:
    """Read a POST body: a JSON object, or form fields.

    Raises:
        ActionError: 400 when the body is not a JSON object.
    """
    if not body.strip():
        return {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        return params_from_query(body.decode("utf-8", errors="replace"))
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise bad_request(f"JSON Error: Error decoding JSON data. Error: {exc!r}") from None
    if not isinstance(data, dict):
        raise bad_request(
            f"JSON Error: Request data JSON decoded to {data!r} but it needs to be a dictionary."
        )
    return data


def action_name(path: str) -> str | None:
    """Return the action of an Action API path, or None for any other path."""
    for prefix in API_PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix) :].strip("/")
    return None


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into ``CkanServer.answer`` calls."""

    protocol_version = "HTTP/1.1"
    server_version = "dxkpi-ckan/0.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: avoid 40 ms stalls
    timeout = 15
    server: _HttpServer

    def do_GET(self) -> None:
        self._respond("GET", b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._respond("POST", self.rfile.read(length) if length else b"")

    def _respond(self, method: str, body: bytes) -> None:
        content_type = self.headers.get("Content-Type", "")
        status, payload = self.server.owner.answer(method, self.path, body, content_type)
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and the demo do not want access logs."""


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], owner: CkanServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


def check_loopback(host: str) -> None:
    """Refuse any host that is not an IPv4 loopback address (or ``localhost``).

    Raises:
        ValueError: For any other host.
    """
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"not an IP address: {host!r}") from None
    if address.version != 4 or not address.is_loopback:
        raise ValueError(f"the sample CKAN server only binds to IPv4 loopback, not {host}")


class CkanServer:
    """A CKAN-compatible Action API server on loopback, running in a daemon thread.

    Example:
        with CkanServer(packages) as server:
            requests.get(f"{server.base_url}/api/3/action/status_show")
    """

    def __init__(
        self, packages: Iterable[dict[str, Any]], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        """Prepare the server (nothing is bound before ``start``).

        Args:
            packages: CKAN package dicts to serve; they are read, never changed.
            host: Loopback address to bind.
            port: TCP port; 0 picks a free one.

        Raises:
            ValueError: When ``host`` is not loopback, or packages repeat an id or name.
        """
        check_loopback(host)
        self.host = host
        self.port = port
        self.store = CatalogueStore(packages)
        self.after_search: Callable[[CkanServer, int], None] | None = None
        self._log: list[RequestRecord] = []
        self._log_lock = threading.Lock()
        self._searches = 0
        self._shifted = 0
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:45123``."""
        return f"http://{self.host}:{self.port}"

    @property
    def request_log(self) -> list[RequestRecord]:
        """The requests answered so far, oldest first (a copy)."""
        with self._log_lock:
            return list(self._log)

    def start(self) -> CkanServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            return self
        self._httpd = _HttpServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": POLL_INTERVAL},
            name=f"ckan-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> CkanServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def add_package(self, package: dict[str, Any]) -> None:
        """Add a package to the catalogue while serving."""
        self.store.add(package)

    def insert_at_top(self, package: dict[str, Any] | None = None) -> dict[str, Any]:
        """Insert a package newer than all others, so it comes first in the default sort.

        Without an argument a synthetic package is made whose id and name also sort first
        (``id asc`` / ``name asc``). Every page after it shifts by one.

        Args:
            package: Package to insert (copied; its ``metadata_modified`` is replaced).

        Returns:
            The package inserted.
        """
        packages = self.store.snapshot()
        with self._log_lock:
            self._shifted += 1
            number = self._shifted
        newest = max((p.get("metadata_modified", "") for p in packages), default="")
        moment = _newer_than(newest)
        inserted = dict(package) if package else _shift_package(packages, number)
        inserted["metadata_modified"] = moment
        inserted.setdefault("metadata_created", moment)
        self.store.add(inserted)
        return inserted

    def answer(self, method: str, target: str, body: bytes, content_type: str) -> tuple[int, Any]:
        """Answer one request: the HTTP status and the JSON envelope.

        Args:
            method: ``GET`` or ``POST``.
            target: Request path with query string.
            body: Request body (POST).
            content_type: The request's Content-Type header.

        Returns:
            (status, payload) to send as JSON.
        """
        split = urlsplit(target)
        action = action_name(split.path)
        envelope: dict[str, Any] = {"help": self._help_url(action or "")}
        status, returned, params = 200, None, {}
        try:
            params = self._params(method, split.query, body, content_type)
            result = self._run(split.path, action, params)
            envelope.update(success=True, result=result)
            if action == "package_search":
                returned = len(result["results"])
                self._after_search()
        except ActionError as error:
            status = error.status
            envelope.update(success=False, error=error.error)
        except Exception:  # answer like CKAN rather than drop the connection
            LOGGER.exception("internal error answering %s %s", method, target)
            status = 500
            error = {"__type": "Internal Server Error", "message": "Internal Server Error"}
            envelope.update(success=False, error=error)
        self._record(RequestRecord(method, action or split.path, params, status, returned))
        return status, envelope

    def _params(self, method: str, query: str, body: bytes, content_type: str) -> Params:
        if method == "POST" and body.strip():
            return params_from_body(body, content_type)
        return params_from_query(query)

    def _run(self, path: str, action: str | None, params: Params) -> Any:
        if action is None:
            raise not_found(f"no Action API endpoint at {path}")
        if action not in ACTIONS:
            raise bad_request(f"Action name not known: {action}")
        return ACTIONS[action](self, params)

    def _after_search(self) -> None:
        with self._log_lock:
            self._searches += 1
            searches = self._searches
        if self.after_search is not None:
            self.after_search(self, searches)

    def _record(self, record: RequestRecord) -> None:
        with self._log_lock:
            self._log.append(record)

    def _help_url(self, action: str) -> str:
        return f"{self.base_url}/api/3/action/help_show?name={action}"


def _newer_than(timestamp: str) -> str:
    """Return a timestamp one second after ``timestamp`` (or a fixed one when empty)."""
    base = datetime.strptime(timestamp, TIMESTAMP_FORMAT) if timestamp else datetime(2025, 12, 1)
    return (base + timedelta(seconds=1)).strftime(TIMESTAMP_FORMAT)


def _shift_package(packages: list[dict[str, Any]], number: int) -> dict[str, Any]:
    """Make a synthetic active public package whose id and name sort before the others."""
    template = dict(packages[0]) if packages else {}
    template.update(
        id=f"00000000-0000-4000-8000-{number:012d}",
        name=f"000-inserted-{number:04d}",
        title=f"ページずれ確認用データセット {number}",
        notes="ページング中に追加されたデータセット",
        state="active",
        private=False,
        resources=[],
        num_resources=0,
    )
    template.pop("metadata_created", None)
    return template


# --- command line --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Build the ``dxkpi-ckan`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="dxkpi-ckan", description="Serve a sample CKAN catalogue on loopback."
    )
    parser.add_argument("--catalogue", help="JSON file written by write_catalogue")
    parser.add_argument(
        "--seed",
        type=int,
        default=7,
        help="seed of the catalogue generated for the municipality list when no file",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (8765; 0 = any)")
    return parser


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Serve a catalogue until interrupted (Ctrl-C or SIGTERM); print the base URL first."""
    args = build_parser().parse_args(argv)
    if args.catalogue:
        packages = read_catalogue(args.catalogue)
    else:
        packages = generate_catalogue([ward.code for ward in load_wards()], seed=args.seed)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with CkanServer(packages, host=args.host, port=args.port) as server:
        print(server.base_url, flush=True)
        print(f"serving {len(packages)} packages; Ctrl-C to stop", file=sys.stderr, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
