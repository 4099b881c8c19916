import datetime as dt
import tomllib
from pathlib import Path

import pytest

from recurrence.config import load_config
from recurrence.errors import ConfigError
from recurrence.paths import DEFAULTS_FILE


def test_defaults_load_and_match_the_documented_file():
    config = load_config()
    documented = tomllib.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))
    assert config.as_dict()["rates"] == documented["rates"]
    assert config.rates.newborn_days == 14
    assert config.recurrence.horizon_years == 7
    assert config.ingest.care_application_types == ("s31_care", "s31_supervision")
    assert config.ingest.earliest_issue_date == dt.date(1991, 10, 14)
    assert isinstance(config.paths.warehouse, Path)


def test_file_then_overrides_take_precedence(tmp_path):
    user = tmp_path / "mine.toml"
    user.write_text('[rates]\nnewborn_days = 7\nyear_type = "calendar"\n', encoding="utf-8")
    config = load_config(user, ["rates.newborn_days=10", 'paths.extract="/data/x"'])
    assert config.rates.newborn_days == 10
    assert config.rates.year_type == "calendar"
    assert config.paths.extract == Path("/data/x")
    assert config.rates.infant_days == 365


def test_unquoted_string_override_is_taken_as_text():
    assert load_config(overrides=["linkage.method=person_id"]).linkage.method == "person_id"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("rates.newborn_days=seven", "rates.newborn_days"),
        ("rates.year_type=fiscal", "must be one of financial, calendar"),
        ("rates.unknown=1", "Unknown setting rates.unknown"),
        ("nosuch.key=1", "Unknown configuration section [nosuch]"),
        ("newborn_days=7", "section.key=value"),
        ("recurrence.report_years=[1, 12]", "beyond 10 years"),
        ("linkage.match_threshold=true", "linkage.match_threshold"),
    ],
)
def test_bad_overrides_give_clear_errors(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(overrides=[override])


def test_missing_or_malformed_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[rates\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
