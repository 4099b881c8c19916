"""Keyed name hashing and pseudonymisation of an identifiable extract."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import polars as pl
import pytest

from recurrence.cli import main
from recurrence.errors import ConfigError, ExtractError
from recurrence.pseudonymise import (
    KEY_ENV_VAR,
    hash_name,
    keyed_hash,
    normalise_name,
    pseudonymise_extract,
    read_key,
    soundex,
)

KEY_TEXT = "test-key-0123456789abcdef-not-a-secret"
KEY = KEY_TEXT.encode()


def _hmac(value: str) -> str:
    return hmac.new(KEY, value.encode("utf-8"), hashlib.sha256).hexdigest()


# --- normalisation and Soundex ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Robert", "R163"),
        ("Rupert", "R163"),
        ("Rubin", "R150"),
        ("Ashcraft", "A261"),
        ("Ashcroft", "A261"),
        ("Tymczak", "T522"),
        ("Pfister", "P236"),
        ("Honeyman", "H555"),
        ("Lee", "L000"),
        ("Smith", "S530"),
        ("Smyth", "S530"),
    ],
)
def test_soundex_known_values(name: str, code: str) -> None:
    assert soundex(normalise_name(name)) == code


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  Zoë O'Brien-Smith ", "ZOEOBRIENSMITH"),
        ("Siân", "SIAN"),
        ("Chloé", "CHLOE"),
        ("Łukasz", "LUKASZ"),
        ("Straße", "STRASSE"),
        ("Ægir", "AEGIR"),
        ("mary ann", "MARYANN"),
        ("", None),
        ("  -' ", None),
        (None, None),
    ],
)
def test_normalise_name(raw: str | None, normalised: str | None) -> None:
    assert normalise_name(raw) == normalised


def test_soundex_empty() -> None:
    assert soundex(None) is None
    assert soundex("") is None


def test_keyed_hash_matches_stdlib_hmac() -> None:
    assert keyed_hash("SMITH", KEY) == _hmac("SMITH")
    assert keyed_hash(None, KEY) is None
    assert keyed_hash("SMITH", b"another-key-of-enough-length") != _hmac("SMITH")


def test_hash_name() -> None:
    assert hash_name("Zoë", KEY) == (_hmac("ZOE"), _hmac("Z000"))
    assert hash_name(" smyth ", KEY)[1] == hash_name("Smith", KEY)[1]
    assert hash_name(" smyth ", KEY)[0] != hash_name("Smith", KEY)[0]
    assert hash_name("Claire", KEY)[1] == hash_name("Clare", KEY)[1]
    assert hash_name("--", KEY) == (None, None)
    assert hash_name(None, KEY) == (None, None)


# --- read_key -----------------------------------------------------------------------------------


def test_read_key_from_file_strips_whitespace(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text(KEY_TEXT + "\n")
    assert read_key(path) == KEY


def test_read_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV_VAR, f"  {KEY_TEXT} ")
    assert read_key() == KEY


def test_read_key_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV_VAR, raising=False)
    with pytest.raises(ConfigError, match="No pseudonymisation key"):
        read_key()
    with pytest.raises(ConfigError, match="Cannot read the key file"):
        read_key(tmp_path / "absent")
    short = tmp_path / "short"
    short.write_text("tooshort")
    with pytest.raises(ConfigError, match="shorter than 16 bytes") as info:
        read_key(short)
    assert "tooshort" not in str(info.value)
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="No pseudonymisation key"):
        read_key(empty)


# --- pseudonymise_extract -----------------------------------------------------------------------


def _identifiable(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "cases.csv").write_text(
        "case_id,issue_date,application_type,region_code,la_code,final_hearing_date,outcome\n"
        "C1,2015-06-01,s31_care,E12000001,E91000001,2016-02-01,care_order\n"
        "C2,2018-03-05,s31_care,E12000001,,,\n",
        encoding="utf-8",
    )
    (folder / "case_people.csv").write_text(
        "case_id,person_id,role,birth_date,birth_year_month,sex,forename,surname,postcode_district\n"
        "C1,P1,mother,,1990-04,F,Zoë,O'Brien,NE1\n"
        "C1,P2,child,2015-05-30,,M,Jon,O'Brien,NE1\n"
        "C2,P1,mother,,1990-04,F,Zoe,Smyth,NE2\n"
        "C2,P3,child,2018-03-01,,,,,\n",
        encoding="utf-8",
    )
    (folder / "births.csv").write_text(
        "birth_id,baby_birth_date,region_code,la_code,mother_person_id,mother_birth_year_month,"
        "mother_forename,mother_surname,mother_postcode_district,baby_sex,live_birth\n"
        "B1,2015-05-30,E12000001,E91000001,M9,1990-04,Zoe,OBrien,NE1,M,true\n"
        "B2,2018-03-01,E12000001,E91000001,M9,1990-04,Zoe,Smith,NE2,F,true\n",
        encoding="utf-8",
    )
    (folder / "extract.toml").write_text('extract_end_date = 2024-03-31\nsource = "test"\n')
    return folder


def test_pseudonymise_extract_end_to_end(tmp_path: Path) -> None:
    src = _identifiable(tmp_path / "in")
    out = tmp_path / "out"
    written = pseudonymise_extract(src, out, KEY)
    assert {p.name for p in written} == {
        "cases.csv",
        "case_people.csv",
        "births.csv",
        "extract.toml",
    }
    people = pl.read_csv(out / "case_people.csv", infer_schema=False)
    births = pl.read_csv(out / "births.csv", infer_schema=False)
    cases = pl.read_csv(out / "cases.csv", infer_schema=False)
    assert "forename" not in people.columns
    assert "surname" not in people.columns
    assert "mother_forename" not in births.columns
    assert people.columns == [
        "case_id",
        "person_id",
        "role",
        "birth_date",
        "birth_year_month",
        "sex",
        "forename_hash",
        "surname_hash",
        "forename_soundex_hash",
        "surname_soundex_hash",
        "postcode_district",
    ]
    assert people["forename_hash"].to_list() == [
        _hmac("ZOE"),
        _hmac("JON"),
        _hmac("ZOE"),
        None,
    ]
    assert people["surname_soundex_hash"][2] == _hmac("S530")
    assert people["surname_hash"][0] == births["mother_surname_hash"][0] == _hmac("OBRIEN")
    assert births["mother_forename_soundex_hash"][0] == _hmac("Z000")
    # ids hashed consistently across tables
    assert set(people["case_id"]) == set(cases["case_id"]) == {_hmac("C1"), _hmac("C2")}
    assert people["person_id"][0] == people["person_id"][2] == _hmac("P1")
    assert births["mother_person_id"].to_list() == [_hmac("M9"), _hmac("M9")]
    assert births["birth_id"].to_list() == [_hmac("B1"), _hmac("B2")]
    # other values untouched, nulls stay null
    assert people["birth_date"].to_list() == [None, "2015-05-30", None, "2018-03-01"]
    assert cases["final_hearing_date"].to_list() == ["2016-02-01", None]
    # no clear names or key anywhere in the output
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        assert KEY_TEXT not in text
        for clear in ("Zoë", "O'Brien", "Smyth", ",Jon,", "P1,", "B1,"):
            assert clear not in text


def test_pseudonymise_keep_ids(tmp_path: Path) -> None:
    src = _identifiable(tmp_path / "in")
    pseudonymise_extract(src, tmp_path / "out", KEY, hash_ids=False)
    people = pl.read_csv(tmp_path / "out" / "case_people.csv", infer_schema=False)
    assert people["person_id"].to_list() == ["P1", "P2", "P1", "P3"]
    assert people["forename_hash"][0] == _hmac("ZOE")


def test_pseudonymise_errors(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="does not exist"):
        pseudonymise_extract(tmp_path / "absent", tmp_path / "out", KEY)
    src = _identifiable(tmp_path / "in")
    (src / "births.csv").unlink()
    with pytest.raises(ExtractError, match="births table is missing"):
        pseudonymise_extract(src, tmp_path / "out", KEY)
    src2 = _identifiable(tmp_path / "in2")
    text = (src2 / "case_people.csv").read_text().replace(",surname,", ",family_name,")
    (src2 / "case_people.csv").write_text(text)
    with pytest.raises(ExtractError, match="no column 'surname'") as info:
        pseudonymise_extract(src2, tmp_path / "out2", KEY)
    assert info.value.file.endswith("case_people.csv")
    assert KEY_TEXT not in str(info.value)


def test_cli_pseudonymise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _identifiable(tmp_path / "in")
    key_file = tmp_path / "key"
    key_file.write_text(KEY_TEXT + "\n")
    code = main(
        [
            "pseudonymise",
            "--in",
            str(src),
            "--out",
            str(tmp_path / "out"),
            "--key-file",
            str(key_file),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "wrote" in captured.out
    assert KEY_TEXT not in captured.out + captured.err
    people = pl.read_csv(tmp_path / "out" / "case_people.csv", infer_schema=False)
    assert people["person_id"][0] == _hmac("P1")

    monkeypatch.setenv(KEY_ENV_VAR, KEY_TEXT)
    code = main(["pseudonymise", "--in", str(src), "--out", str(tmp_path / "o2"), "--keep-ids"])
    assert code == 0
    people = pl.read_csv(tmp_path / "o2" / "case_people.csv", infer_schema=False)
    assert people["person_id"][0] == "P1"

    code = main(["pseudonymise", "--in", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o3")])
    assert code == 3  # an extract that cannot be read
    assert "does not exist" in capsys.readouterr().err
