"""Client of a CKAN Action API v3 catalogue (production: Tokyo's open-data catalogue).

Every answer is checked before use: the CKAN envelope (``success`` / ``result`` / ``error``),
then the shape of the result. Failures become ``CkanError`` with the URL, the HTTP status and
a message that says what was wrong. Transient failures (connection errors, timeouts, HTTP
429/502/503/504) are retried with exponential backoff, a bounded number of times.

Paging through ``package_search`` asks for a stable sort (``id asc``) and drops packages already
seen, because pages can shift while a catalogue changes under the client.

``change_signal`` tells in one small request whether anything changed: the number of datasets
per organisation and the newest ``metadata_modified``, without listing packages.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import pandas as pd
import requests

LOGGER = logging.getLogger(__name__)

CKAN_URL_ENV = "DXKPI_CKAN_URL"
USER_AGENT = "dxkpi-ckan-client/0.1"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRYABLE_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
MAX_ROWS = 1000
ORG_PAGE_SIZE = 1000
STABLE_SORT = "id asc"
NEWEST_FIRST = "metadata_modified desc"
MAX_RETRY_AFTER = 60.0
SNIPPET_CHARS = 200
ACTION_RE = re.compile(r"^[a-z][a-z0-9_]*$")
ORG_NAME_RE = re.compile(r"^[a-z0-9_-]{2,100}$")
FRAME_COLUMNS: dict[str, str] = {
    "organization": "str",
    "package_id": "str",
    "package_name": "str",
    "state": "str",
    "is_private": "boolean",
    "metadata_created": "datetime64[us]",
    "metadata_modified": "datetime64[us]",
    "num_resources": "Int64",
}

Timeout = float | tuple[float, float]


class CkanError(Exception):
    """A CKAN request that failed, or whose answer could not be used.

    Attributes:
        message: What went wrong, in words.
        url: The URL requested.
        status: The HTTP status, or None when no answer arrived.
        error_type: CKAN's ``__type`` (e.g. ``"Validation Error"``) when it sent one.
    """

    def __init__(
        self, message: str, url: str, status: int | None = None, error_type: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.error_type = error_type

    def __str__(self) -> str:
        status = f"HTTP {self.status}" if self.status is not None else "no HTTP status"
        return f"{self.message} [{status}, {self.url}]"


@dataclass(frozen=True)
class CatalogueChange:
    """What moves when a catalogue changes, as one search sees it.

    Attributes:
        count: Datasets the search sees (active and public for an anonymous client).
        per_organization: Datasets per organisation name; organisations with none are absent.
        newest_modified: The newest ``metadata_modified`` (naive UTC text as CKAN sends it),
            None when the catalogue is empty.
    """

    count: int
    per_organization: dict[str, int]
    newest_modified: str | None


class CkanClient:
    """Read-only client of one CKAN catalogue, over a single ``requests.Session``."""

    def __init__(
        self,
        base_url: str,
        timeout: Timeout = (5.0, 30.0),
        max_retries: int = 3,
        backoff_factor: float = 0.5,
        page_size: int = MAX_ROWS,
        session: requests.Session | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Configure the client.

        Args:
            base_url: Root of the catalogue, e.g. ``https://catalog.example.tokyo``.
            timeout: Seconds, or (connect, read) seconds, per HTTP attempt.
            max_retries: Retries after the first attempt on transient failures.
            backoff_factor: Wait ``backoff_factor * 2**(n-1)`` seconds before retry n.
            page_size: Rows per ``package_search`` page (CKAN caps it at 1000).
            session: Session to use (the caller keeps ownership); a new one by default.
            sleep: Function used to wait between attempts (tests replace it).

        Raises:
            ValueError: On a base URL that is not http(s) or an out-of-range setting.
        """
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://: {base_url!r}")
        if max_retries < 0 or backoff_factor < 0 or page_size < 1:
            raise ValueError("need max_retries >= 0, backoff_factor >= 0 and page_size >= 1")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_factor = backoff_factor
        self.page_size = page_size
        self.session = session if session is not None else requests.Session()
        self._owns_session = session is None
        self._sleep = sleep

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **settings: Any) -> CkanClient:
        """Build a client for the catalogue named by ``DXKPI_CKAN_URL``.

        Args:
            environ: Environment to read (``os.environ`` by default).
            **settings: Other ``CkanClient`` arguments.

        Raises:
            ValueError: When the variable is missing or empty.
        """
        base_url = (environ if environ is not None else os.environ).get(CKAN_URL_ENV, "")
        if not base_url:
            raise ValueError(f"{CKAN_URL_ENV} is not set: give the CKAN catalogue's base URL")
        return cls(base_url, **settings)

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> CkanClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def action_url(self, action: str) -> str:
        """Return the Action API URL of an action.

        Raises:
            ValueError: When the action name is not a plain identifier.
        """
        if not ACTION_RE.match(action):
            raise ValueError(f"not a CKAN action name: {action!r}")
        return f"{self.base_url}/api/3/action/{action}"

    def call(self, action: str, **params: Any) -> Any:
        """Call one action by GET and return its ``result``.

        Lists and dicts are sent as JSON strings, booleans as ``true``/``false``, and
        parameters set to None are left out. Names with a dot go through a dict:
        ``call("package_search", **{"facet.field": ["organization"]})``.

        Args:
            action: Action name, e.g. ``"package_search"``.
            **params: The action's parameters.

        Returns:
            The ``result`` member of CKAN's envelope.

        Raises:
            CkanError: On failure after retries, an error envelope, or an unusable answer.
        """
        url = self.action_url(action)
        response = self._get(url, encode_params(params))
        return unwrap(response, url)

    def package_search(self, **params: Any) -> dict[str, Any]:
        """Call ``package_search`` and check the result's shape.

        Returns:
            The result: ``count`` (int), ``results`` (package dicts with ``id`` and ``name``),
            and whatever else CKAN sent (``facets``, ``search_facets``, ``sort``).

        Raises:
            CkanError: As ``call``, or when the result is not shaped as expected.
        """
        result = self.call("package_search", **params)
        return check_search_result(result, self.action_url("package_search"))

    def iter_packages(
        self,
        fq: str | None = None,
        q: str = "*:*",
        sort: str = STABLE_SORT,
        include_private: bool = False,
    ) -> Iterator[dict[str, Any]]:
        """Yield every package matching a search, page by page, each id once.

        Pages of ``page_size`` rows are read with ``start`` until ``count`` is reached or a
        page comes back empty. A stable sort is requested, and packages already yielded are
        skipped, since pages shift when the catalogue changes during paging.

        Args:
            fq: Filter query, e.g. ``"organization:t131032"``.
            q: Query (``*:*`` = everything).
            sort: Sort to page in (a unique, stable field is best).
            include_private: Ask for private packages too (needs an authorised session).

        Yields:
            Package dicts.

        Raises:
            CkanError: On a failed page, or when a page brings nothing new (the server seems
                to ignore ``start``).
        """
        seen: set[str] = set()
        start = 0
        while True:
            page = self.package_search(
                q=q,
                fq=fq,
                rows=self.page_size,
                start=start,
                sort=sort,
                include_private=True if include_private else None,
            )
            results = page["results"]
            fresh = [p for p in results if p["id"] not in seen]
            seen.update(p["id"] for p in fresh)
            yield from fresh
            start += len(results)
            if not results or start >= page["count"]:
                return
            if not fresh:
                raise CkanError(
                    f"page at start={start - len(results)} brought only packages already seen; "
                    "the server seems to ignore 'start'",
                    self.action_url("package_search"),
                    200,
                )

    def organization_packages(self, org_name: str) -> list[dict[str, Any]]:
        """Return every active public package of one organisation (e.g. ``t131032``).

        Raises:
            ValueError: When ``org_name`` is not a CKAN name (lowercase, digits, ``-``, ``_``).
            CkanError: As ``iter_packages``.
        """
        if not ORG_NAME_RE.match(org_name):
            raise ValueError(f"not a CKAN organisation name: {org_name!r}")
        return list(self.iter_packages(fq=f"organization:{org_name}"))

    def organization_list(self) -> list[str]:
        """Return the names of all organisations, paging with ``limit``/``offset``.

        Raises:
            CkanError: On failure or when the result is not a list of names.
        """
        url = self.action_url("organization_list")
        names: list[str] = []
        while True:
            page = self.call("organization_list", limit=ORG_PAGE_SIZE, offset=len(names))
            fresh = [n for n in check_name_list(page, url) if n not in names]
            names.extend(fresh)
            if len(page) < ORG_PAGE_SIZE or not fresh:
                return names

    def dataset_counts(
        self, facet: str = "organization", fq: str | None = None, q: str = "*:*"
    ) -> dict[str, int]:
        """Count datasets per facet value with one ``rows=0`` search.

        Args:
            facet: Facet field, ``organization`` by default (counts per organisation name).
            fq: Optional filter query.
            q: Query (``*:*`` = everything).

        Returns:
            Counts keyed by facet value, sorted by key; values with no dataset are absent.

        Raises:
            CkanError: On failure or when the facet is missing or malformed.
        """
        params = {"facet.field": [facet], "facet.limit": -1}
        result = self.package_search(q=q, fq=fq, rows=0, **params)
        counts = check_facet(result, facet, self.action_url("package_search"))
        return dict(sorted(counts.items()))

    def change_signal(self) -> CatalogueChange:
        """Read what changes when the catalogue changes, with one ``rows=1`` search.

        The newest package (``sort=metadata_modified desc``) gives the latest edit or addition;
        the ``organization`` facet gives the count per organisation, which also moves when a
        package is deleted or made private. No package list is paged through.

        Raises:
            CkanError: On failure, or when the facet or the newest package's timestamp is
                malformed.
        """
        params = {"facet.field": ["organization"], "facet.limit": -1}
        result = self.package_search(q="*:*", rows=1, sort=NEWEST_FIRST, **params)
        url = self.action_url("package_search")
        counts = check_facet(result, "organization", url)
        return CatalogueChange(
            count=result["count"],
            per_organization=dict(sorted(counts.items())),
            newest_modified=newest_modified(result["results"], url),
        )

    def _get(self, url: str, params: dict[str, str]) -> requests.Response:
        """GET with retries; returns the last response, or raises when none arrived."""
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                response = self.session.get(
                    url, params=params, timeout=self.timeout, headers=request_headers()
                )
            except RETRYABLE_ERRORS as exc:
                if attempt == attempts:
                    message = f"no answer after {attempts} attempt(s): {describe(exc)}"
                    raise CkanError(message, url) from exc
                self._pause(attempt, None, describe(exc))
                continue
            except requests.RequestException as exc:
                raise CkanError(f"request failed: {describe(exc)}", url) from exc
            if response.status_code not in RETRY_STATUSES or attempt == attempts:
                return response
            self._pause(attempt, response, f"HTTP {response.status_code}")
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _pause(self, attempt: int, response: requests.Response | None, reason: str) -> None:
        delay = retry_delay(self.backoff_factor, attempt, response)
        LOGGER.warning("CKAN attempt %d failed (%s); retrying in %.2fs", attempt, reason, delay)
        self._sleep(delay)


