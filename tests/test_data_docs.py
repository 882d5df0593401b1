"""Data Docs: each validation reported becomes a page with history, only when enabled."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pandas as pd
import pytest
from test_expectations import valid_frame

from expectations import docs, run_suite, run_suite_per_file

GOOD = "hr/131016_staff_20250401.csv"
BAD = "hr/131016_staff_20250501.csv"
LATER = "hr/131016_staff_20250601.csv"
WRONG_GRADE = "課長代理"


def export(name: str, bad: bool = False) -> pd.DataFrame:
    """Return an hr_staff export read from `name`, with a grade outside the set if `bad`."""
    frame = valid_frame("hr_staff")
    frame["source_file"] = pd.Series([name] * len(frame), dtype="str")
    if bad:
        frame.loc[2, "grade"] = WRONG_GRADE
    return frame


def page_of(url: str | None) -> Path:
    """Return the file a `file://` docs_url points to."""
    assert url is not None and url.startswith("file://")
    return Path(url2pathname(urlparse(url).path))


def text_of(page: Path) -> str:
    """Return the visible text of an HTML page, without its tags."""
    content = re.sub(r"<(script|style)\b.*?</\1>", " ", page.read_text(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", content)).split())


@pytest.fixture
def docs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Enable Data Docs in a temporary folder for one test, then restore the setting."""
    monkeypatch.setattr(docs, "_configured", None)
    root = tmp_path / "data_docs"
    docs.configure(root)
    yield root


def stored_results(root: Path) -> list[Path]:
    return sorted((root / "gx" / "uncommitted" / "validations").rglob("*.json"))


# --- Pages and history ------------------------------------------------------------------------


def test_a_failing_export_gets_its_own_page_listed_in_the_index(docs_root: Path) -> None:
    # WHEN a good and a bad export are validated together
    results = run_suite_per_file("hr_staff", {GOOD: export(GOOD), BAD: export(BAD, bad=True)})
    # THEN the site has an index, and the bad export's page names its failed rule and value
    index = docs.index_page()
    assert index is not None and index.is_file()
    page = page_of(results[BAD].docs_url)
    assert page.is_file() and page.suffix == ".html"
    text = text_of(page)
    assert "Status: Failed" in text
    assert "grade" in text and "values must belong to this set" in text and WRONG_GRADE in text
    assert "hr_staff hr∕131016_staff_20250501.csv" in text  # the run name
    assert page_of(results[GOOD].docs_url).is_file()
    assert results[GOOD].docs_url != results[BAD].docs_url
    assert f"Data Docs: {results[BAD].docs_url}" in results[BAD].describe(BAD)


def test_a_second_run_keeps_the_first_in_the_history(docs_root: Path) -> None:
    first = run_suite_per_file("hr_staff", {BAD: export(BAD, bad=True)})[BAD]

    second = run_suite_per_file("hr_staff", {LATER: export(LATER)})[LATER]

    assert page_of(first.docs_url).is_file() and page_of(second.docs_url).is_file()
    assert len(stored_results(docs_root)) == 2
    index = docs.index_page()
    assert index is not None
    listed = index.read_text()
    assert listed.index("hr/131016_staff_20250601.csv") < listed.index(
        "hr/131016_staff_20250501.csv"
    )  # newest first
    assert "failed (" in listed and "passed" in listed
    assert "great-expectations-web-assets" not in page_of(first.docs_url).read_text()


def test_exports_passing_in_one_batch_share_its_page(docs_root: Path) -> None:
    names = [f"hr/131016_staff_2025{month:02d}01.csv" for month in (4, 5, 6)]

    results = run_suite_per_file("hr_staff", {name: export(name) for name in names})

    assert len({result.docs_url for result in results.values()}) == 1
    page = page_of(results[names[0]].docs_url)
    assert "hr_staff hr∕131016_staff_20250401.csv +2 more" in text_of(page)
    assert len(stored_results(docs_root)) == 1


