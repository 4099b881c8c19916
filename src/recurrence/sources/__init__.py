"""Source adapters: a provider's own tables in, a data-contract extract out.

The data contract (``recurrence.contract``, ``docs/data_contract.md``) stays the one interface
every later stage reads; each provider is one more adapter here. An adapter writes the contract
tables, ``extract.toml`` and ``adaptation_log.json`` (counts in and out per rule, rows set aside
with their reasons, never an identifier value). See ``docs/sources.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

from recurrence.contract import BIRTHS, CASE_PEOPLE, CASES
from recurrence.errors import ConfigError, ExtractError
from recurrence.sources.cafcass import (
    build_contract,
    load_settings,
    read_cms,
    read_ecms,
    read_local_authorities,
)
from recurrence.sources.log import AdaptationLog

#: Adapter names accepted by ``recurrence adapt --source`` and ``[source] adapter``.
SOURCES = {"cafcass-cms": ("cms",), "cafcass-ecms": ("ecms",), "cafcass": ("cms", "ecms")}
LOG_FILE = "adaptation_log.json"


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["" if row.get(c) is None else row[c] for c in columns])


def adapt(
    sources: list[str] | tuple[str, ...],
    input_dir: Path,
    out_dir: Path,
    settings_file: Path | str | None = None,
) -> AdaptationLog:
    """Adapt a secure-environment export to a contract extract in ``out_dir``.

    Parameters
    ----------
    sources
        Adapter names: ``cafcass-cms``, ``cafcass-ecms`` or both (or ``cafcass``, the same as
        both): several systems are joined into one extract.
    input_dir
        Folder of the exported tables (CSV or Parquet named after the SAIL tables).
    out_dir
        Extract folder to write (created; contract files in it are replaced).
    settings_file
        Optional TOML file overriding ``sources/cafcass.toml``.
    """
    systems: list[str] = []
    for name in sources:
        if name not in SOURCES:
            raise ConfigError(f"Unknown source {name!r}; known: {', '.join(SOURCES)}.")
        systems += [s for s in SOURCES[name] if s not in systems]
    systems.sort(key=("cms", "ecms").index)  # CMS first: an ECMS copy of a CMS case is the copy
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise ExtractError(
            str(input_dir),
            "the input folder does not exist.",
            "Give the folder the tables were exported to with --in.",
        )
    settings = load_settings(settings_file)
    log = AdaptationLog(source="+".join(f"cafcass-{s}" for s in systems))
    data = [(read_cms if s == "cms" else read_ecms)(input_dir, settings, log) for s in systems]
    la_file = settings["extract"]["local_authority_file"]
    la_path = Path(la_file) if la_file else input_dir / "local_authorities.csv"
    contract = build_contract(data, settings, read_local_authorities(la_path), log)

    end_text = settings["extract"]["end_date"]
    if end_text:
        end = dt.date.fromisoformat(end_text)
    else:
        refreshes = [d.refresh for d in data if d.refresh]
        latest = [d.latest_date for d in data if d.latest_date]
        if not refreshes and not latest:
            raise ExtractError(
                str(input_dir),
                "no date found to end the extract at.",
                "Set extract.end_date in the adapter settings.",
            )
        end = max(refreshes) if refreshes else max(latest)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("cases", "case_people", "births", "live_births"):
        for ext in ("csv", "parquet"):
            (out_dir / f"{name}.{ext}").unlink(missing_ok=True)
    _write_csv(out_dir / "cases.csv", [c.name for c in CASES.columns], contract.cases)
    _write_csv(
        out_dir / "case_people.csv",
        [
            c.name
            for c in CASE_PEOPLE.columns
            if not c.name.endswith("hash") and c.name != "postcode_district"
        ],
        contract.people,
    )
    # English births are not in SAIL: an empty maternity table (header only).
    _write_csv(out_dir / "births.csv", [c.name for c in BIRTHS.columns if c.required], [])
    live_births = settings["extract"]["live_births_file"]
    if live_births:
        if not Path(live_births).is_file():
            raise ExtractError(
                live_births,
                "the live-births file does not exist.",
                "Give a CSV of region_code,year,live_births in "
                "extract.live_births_file, or leave it empty.",
            )
        shutil.copyfile(live_births, out_dir / "live_births.csv")
    else:
        log.notes.append(
            "no live_births table: newborn rates need published live births "
            "(extract.live_births_file)."
        )
    (out_dir / "extract.toml").write_text(
        f"extract_end_date = {end.isoformat()}\n"
        f'source = "{settings["extract"]["source"]} ({log.source})"\n'
        'description = "Adapted by recurrence adapt; see adaptation_log.json. No maternity '
        'data: births is empty."\n'
    )
    log.figures["cases written"] = len(contract.cases)
    log.figures["case_people written"] = len(contract.people)
    log.figures["extract_end_date"] = end.isoformat()
    log.notes.append(
        "births.csv is empty: English births are not held in SAIL; figures that "
        "need maternity records (births to linked mothers) are absent."
    )
    log.write(out_dir / LOG_FILE)
    return log
