"""The generator cut on a day of the last fiscal year (`--as-of`): nothing after that day is
exported, every dataset gets an export dated on it, and the truth is that day's."""

from __future__ import annotations

import argparse
import csv
from datetime import date
from pathlib import Path

import pytest
from test_generator_truth import (
    WARDS,
    YEARS,
    land,
    mismatches,
    read_values,
    values_from_files,
)

from sampledata.generate import (
    GeneratorConfig,
    add_generator_arguments,
    config_from_arguments,
    generate,
)

# April 20: the previous year's year-end exports (May 1) are not written yet, so its records
# go into the as-of exports too. November 15: mid-way through the last year.
AS_OF_DAYS = [date(2025, 4, 20), date(2025, 11, 15)]


def config(out: Path, as_of: date | None) -> GeneratorConfig:
    return GeneratorConfig(out, WARDS, (40, 60), YEARS, seed=3, dirty_share=0.02, as_of=as_of)


@pytest.fixture(scope="module", params=AS_OF_DAYS, ids=str)
def cut(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    out = tmp_path_factory.mktemp("as_of")
    generate(config(out, request.param))
    return request.param, out, land(out)


def test_nothing_dated_after_the_day_and_every_dataset_exported_on_it(cut: tuple) -> None:
    as_of, _, landed = cut
    assert landed.dates
    for (ward, table), days in landed.dates.items():
        assert max(days) == as_of, (ward, table)
    # Every dataset the full run sends (the third ward never sends personnel exchanges).
    assert len(landed.dates) == len(WARDS) * 15 - 1


def test_the_truth_is_that_of_the_day(cut: tuple) -> None:
    _, out, landed = cut
    assert mismatches(read_values(out), values_from_files(landed, WARDS, YEARS)) == {}
    with (out / "truth" / "dirty_rows.csv").open(encoding="utf-8") as handle:
        dirty = {r["source_file"]: int(r["dirty_rows"]) for r in csv.DictReader(handle)}
    assert dirty == landed.rejected


def test_the_cut_shows_the_last_year_as_it_stood(cut: tuple, tmp_path: Path) -> None:
    as_of, out, _ = cut
    generate(config(tmp_path, None))
    full, partial = read_values(tmp_path), read_values(out)
    assert set(full) == set(partial)
    changed = {key for key in full if full[key] != partial[key]}
    assert any(year == YEARS[-1] for _, year, _ in changed)
    roster = f"{WARDS[0]}_staff_{as_of:%Y%m%d}.csv"
    assert (out / "landing" / "hr" / roster).exists()
    assert not (tmp_path / "landing" / "hr" / roster).exists()


def test_the_day_must_fall_in_the_last_year(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="last fiscal year"):
        generate(config(tmp_path, date(2024, 12, 1)))
    with pytest.raises(ValueError, match="last fiscal year"):
        generate(config(tmp_path, date(2026, 4, 1)))


def test_the_option_reaches_the_configuration(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_generator_arguments(parser)
    args = parser.parse_args(["--years", "2024,2025", "--as-of", "2025-11-15"])
    assert config_from_arguments(args, tmp_path).as_of == date(2025, 11, 15)
    assert config_from_arguments(parser.parse_args([]), tmp_path).as_of is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--as-of", "2025-13-01"])
