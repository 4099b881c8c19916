"""Run configuration: one documented file of defaults, overridable per run.

The defaults live in ``defaults.toml`` beside this module and nowhere else; this module only reads,
merges and type-checks them, so the documented file cannot drift from what runs.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from recurrence.contract import OUTCOMES
from recurrence.errors import ConfigError
from recurrence.paths import DEFAULT_EXTRACT_SETTING, DEFAULTS_FILE, SAMPLE_EXTRACT_DIR

# `recurrence ui` passes its options to the Dagster code location through these variables.
ENV_CONFIG = "RECURRENCE_CONFIG"
ENV_EXTRACT = "RECURRENCE_EXTRACT"
ENV_WAREHOUSE = "RECURRENCE_WAREHOUSE"


@dataclass(frozen=True)
class PathsConfig:
    """File locations used by a run."""

    extract: Path
    warehouse: Path
    reports: Path
    dagster_home: Path


@dataclass(frozen=True)
class DuckDBConfig:
    """Resources DuckDB may use."""

    memory_limit: str


@dataclass(frozen=True)
class IngestConfig:
    """Validation settings for ingest."""

    care_application_types: tuple[str, ...]
    earliest_issue_date: dt.date
    earliest_birth_year_month: str
    max_end_date_gap_days: int = 730
    plausible_mother_age_min: int = 12
    plausible_mother_age_max: int = 60
    plausible_years_before_end: int = 25
    plausible_cases_per_mother: int = 15


@dataclass(frozen=True)
class LinkageConfig:
    """Settings for linking mothers across proceedings and to maternity records."""

    method: str
    match_threshold: float
    max_cases_per_mother: int
    engine: str
    seed: int
    truth: str
    spark_master: str = "local[*]"
    spark_exchange_dir: str = ""
    spark_shuffle_partitions: int = 16
    mother_threshold_rule: str = "expected_precision"
    mother_precision_target: float = 0.995


@dataclass(frozen=True)
class RecurrenceConfig:
    """Definitions of the recurrence cohort and event."""

    event: str
    horizon_years: int
    report_years: tuple[int, ...]
    lookback_years: int


@dataclass(frozen=True)
class RatesConfig:
    """Definitions of newborn and infant rates."""

    newborn_days: int
    infant_days: int
    year_type: str
    ci_method: str


@dataclass(frozen=True)
class DisclosureConfig:
    """Disclosure-control rules applied to every published number."""

    min_cell: int
    rounding_base: int
    symbol: str


@dataclass(frozen=True)
class OutcomesConfig:
    """How proceedings end: the class of every outcome code, and the timeliness target."""

    care_order: str
    placement_order: str
    supervision_order: str
    special_guardianship_order: str
    child_arrangements_order: str
    no_order: str
    withdrawn: str
    target_weeks: int

    def classes(self) -> dict[str, str]:
        """Each outcome code with its class (``"removal"`` or ``"home_or_family"``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "target_weeks"}


@dataclass(frozen=True)
class InboxConfig:
    """The folder a Dagster sensor watches for new extracts (off when empty)."""

    folder: str


@dataclass(frozen=True)
class PublicationConfig:
    """What the released spreadsheet says about who published it."""

    contact: str


@dataclass(frozen=True)
class SourceConfig:
    """An optional first stage: adapt a provider's own tables into the extract (docs/sources.md)."""

    adapter: str
    input: str
    settings: str


