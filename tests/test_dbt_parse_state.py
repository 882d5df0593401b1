"""Each dbt invocation starts from the previous one's parse, without asking dbt its version or
writing a debug log, and target/ stays bounded."""

import importlib.metadata
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import dagster_dbt.core.resource
import pytest

from orchestration.assets.dbt import (
    INVOCATION_PREFIX,
    INVOCATIONS_KEPT,
    LOG_FILE_LEVEL_VARIABLE,
    PARTIAL_PARSE_FILE,
    DxkpiDbtCli,
    dbt_global_flags,
    dbt_project,
    keep_parse_state,
    manifest_is_stale,
)
from orchestration.definitions import build_resources
from orchestration.settings import DBT_EXECUTABLE, load_settings


def test_the_dbt_version_comes_from_the_installed_package(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_subprocess(*args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"ran {args}")

    # dagster-dbt asks `dbt --version` (3.7 s) through its own reference to check_output.
    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", no_subprocess)
    monkeypatch.setattr(subprocess, "check_output", no_subprocess)
    resource = DxkpiDbtCli(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
    assert str(resource._cli_version) == importlib.metadata.version("dbt-core")


def test_no_dbt_adapter_is_loaded_into_the_dagster_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dbt.adapters.factory

    registered: list[object] = []
    monkeypatch.setattr(
        dbt.adapters.factory, "register_adapter", lambda *args: registered.append(args)
    )

    class OnlyTheVersion(DxkpiDbtCli):
        """The resource with dagster-dbt's adapter set-up back."""

        def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> object:
            return dagster_dbt.core.resource.DbtCliResource._initialize_dbt_core_adapter(self, args)

    # dagster-dbt loads one for every invocation, before starting dbt
    OnlyTheVersion(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE).cli(["--version"]).wait()
    assert len(registered) == 1
    # ours starts dbt without it, and dbt runs
    invocation = DxkpiDbtCli(project_dir=dbt_project, dbt_executable=DBT_EXECUTABLE)
    assert invocation.cli(["--version"]).wait().is_successful()
    assert len(registered) == 1


def _invocation(target: Path, number: int, state: bytes | None) -> Path:
    folder = target / f"{INVOCATION_PREFIX}{number:04d}-run"
    folder.mkdir(parents=True)
    if state is not None:
        (folder / PARTIAL_PARSE_FILE).write_bytes(state)
    os.utime(folder, (number, number))
    return folder


def test_the_invocations_parse_replaces_the_projects(tmp_path: Path) -> None:
    (tmp_path / PARTIAL_PARSE_FILE).write_bytes(b"parsed by make parse")
    latest = _invocation(tmp_path, 1, b"parsed with the pipeline's environment")
    keep_parse_state(latest, tmp_path)
    assert (tmp_path / PARTIAL_PARSE_FILE).read_bytes() == b"parsed with the pipeline's environment"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no leftover


def test_an_invocation_that_parsed_nothing_leaves_the_projects_parse(tmp_path: Path) -> None:
    (tmp_path / PARTIAL_PARSE_FILE).write_bytes(b"earlier")
    keep_parse_state(_invocation(tmp_path, 1, None), tmp_path)
    assert (tmp_path / PARTIAL_PARSE_FILE).read_bytes() == b"earlier"


def test_only_the_newest_invocation_folders_are_kept(tmp_path: Path) -> None:
    folders = [_invocation(tmp_path, n, b"s") for n in range(1, INVOCATIONS_KEPT + 4)]
    (tmp_path / "manifest.json").write_text("{}")
    keep_parse_state(folders[-1], tmp_path)
    left = sorted(p for p in tmp_path.iterdir() if p.name.startswith(INVOCATION_PREFIX))
    assert left == folders[-INVOCATIONS_KEPT:]
    assert (tmp_path / "manifest.json").exists()


def test_dbt_writes_no_log_file_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOG_FILE_LEVEL_VARIABLE, raising=False)
    resource = build_resources(load_settings())["dbt"]
    assert resource.global_config_flags == ["--log-level-file", "none"]
    invocation = resource.cli(["deps"])
    assert invocation.wait().is_successful()
    assert not (invocation.target_path / "dbt.log").exists()
    # dbt's own variable still chooses a level
    monkeypatch.setenv(LOG_FILE_LEVEL_VARIABLE, "debug")
    assert dbt_global_flags() == ["--log-level-file", "debug"]


def test_the_manifest_is_stale_when_missing_or_older_than_a_parsed_file(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    model = tmp_path / "models" / "a.sql"
    model.write_text("select 1")
    manifest = tmp_path / "target" / "manifest.json"
    assert manifest_is_stale(tmp_path, manifest)  # missing
    manifest.parent.mkdir()
    manifest.write_text("{}")
    os.utime(model, ns=(1, manifest.stat().st_mtime_ns - 1))
    assert not manifest_is_stale(tmp_path, manifest)
    os.utime(model, ns=(1, manifest.stat().st_mtime_ns + 1))  # edited after the parse
    assert manifest_is_stale(tmp_path, manifest)


def test_the_code_locations_manifest_is_fresh_once_loaded() -> None:
    # importing the dbt assets parsed the project again if a file had changed since
    assert not manifest_is_stale(dbt_project.project_dir, dbt_project.manifest_path)
