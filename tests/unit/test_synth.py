"""The synthetic extract generator: contract, determinism and calibration against its truth."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import polars as pl
import pytest

from recurrence.contract import (
    APPLICATION_TYPES,
    BIRTHS,
    CASE_PEOPLE,
    CASES,
    ENGLAND_REGIONS,
    OUTCOMES,
    REGIONS,
    ROLES,
    SEXES,
    WALES,
)
from recurrence.synth import generate_extract

SAMPLE_SEED = 20240331  # the seed of the committed data_samples/sample
END = "2024-03-31"
SEVEN_YEARS = 7 * 365.25
REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "data_samples" / "sample"


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "sample"
    generate_extract(out, scale="sample", seed=SAMPLE_SEED)
    return out


@pytest.fixture(scope="module")
def tables(extract: Path) -> dict[str, pl.DataFrame]:
    return {
        "cases": pl.read_csv(extract / "cases.csv", infer_schema=False),
        "case_people": pl.read_csv(extract / "case_people.csv", infer_schema=False),
        "births": pl.read_parquet(extract / "births.parquet"),
        "mothers": pl.read_csv(extract / "truth" / "mothers.csv", try_parse_dates=True),
        "newborns": pl.read_csv(
            extract / "truth" / "newborn_counts.csv", schema_overrides={"year": pl.String}
        ),
    }


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# --- contract -----------------------------------------------------------------------------------


def test_files_written(extract: Path) -> None:
    names = {p.name for p in extract.iterdir()}
    assert {"cases.csv", "case_people.csv", "births.parquet", "extract.toml", "truth"} <= names
    assert "live_births.csv" not in names
    truth = {p.name for p in (extract / "truth").iterdir()}
    assert truth == {
        "mother_person_ids.csv",
        "child_births.csv",
        "birth_mothers.csv",
        "mothers.csv",
        "newborn_counts.csv",
        "manifest.toml",
    }
    meta = tomllib.loads((extract / "extract.toml").read_text())
    assert str(meta["extract_end_date"]) == END
    assert f"seed {SAMPLE_SEED}" in meta["source"]
    assert "scale sample" in meta["source"]
    manifest = tomllib.loads((extract / "truth" / "manifest.toml").read_text())
    assert manifest["seed"] == SAMPLE_SEED
    assert "typo_rate" in manifest["parameters"]


@pytest.mark.parametrize(
    ("name", "table"), [("cases", CASES), ("case_people", CASE_PEOPLE), ("births", BIRTHS)]
)
def test_contract_columns(tables: dict[str, pl.DataFrame], name: str, table) -> None:
    # The generator dates every child to the day, so it leaves out the optional
    # birth_date_precision column (absent means day), as a day-precision source would.
    assert tables[name].columns == [
        c.name for c in table.columns if c.name != "birth_date_precision"
    ]
    for col in table.required_columns:
        assert tables[name][col].null_count() == 0, col


def test_codes_and_ids(tables: dict[str, pl.DataFrame]) -> None:
    cases, people, births = tables["cases"], tables["case_people"], tables["births"]
    assert set(cases["application_type"]) <= set(APPLICATION_TYPES)
    assert cases["application_type"].value_counts().sort("count")[-1, 0] == "s31_care"
    assert {"epo", "other", "s31_supervision"} <= set(cases["application_type"])
    assert set(cases["outcome"].drop_nulls()) <= set(OUTCOMES)
    assert set(cases["region_code"]) == set(REGIONS)
    assert set(people["role"]) == set(ROLES)
    assert set(people["sex"].drop_nulls()) <= set(SEXES)
    assert set(births["region_code"]) == set(REGIONS)
    assert cases["case_id"].is_unique().all()
    assert births["birth_id"].is_unique().all()
    assert people.select("case_id", "person_id").is_unique().all()
    assert set(people["case_id"]) == set(cases["case_id"])
    assert people["person_id"].str.contains(r"^[0-9a-f]{16}$").all()
    la = pl.concat([cases["la_code"], births["la_code"]]).drop_nulls()
    assert la.str.contains(r"^[EW]9\d{7}$").all()
    assert la.filter(la.str.starts_with("E")).n_unique() == 152
    assert la.filter(la.str.starts_with("W")).n_unique() == 22
    assert people["postcode_district"].drop_nulls().str.contains(r"^[A-Z]{1,2}\d{1,2}$").all()
    for col in ("forename_hash", "surname_soundex_hash"):
        assert people[col].drop_nulls().str.contains(r"^[0-9a-f]{64}$").all()
    assert 0.05 < people["surname_hash"].n_unique() / people.height < 0.9  # names repeat
    kids = people.filter(pl.col("role") == "child")
    adults = people.filter(pl.col("role") != "child")
    assert kids["birth_year_month"].null_count() == kids.height
    assert adults["birth_date"].null_count() == adults.height
    assert adults["birth_year_month"].drop_nulls().str.contains(r"^\d{4}-\d{2}$").all()
    fathers = people.filter(pl.col("role") == "father")["case_id"].n_unique()
    assert 0.5 < fathers / cases.height < 0.7
    live = births["live_birth"]
    assert 0.002 < (~live).mean() < 0.007


def test_dates(tables: dict[str, pl.DataFrame]) -> None:
    cases = tables["cases"].with_columns(pl.col("issue_date", "final_hearing_date").str.to_date())
    assert cases["issue_date"].min().isoformat() >= "2008-04-01"
    assert cases["issue_date"].max().isoformat() <= END
    assert cases["final_hearing_date"].max().isoformat() <= END
    closed = cases.filter(pl.col("final_hearing_date").is_not_null())
    assert (closed["final_hearing_date"] >= closed["issue_date"]).all()
    ongoing = cases.filter(pl.col("final_hearing_date").is_null())
    assert ongoing["outcome"].null_count() == ongoing.height
    care = closed.filter(pl.col("application_type") == "s31_care")
    weeks = (care["final_hearing_date"] - care["issue_date"]).dt.total_days() / 7
    assert 26 <= weeks.median() <= 60
    kids = tables["case_people"]["birth_date"].drop_nulls().str.to_date()
    assert kids.max().isoformat() <= END
    births = tables["births"]["baby_birth_date"]
    assert births.min().isoformat() == "2008-01-01"
    assert births.max().isoformat() <= END


def test_person_id_problems(extract: Path, tables: dict[str, pl.DataFrame]) -> None:
    ids = pl.read_csv(extract / "truth" / "mother_person_ids.csv")
    per_mother = ids.group_by("true_mother_id").len()
    # system change: every mother seen both before and after 2014-04-01 has 2+ ids
    people = tables["case_people"].join(tables["cases"], on="case_id")
    mothers = people.filter(pl.col("role") == "mother").join(ids, on="person_id")
    spans = mothers.group_by("true_mother_id").agg(
        before=(pl.col("issue_date") < "2014-04-01").any(),
        after=(pl.col("issue_date") >= "2014-04-01").any(),
        ids=pl.col("person_id").n_unique(),
    )
    both = spans.filter(pl.col("before") & pl.col("after"))
    assert both.height > 50
    assert (both["ids"] >= 2).all()
    # duplicate ids within one system: some mothers with a single era still have 2 ids
    one_era = spans.filter(~(pl.col("before") & pl.col("after")))
    assert (one_era["ids"] >= 2).sum() > 5
    assert per_mother["len"].max() >= 2
    assert ids["person_id"].is_unique().all()


def test_child_births_truth(extract: Path, tables: dict[str, pl.DataFrame]) -> None:
    cb = pl.read_csv(extract / "truth" / "child_births.csv", infer_schema=False)
    kids = tables["case_people"].filter(pl.col("role") == "child")
    assert cb.height == kids.height
    in_window = cb.join(kids, on=["case_id", "person_id"]).filter(
        pl.col("birth_date") >= "2008-01-01"
    )
    present = in_window["birth_id"].is_not_null().mean()
    assert 0.94 < present < 0.99
    births = tables["births"].join(cb.drop_nulls("birth_id").unique("birth_id"), on="birth_id")
    assert births.height == cb["birth_id"].drop_nulls().n_unique()


# --- determinism --------------------------------------------------------------------------------


@pytest.mark.slow
def test_same_seed_same_bytes_different_seed_differs(extract: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    generate_extract(again, scale="sample", seed=SAMPLE_SEED)
    assert _digests(again) == _digests(extract)
    other = tmp_path / "other"
    generate_extract(other, scale="sample", seed=SAMPLE_SEED + 1)
    differ = _digests(other)
    assert differ["cases.csv"] != _digests(extract)["cases.csv"]
    assert differ["births.parquet"] != _digests(extract)["births.parquet"]


def test_committed_sample_matches_generator(extract: Path) -> None:
    assert COMMITTED.is_dir(), "data_samples/sample is missing: regenerate it (see its README)"
    fix = (
        "data_samples/sample has drifted from the generator; regenerate it with "
        f"`recurrence synth --out data_samples/sample --scale sample --seed {SAMPLE_SEED}`"
    )
    committed, fresh = _digests(COMMITTED), _digests(extract)
    assert committed.keys() == fresh.keys(), fix
    for name in committed:
        if name.endswith(".parquet"):
            # Parquet files record the writer's version, so compare what they hold, not bytes.
            assert pl.read_parquet(COMMITTED / name).equals(pl.read_parquet(extract / name)), fix
        else:
            assert committed[name] == fresh[name], fix
    total = sum(p.stat().st_size for p in COMMITTED.rglob("*") if p.is_file())
    assert total < 15_000_000


@pytest.mark.slow
def test_csv_and_parquet_formats(tmp_path: Path) -> None:
    generate_extract(tmp_path / "csv", scale="sample", seed=3, file_format="csv")
    generate_extract(tmp_path / "pq", scale="sample", seed=3, file_format="parquet")
    assert {p.name for p in (tmp_path / "csv").glob("*.*")} >= {"births.csv", "cases.csv"}
    assert {p.name for p in (tmp_path / "pq").glob("*.parquet")} == {
        "births.parquet",
        "cases.parquet",
        "case_people.parquet",
    }
    a = pl.read_csv(tmp_path / "csv" / "births.csv", try_parse_dates=True)
    b = pl.read_parquet(tmp_path / "pq" / "births.parquet")
    assert a.height == b.height
    assert a["birth_id"].to_list() == b["birth_id"].to_list()


# --- calibration against the truth --------------------------------------------------------------


def _p7(df: pl.DataFrame, col: str = "return_any_days") -> float:
    return df.select((pl.col(col).fill_null(10**9) <= SEVEN_YEARS).mean()).item()


@pytest.fixture(scope="module")
def followed(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """True mothers whose true first set is in the window, with 7 years of follow-up."""
    return tables["mothers"].filter(
        pl.col("first_case_id").is_not_null(), pl.col("censor_days") >= SEVEN_YEARS
    )


def test_return_probability(followed: pl.DataFrame) -> None:
    assert followed.height > 1000
    overall = _p7(followed)
    assert 0.20 <= overall <= 0.28
    assert 0.12 <= _p7(followed, "return_new_child_days") < overall
    young = _p7(followed.filter(pl.col("age_group") == "under 20"))
    older = _p7(followed.filter(pl.col("age_group").is_in(["30-34", "35+"])))
    assert young - older > 0.08
    assert 0.27 <= young <= 0.45
    assert 0.12 <= older <= 0.25


def test_age_at_index(tables: dict[str, pl.DataFrame]) -> None:
    shares = tables["mothers"]["age_group"].value_counts(normalize=True)
    share = dict(zip(shares["age_group"], shares["proportion"], strict=True))
    for group, expected in {"under 20": 0.15, "20-24": 0.27, "35+": 0.16}.items():
        assert abs(share[group] - expected) < 0.05


def test_return_timing(tables: dict[str, pl.DataFrame]) -> None:
    mothers, cases = tables["mothers"], tables["cases"]
    returns = mothers["return_any_days"].drop_nulls()
    assert (returns <= 3 * 365.25).mean() > 0.7
    first = mothers.join(
        cases.with_columns(pl.col("final_hearing_date").str.to_date()),
        left_on="first_case_id",
        right_on="case_id",
    ).filter(pl.col("return_any_days").is_not_null(), pl.col("final_hearing_date").is_not_null())
    days = (first["final_hearing_date"] - first["first_issue_date"]).dt.total_days()
    before = (first["return_any_days"] < days).mean()
    after = ((first["return_any_days"] >= days) & (first["return_any_days"] < days + 365)).mean()
    assert 0.15 <= before <= 0.38
    assert 0.25 <= after <= 0.45


def _rates(nb: pl.DataFrame, regions, years, numerator: str) -> float:
    sel = nb.filter(
        pl.col("year_type") == "financial",
        pl.col("region_code").is_in(list(regions)),
        pl.col("year").is_in(years),
    )
    return sel[numerator].sum() / sel["live_births"].sum() * 10_000


def test_newborn_rates(tables: dict[str, pl.DataFrame]) -> None:
    nb = tables["newborns"]
    early = _rates(nb, ENGLAND_REGIONS, ["2008/09", "2009/10", "2010/11"], "newborns_under_7_days")
    late = _rates(nb, ENGLAND_REGIONS, ["2019/20", "2020/21", "2021/22"], "newborns_under_14_days")
    assert 10 <= early <= 24
    assert 38 <= late <= 58
    all_years = nb.filter(pl.col("year_type") == "financial")["year"].unique().to_list()
    region = {r: _rates(nb, [r], all_years, "newborns_under_14_days") for r in REGIONS}
    england = _rates(nb, ENGLAND_REGIONS, all_years, "newborns_under_14_days")
    london = region["E12000007"]
    for high in ("E12000001", "E12000002", "E12000003"):
        assert region[high] > england > london
    assert region[WALES] > england
    under7 = nb["newborns_under_7_days"].sum() / nb["newborns_under_14_days"].sum()
    assert 0.65 <= under7 <= 0.85


def test_live_births(tables: dict[str, pl.DataFrame]) -> None:
    nb = tables["newborns"].filter(pl.col("year_type") == "calendar")
    per_year = nb.group_by("year").agg(pl.col("live_births").sum()).sort("year")
    by_year = dict(zip(per_year["year"], per_year["live_births"], strict=True))
    assert abs(by_year["2012"] * 50 - 730_000) < 10_000
    assert abs(by_year["2020"] * 50 - 613_936) < 10_000
    assert abs(by_year["2023"] * 50 - 591_072) < 10_000
    london = nb.filter(pl.col("region_code") == "E12000007", pl.col("year") == "2022")
    assert abs(london["live_births"].item() * 50 - 106_696) < 3_000