def test_history_keeps_the_newest_results_of_each_suite(docs_root: Path) -> None:
    docs.configure(docs_root, keep_per_suite=1)

    # A bare run_suite publishes too, naming its page after the frame's source_file column.
    older, newer = (run_suite("hr_staff", export(name)).docs_url for name in (GOOD, LATER))

    assert not page_of(older).exists()
    assert "hr_staff hr∕131016_staff_20250601.csv" in text_of(page_of(newer))
    assert len(stored_results(docs_root)) == 1


def test_publications_in_one_build_are_rendered_once_at_its_end(
    docs_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[int] = []
    build = docs._build

    def counting(pending: docs._Build) -> None:
        builds.append(len(pending.listed))
        build(pending)

    monkeypatch.setattr(docs, "_build", counting)
    # WHEN two chunks of a dataset are validated inside one build
    with docs.one_build():
        first = run_suite_per_file("hr_staff", {BAD: export(BAD, bad=True)})[BAD]
        second = run_suite_per_file("hr_staff", {LATER: export(LATER)})[LATER]
        # THEN nothing is rendered until the block ends
        assert builds == []
        assert not page_of(first.docs_url).exists()
    # AND then both pages, GX's index and the history page are built at once
    assert builds == [2]
    assert page_of(first.docs_url).is_file() and page_of(second.docs_url).is_file()
    assert (docs_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").is_file()
    index = docs.index_page()
    assert index is not None
    listed = index.read_text()
    assert "hr/131016_staff_20250501.csv" in listed and "hr/131016_staff_20250601.csv" in listed
    # AND outside a block each publication builds its own pages again
    run_suite_per_file("hr_staff", {GOOD: export(GOOD)})
    assert builds == [2, 1]


# --- Off by default -----------------------------------------------------------------------------


def test_nothing_is_written_when_data_docs_are_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs, "_configured", None)
    monkeypatch.delenv(docs.ENV_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(docs, "publish", _must_not_publish)

    results = run_suite_per_file("hr_staff", {BAD: export(BAD, bad=True)})

    assert docs.data_docs_dir() is None
    assert results[BAD].docs_url is None
    assert "Data Docs" not in results[BAD].describe(BAD)
    assert list(tmp_path.iterdir()) == []


def _must_not_publish(*args: object) -> None:
    raise AssertionError("Data Docs are off: the runner must not even try to publish")


def test_a_folder_that_cannot_be_written_only_loses_the_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a Data Docs folder under a regular file, which cannot be created
    monkeypatch.setattr(docs, "_configured", None)
    (tmp_path / "not_a_folder").write_text("")
    docs.configure(tmp_path / "not_a_folder" / "data_docs")
    # WHEN an export is validated
    result = run_suite("hr_staff", export(BAD, bad=True))
    # THEN its result is whole, only without a page
    assert not result.success and result.errors[0].column == "grade"
    assert result.docs_url is None


def test_configure_none_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docs, "_configured", None)
    monkeypatch.setenv(docs.ENV_VARIABLE, "/srv/dxkpi/data_docs")
    assert docs.data_docs_dir() == Path("/srv/dxkpi/data_docs")

    docs.configure(None)

    assert docs.data_docs_dir() is None


def test_a_relative_folder_is_relative_to_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docs, "_configured", None)
    monkeypatch.setenv(docs.ENV_VARIABLE, "data/data_docs")

    assert docs.data_docs_dir() == Path(__file__).resolve().parents[1] / "data" / "data_docs"


# --- Run names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param([GOOD], "hr_staff hr∕131016_staff_20250401.csv", id="one-file"),
        pytest.param(
            [GOOD, BAD, LATER], "hr_staff hr∕131016_staff_20250401.csv +2 more", id="batch"
        ),
        pytest.param([], "hr_staff", id="no-file"),
        pytest.param(["a\\b.csv"], "hr_staff a∕b.csv", id="backslash"),
    ],
)
def test_run_name_names_dataset_and_files(files: list[str], expected: str) -> None:
    assert docs.run_name_for("hr_staff", files) == expected


def test_run_name_fits_a_path_segment() -> None:
    name = docs.run_name_for("hr_staff", ["hr/" + "職員" * 200 + ".csv", GOOD])

    assert len(name.encode()) <= 255
    assert name.startswith("hr_staff hr∕職員") and name.endswith(" +1 more")
