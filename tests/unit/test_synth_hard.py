"""The hard corruption profile generates the errors it claims, and only on request."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recurrence.synth import generate_extract
from recurrence.synth.hard import one_digit_wrong, transpose_day_month
from recurrence.synth.util import day

SEED = 7


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("hard")
    # a small fraction keeps this fast; the profile's rates do not depend on scale
    generate_extract(root / "default", scale="sample", seed=SEED, fraction=0.005, file_format="csv")
    generate_extract(
        root / "hard", scale="sample", seed=SEED, fraction=0.005, file_format="csv",
        corruption="hard",
    )  # fmt: skip
    return root / "default", root / "hard"


def _mothers(folder: Path) -> pl.DataFrame:
    people = pl.read_csv(folder / "case_people.csv", infer_schema=False)
    truth = pl.read_csv(folder / "truth" / "mother_person_ids.csv", infer_schema=False)
    return (
        people.with_row_index("row")
        .filter(pl.col("role") == "mother")
        .join(truth, on="person_id", how="left")
        .sort("row")
    )


def test_hard_profile_changes_only_mothers_and_keeps_truth(pair: tuple[Path, Path]) -> None:
    default, hard = pair
    d = pl.read_csv(default / "case_people.csv", infer_schema=False)
    h = pl.read_csv(hard / "case_people.csv", infer_schema=False)
    assert d.height == h.height
    assert d.filter(pl.col("role") != "mother").equals(h.filter(pl.col("role") != "mother"))
    assert (default / "cases.csv").read_bytes() == (hard / "cases.csv").read_bytes()
    dm, hm = _mothers(default), _mothers(hard)
    # every row keeps its true mother: truth scores the same women
    assert hm["true_mother_id"].null_count() == 0
    assert dm["true_mother_id"].to_list() == hm["true_mother_id"].to_list()


def test_hard_profile_has_each_error_it_claims(pair: tuple[Path, Path]) -> None:
    default, hard = pair
    dm, hm = _mothers(default), _mothers(hard)
    n = dm.height
    assert n > 500
    both = dm.select(
        "forename_hash", "surname_hash", "birth_year_month", "person_id", "postcode_district"
    ).hstack(
        hm.select(
            pl.col("forename_hash").alias("f2"),
            pl.col("surname_hash").alias("s2"),
            pl.col("birth_year_month").alias("y2"),
            pl.col("person_id").alias("p2"),
            pl.col("postcode_district").alias("d2"),
        )
    )
    swapped = both.filter(
        (pl.col("forename_hash") == pl.col("s2")) & (pl.col("surname_hash") == pl.col("f2"))
    ).height
    assert 0.02 * n < swapped < 0.08 * n  # 5% swapped, less common names and later typos
    extra_missing = both.filter(
        pl.col("birth_year_month").is_not_null() & pl.col("y2").is_null()
    ).height
    assert 0.03 * n < extra_missing < 0.08 * n
    ym = both.drop_nulls(["birth_year_month", "y2"]).filter(
        pl.col("birth_year_month") != pl.col("y2")
    )
    year_out = ym.filter(
        pl.col("birth_year_month").str.slice(5, 2) == pl.col("y2").str.slice(5, 2)
    ).height
    assert year_out > 0.02 * n  # year one out, or one year digit wrong
    assert both.filter(pl.col("person_id") != pl.col("p2")).height > 0.05 * n
    # multiple typos: some names differ from the default in neither a swap nor a common name
    fore_changed = both.filter(pl.col("forename_hash") != pl.col("f2")).height
    assert fore_changed > 0.15 * n
    manifest = tomllib.loads((hard / "truth" / "manifest.toml").read_text())
    counts = manifest["hard_corruption"]
    for key in ("mothers_twins", "mothers_sisters", "mothers_common_names", "rows_dob_transposed"):
        assert counts[key] > 0, key
    assert "hard_corruption" not in tomllib.loads((default / "truth" / "manifest.toml").read_text())


def test_twins_share_date_surname_and_district_but_not_forename(pair: tuple[Path, Path]) -> None:
    _, hard = pair
    hm = _mothers(hard).drop_nulls(["birth_year_month", "surname_hash", "postcode_district"])
    groups = (
        hm.group_by("birth_year_month", "surname_hash", "postcode_district")
        .agg(pl.col("true_mother_id").n_unique().alias("women"))
        .filter(pl.col("women") > 1)
    )
    assert groups.height > 0  # distinct women alike on every field but the forename


def test_common_names_are_shared_by_many_women(pair: tuple[Path, Path]) -> None:
    default, hard = pair

    def most_shared_full_name(folder: Path) -> int:
        """The most women any one full name (forename and surname hash) belongs to."""
        m = _mothers(folder).drop_nulls(["forename_hash", "surname_hash"])
        by_name = m.group_by("forename_hash", "surname_hash").agg(
            pl.col("true_mother_id").n_unique().alias("women")
        )
        return int(by_name["women"].max())

    assert most_shared_full_name(hard) > 1.5 * most_shared_full_name(default)


def test_date_errors_are_the_named_kinds() -> None:
    days = np.array([day(dt.date(1990, 3, 7)), day(dt.date(1990, 3, 25)), day(dt.date(1990, 5, 5))])
    out, changed = transpose_day_month(days)
    assert changed.tolist() == [True, False, False]
    assert out[0] == day(dt.date(1990, 7, 3))
    assert out[1:].tolist() == days[1:].tolist()
    rng = np.random.default_rng(0)
    start = np.full(200, day(dt.date(1987, 11, 15)))
    wrong = one_digit_wrong(rng, start).astype("datetime64[D]")
    text = [np.datetime_as_string(w, unit="M").replace("-", "") for w in wrong]
    for t in text:
        assert t != "198711"
        assert sum(a != b for a, b in zip(t, "198711", strict=True)) == 1, t


def test_unknown_profile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="corruption"):
        generate_extract(tmp_path, scale="sample", seed=1, corruption="soft")