def request_headers() -> dict[str, str]:
    """Headers sent with every request."""
    return {"Accept": "application/json", "User-Agent": USER_AGENT}


def retry_delay(backoff_factor: float, attempt: int, response: requests.Response | None) -> float:
    """Seconds to wait after failed attempt n: exponential, or longer if ``Retry-After`` says.

    Args:
        backoff_factor: Base of the backoff.
        attempt: Number (1-based) of the attempt that failed.
        response: The failed attempt's response, if any.

    Returns:
        ``backoff_factor * 2**(attempt-1)``, raised to a numeric ``Retry-After`` (capped).
    """
    delay = backoff_factor * 2 ** (attempt - 1)
    header = response.headers.get("Retry-After", "") if response is not None else ""
    if header.strip().isdigit():
        delay = max(delay, min(float(header), MAX_RETRY_AFTER))
    return delay


def encode_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Encode action parameters for a query string (None values are dropped).

    Raises:
        TypeError: For a value that cannot be sent.
    """
    encoded: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[name] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            encoded[name] = str(value)
        elif isinstance(value, list | tuple | dict):
            encoded[name] = json.dumps(value, ensure_ascii=False)
        else:
            raise TypeError(f"cannot send parameter {name}={value!r}")
    return encoded


def describe(exc: BaseException) -> str:
    """Name an exception and its text in one line."""
    return f"{type(exc).__name__}: {exc}"


def snippet(text: str) -> str:
    """Return the first characters of a body, whitespace collapsed."""
    return " ".join(text.split())[:SNIPPET_CHARS]


def short(value: Any) -> str:
    """Return a value as short JSON text, for messages."""
    return snippet(json.dumps(value, ensure_ascii=False, default=str))


def decode_json(response: requests.Response, url: str) -> Any:
    """Parse the body as JSON.

    Raises:
        CkanError: When the body is not JSON (e.g. an HTML error page from a proxy).
    """
    try:
        return response.json()
    except ValueError:
        content_type = response.headers.get("Content-Type") or "no Content-Type"
        message = (
            f"answer (HTTP {response.status_code}, {content_type}) was not JSON; "
            f"it starts with: {snippet(response.text)!r}"
        )
        raise CkanError(message, url, response.status_code) from None


def unwrap(response: requests.Response, url: str) -> Any:
    """Check CKAN's envelope and return its ``result``.

    The envelope is read before the HTTP status, so CKAN's own error message is reported.
    Errors carry the URL requested, query string included.

    Raises:
        CkanError: On a non-JSON body, a body that is not an envelope, ``success: false``,
            an error status, or a missing ``result``.
    """
    status = response.status_code
    url = response.url or url
    payload = decode_json(response, url)
    if not isinstance(payload, dict) or not isinstance(payload.get("success"), bool):
        message = f"HTTP {status} answer is not a CKAN envelope: {short(payload)}"
        raise CkanError(message, url, status)
    if not payload["success"]:
        raise envelope_error(payload.get("error"), url, status)
    if not response.ok:
        message = f"HTTP {status} {response.reason} although the envelope says success"
        raise CkanError(message, url, status)
    if "result" not in payload:
        raise CkanError("CKAN envelope says success but has no result", url, status)
    return payload["result"]


def envelope_error(error: Any, url: str, status: int) -> CkanError:
    """Turn CKAN's ``error`` object into a CkanError naming its ``__type`` and message."""
    if not isinstance(error, dict):
        message = f"CKAN reported a failure without an error object: {short(error)}"
        return CkanError(message, url, status)
    error_type = str(error.get("__type") or "Error")
    details = {k: v for k, v in error.items() if k not in ("__type", "message")}
    text = str(error.get("message") or "")
    if details:
        fields = "; ".join(f"{k}: {short(v)}" for k, v in details.items())
        text = f"{text} ({fields})" if text else fields
    return CkanError(f"CKAN {error_type}: {text or 'no message'}", url, status, error_type)