@dataclass(frozen=True)
class Config:
    """The whole configuration of one run."""

    paths: PathsConfig
    duckdb: DuckDBConfig
    ingest: IngestConfig
    linkage: LinkageConfig
    recurrence: RecurrenceConfig
    rates: RatesConfig
    disclosure: DisclosureConfig
    outcomes: OutcomesConfig
    inbox: InboxConfig
    publication: PublicationConfig
    source: SourceConfig

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Return the configuration as plain TOML-compatible values, for provenance records."""
        out: dict[str, dict[str, Any]] = {}
        for section in fields(self):
            values = getattr(self, section.name)
            out[section.name] = {f.name: _plain(getattr(values, f.name)) for f in fields(values)}
        return out


_SECTIONS: dict[str, type] = {
    "paths": PathsConfig,
    "duckdb": DuckDBConfig,
    "ingest": IngestConfig,
    "linkage": LinkageConfig,
    "recurrence": RecurrenceConfig,
    "rates": RatesConfig,
    "disclosure": DisclosureConfig,
    "outcomes": OutcomesConfig,
    "inbox": InboxConfig,
    "publication": PublicationConfig,
    "source": SourceConfig,
}

OUTCOME_CLASSES = ("removal", "home_or_family")

_CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("linkage", "method"): ("probabilistic", "person_id"),
    ("linkage", "engine"): ("duckdb", "spark"),
    ("recurrence", "event"): ("new_child", "any"),
    ("rates", "year_type"): ("financial", "calendar"),
    ("rates", "ci_method"): ("exact", "byar"),
    ("source", "adapter"): ("", "cafcass-cms", "cafcass-ecms", "cafcass"),
    **{("outcomes", code): OUTCOME_CLASSES for code in OUTCOMES},
}


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"Configuration file {path} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Configuration file {path} is not valid TOML: {exc}.") from None


def _parse_override(item: str) -> tuple[str, str, Any]:
    key, sep, raw = item.partition("=")
    section, dot, name = key.strip().partition(".")
    if not sep or not dot or not name:
        raise ConfigError(
            f"Override {item!r} is not of the form section.key=value "
            "(for example rates.newborn_days=7)."
        )
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return section, name.strip(), value


def _coerce(section: str, name: str, value: Any, default: Any, source: str) -> Any:
    where = f"{section}.{name} (from {source})"
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, dt.date):
        ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    elif isinstance(default, list):
        ok = isinstance(value, list) and all(isinstance(v, type(default[0])) for v in value)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(
            f"Setting {where} should be {type(default).__name__} like {default!r}, got {value!r}."
        )
    choices = _CHOICES.get((section, name))
    if choices and value not in choices:
        shown = ", ".join(c or '""' for c in choices)
        raise ConfigError(f"Setting {where} must be one of {shown}; got {value!r}.")
    return value


def path_overrides(
    *, extract: str | None = None, warehouse: str | None = None, reports: str | None = None
) -> list[str]:
    """``--set`` style overrides for the paths given (absent ones are left to the config).

    Examples
    --------
    >>> path_overrides(extract="/data/x")
    ['paths.extract="/data/x"']
    """
    out = []
    for name, value in (("extract", extract), ("warehouse", warehouse), ("reports", reports)):
        if value:
            escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'paths.{name}="{escaped}"')
    return out


def _resolve_path(name: str, value: str) -> Path:
    """A path setting as given, except the default extract outside a checkout.

    The shipped default names the bundled sample relative to the working directory, which only
    exists when running from a checkout; an installed wheel carries its own copy, used instead.
    """
    path = Path(value)
    if name == "extract" and value == DEFAULT_EXTRACT_SETTING and not path.exists():
        return SAMPLE_EXTRACT_DIR
    return path


def load_config(path: Path | str | None = None, overrides: Iterable[str] = ()) -> Config:
    """Load the configuration: defaults, then a user file, then ``section.key=value`` overrides.

    Parameters
    ----------
    path
        Optional TOML file holding any subset of the settings in ``defaults.toml``.
    overrides
        Strings such as ``"rates.newborn_days=7"``; values are parsed as TOML, else taken as text.

    Returns
    -------
    Config
        The merged, type-checked configuration.

    Raises
    ------
    ConfigError
        If a file is missing or invalid, or a setting is unknown or of the wrong type.

    Examples
    --------
    >>> load_config(overrides=["rates.newborn_days=7"]).rates.newborn_days
    7
    """
    defaults = _read_toml(DEFAULTS_FILE)
    merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in defaults.items()}
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if path is not None:
        layers.append((str(path), _read_toml(Path(path))))
    override_layer: dict[str, dict[str, Any]] = {}
    for item in overrides:
        section, name, value = _parse_override(item)
        override_layer.setdefault(section, {})[name] = value
    layers.append(("--set", override_layer))

    for source, layer in layers:
        for section, values in layer.items():
            if section not in defaults or not isinstance(values, Mapping):
                raise ConfigError(
                    f"Unknown configuration section [{section}] in {source}; "
                    f"known sections: {', '.join(defaults)}."
                )
            for name, value in values.items():
                if name not in defaults[section]:
                    raise ConfigError(
                        f"Unknown setting {section}.{name} in {source}; known settings in "
                        f"[{section}]: {', '.join(defaults[section])}."
                    )
                merged[section][name] = _coerce(
                    section, name, value, defaults[section][name], source
                )

    built: dict[str, Any] = {}
    for section, cls in _SECTIONS.items():
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            value = merged[section][f.name]
            if section == "paths":
                value = _resolve_path(f.name, value)
            elif isinstance(value, list):
                value = tuple(value)
            kwargs[f.name] = value
        built[section] = cls(**kwargs)
    config = Config(**built)
    if max(config.recurrence.report_years) > 10:
        raise ConfigError("Setting recurrence.report_years may not go beyond 10 years.")
    if config.source.adapter and not config.source.input:
        raise ConfigError(
            "Setting source.input is empty: give the folder of exported tables that "
            f"source.adapter = {config.source.adapter!r} should adapt."
        )
    if config.outcomes.target_weeks <= 0:
        raise ConfigError("Setting outcomes.target_weeks must be a positive number of weeks.")
    return config