def shape_error(what: str, detail: str, url: str) -> CkanError:
    """Build the error for a JSON answer of the wrong shape."""
    return CkanError(f"unexpected shape of {what}: {detail}", url, 200)


def is_count(value: Any) -> bool:
    """Tell whether a value is a non-negative int (and not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_search_result(result: Any, url: str) -> dict[str, Any]:
    """Check a ``package_search`` result: a dict with int ``count`` and a list of packages.

    Raises:
        CkanError: When the result is shaped otherwise.
    """
    if not isinstance(result, dict):
        raise shape_error("package_search result", f"expected an object, got {short(result)}", url)
    if not is_count(result.get("count")):
        detail = f"'count' is not a non-negative integer: {short(result.get('count'))}"
        raise shape_error("package_search result", detail, url)
    results = result.get("results")
    if not isinstance(results, list):
        raise shape_error(
            "package_search result", f"'results' is not a list: {short(results)}", url
        )
    for position, package in enumerate(results):
        check_package(package, url, position)
    return result


def check_package(package: Any, url: str, position: int) -> None:
    """Check one package: an object with non-empty string ``id`` and ``name``.

    Raises:
        CkanError: When the package is shaped otherwise.
    """
    if not isinstance(package, dict):
        raise shape_error(f"package #{position}", f"expected an object, got {short(package)}", url)
    for key in ("id", "name"):
        if not isinstance(package.get(key), str) or not package[key]:
            detail = f"{key!r} is not a non-empty string: {short(package.get(key))}"
            raise shape_error(f"package #{position}", detail, url)


def check_facet(result: dict[str, Any], facet: str, url: str) -> dict[str, int]:
    """Return ``result["facets"][facet]`` after checking it maps names to counts.

    Raises:
        CkanError: When the facet is missing or not a mapping of strings to counts.
    """
    facets = result.get("facets")
    counts = facets.get(facet) if isinstance(facets, dict) else None
    if not isinstance(counts, dict):
        raise shape_error("package_search facets", f"no facet {facet!r}: {short(facets)}", url)
    bad = {k: v for k, v in counts.items() if not isinstance(k, str) or not is_count(v)}
    if bad:
        raise shape_error(f"facet {facet!r}", f"counts must be integers: {short(bad)}", url)
    return counts


def newest_modified(packages: list[dict[str, Any]], url: str) -> str | None:
    """Return the first package's ``metadata_modified`` (None when there is no package).

    Raises:
        CkanError: When the timestamp is missing or not text.
    """
    if not packages:
        return None
    value = packages[0].get("metadata_modified")
    if not isinstance(value, str) or not value:
        detail = f"'metadata_modified' is not a timestamp: {short(value)}"
        raise shape_error("package #0", detail, url)
    return value


def check_name_list(result: Any, url: str) -> list[str]:
    """Check a list of names (``organization_list`` without ``all_fields``).

    Raises:
        CkanError: When the result is not a list of strings.
    """
    if not isinstance(result, list) or not all(isinstance(n, str) for n in result):
        raise shape_error("organization_list result", f"expected names, got {short(result)}", url)
    return result


def packages_to_frame(packages: list[dict[str, Any]]) -> pd.DataFrame:
    """Flatten CKAN packages into one row each, typed for ``raw.opendata_package``.

    Columns: organization (str, the organisation's name), package_id, package_name, state
    (str), is_private (boolean), metadata_created and metadata_modified (datetime64, naive
    UTC: naive CKAN timestamps are UTC, offsets are converted), num_resources (Int64: CKAN's
    ``num_resources``, else the length of ``resources``). Rows are ordered by package_id.

    Args:
        packages: Package dicts as CKAN returns them.

    Returns:
        The frame, with exactly the columns above (also when ``packages`` is empty).

    Raises:
        ValueError: When a package lacks a string id/name or has an unreadable timestamp.
    """
    rows = [package_row(p, position) for position, p in enumerate(packages)]
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    for column in ("organization", "package_id", "package_name", "state"):
        frame[column] = frame[column].astype("str")
    frame["is_private"] = frame["is_private"].astype("boolean")
    frame["num_resources"] = frame["num_resources"].astype("Int64")
    for column in ("metadata_created", "metadata_modified"):
        frame[column] = to_naive_utc(frame[column], column)
    return frame.sort_values("package_id", kind="stable").reset_index(drop=True)


def package_row(package: Any, position: int) -> dict[str, Any]:
    """Pick one package's frame values (missing values become None).

    Raises:
        ValueError: When the package is not an object with string id and name.
    """
    if not isinstance(package, dict):
        raise ValueError(f"package #{position} is not an object")
    if not isinstance(package.get("id"), str) or not isinstance(package.get("name"), str):
        raise ValueError(f"package #{position} lacks a string id or name")
    organization = package.get("organization")
    private = package.get("private")
    return {
        "organization": organization.get("name") if isinstance(organization, dict) else None,
        "package_id": package["id"],
        "package_name": package["name"],
        "state": package.get("state"),
        "is_private": private if isinstance(private, bool) else None,
        "metadata_created": package.get("metadata_created"),
        "metadata_modified": package.get("metadata_modified"),
        "num_resources": resource_count(package),
    }


def resource_count(package: dict[str, Any]) -> int | None:
    """Return ``num_resources``, else the number of ``resources``, else None."""
    value = package.get("num_resources")
    if is_count(value):
        return value
    resources = package.get("resources")
    return len(resources) if isinstance(resources, list) else None


def to_naive_utc(values: pd.Series, column: str) -> pd.Series:
    """Parse ISO 8601 timestamps into naive UTC datetimes (naive input is taken as UTC).

    Raises:
        ValueError: When a value is not an ISO 8601 timestamp.
    """
    try:
        parsed = pd.to_datetime(values, format="ISO8601", utc=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{column}: not an ISO 8601 timestamp ({exc})") from exc
    return parsed.dt.tz_localize(None).astype("datetime64[us]")
