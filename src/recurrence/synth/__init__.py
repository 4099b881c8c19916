"""Synthetic extract generator with ground truth.

:func:`generate_extract` writes a contract extract (``cases``, ``case_people``, ``births`` and
``extract.toml``) whose mothers, children and births are simulated to published figures (see
:mod:`recurrence.synth.calibration` for the targets and their sources), recorded with the data
problems real extracts have, and keyed-hashed under a key derived from the seed that is never
written. ``truth/`` beside the tables holds the ground truth the pipeline's results can be checked
against; the pipeline never reads it.

The modules: ``calibration`` (targets and rates), ``names`` (vocabularies and misspelling),
``geography`` (synthetic authorities and postcode districts), ``proceedings`` (true careers,
children and adults), ``records`` (recorded, corrupted rows) and ``writer`` (hashing and files).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow.compute as pc

from recurrence.synth import calibration as cal
from recurrence.synth.geography import build_geography
from recurrence.synth.hard import PROFILES, apply_hard_corruption
from recurrence.synth.hard import parameters as hard_parameters
from recurrence.synth.names import NameModel
from recurrence.synth.practice import PracticeChange, apply_practice_change
from recurrence.synth.proceedings import simulate
from recurrence.synth.records import record_births, record_cases
from recurrence.synth.writer import (
    NameHasher,
    births_table,
    case_people_table,
    cases_table,
    synthetic_key,
    truth_tables,
    write_csv,
    write_table,
)

__all__ = ["PracticeChange", "SynthSummary", "generate_extract"]

Scale = Literal["sample", "national"]
FileFormat = Literal["csv", "parquet", "mixed"]


@dataclass
class SynthSummary:
    """What :func:`generate_extract` wrote.

    Attributes
    ----------
    out_dir
        The extract folder.
    scale, seed, file_format
        The arguments used.
    rows
        Rows per table (extract tables and truth tables, the latter prefixed ``truth/``).
    files
        Every file written.
    first_issue, last_issue
        Issue dates of the earliest and latest cases written (ISO).
    seconds
        Wall time taken.
    """

    out_dir: Path
    scale: str
    seed: int
    file_format: str
    rows: dict[str, int] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    first_issue: str = ""
    last_issue: str = ""
    seconds: float = 0.0
    practice_change: PracticeChange | None = None
    outcomes_changed: int = 0
    corruption: str = "default"

    def describe(self) -> str:
        """A few lines for the console: rows per table, years covered and timing.

        Returns
        -------
        str
            The description.
        """
        lines = [
            f"synthetic extract ({self.scale}, seed {self.seed}, {self.file_format}) "
            f"written to {self.out_dir} in {self.seconds:.1f} s",
            f"cases issued {self.first_issue} to {self.last_issue}; births "
            f"{cal.BIRTHS_START.isoformat()} to {cal.EXTRACT_END.isoformat()}",
        ]
        lines += [f"  {name}: {n:,} rows" for name, n in self.rows.items()]
        if self.corruption != "default":
            lines.append(f"corruption profile: {self.corruption}")
        if self.practice_change is not None:
            lines.append(
                f"practice change {self.practice_change.describe()}: "
                f"{self.outcomes_changed:,} outcomes changed"
            )
        return "\n".join(lines)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def generate_extract(
    out_dir: Path,
    *,
    scale: Scale,
    seed: int,
    file_format: FileFormat = "mixed",
    practice_change: PracticeChange | None = None,
    fraction: float | None = None,
    corruption: str = "default",
) -> SynthSummary:
    """Write a synthetic extract with ground truth into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed; existing extract files are overwritten).
    scale
        ``'national'`` (about 10 million births) or ``'sample'`` (1/50 of that).
    seed
        Seed of the random generator; the same seed writes byte-identical files.
    file_format
        ``'csv'``, ``'parquet'``, or ``'mixed'`` (births as Parquet, other tables as CSV).
    practice_change
        Optional change of practice to inject (:class:`PracticeChange`): from its start date,
        more (or fewer) care proceedings in its area end at home or with family. Only recorded
        outcomes change; the manifest records it. None (the default) injects nothing.
    fraction
        Share of national volumes to simulate, overriding the scale's own (``0.1`` is a tenth
        of England and Wales); used by the scaling benchmark. ``None`` keeps the scale's.
    corruption
        ``'default'`` (the recorded errors calibrated in :mod:`calibration`) or ``'hard'``,
        which adds the errors of :mod:`recurrence.synth.hard` to mothers' rows (with its own
        random stream, so the default profile's files are unchanged).

    Returns
    -------
    SynthSummary
        Row counts, files and timing.

    Raises
    ------
    ValueError
        For an unknown scale or file format, or a fraction not in (0, 1].
    """
    if scale not in cal.SCALE_FRACTION:
        raise ValueError(f"scale must be one of {sorted(cal.SCALE_FRACTION)}, not {scale!r}")
    if file_format not in ("csv", "parquet", "mixed"):
        raise ValueError(f"file_format must be csv, parquet or mixed, not {file_format!r}")
    if corruption not in PROFILES:
        raise ValueError(f"corruption must be one of {list(PROFILES)}, not {corruption!r}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    for stale in (*out_dir.glob("*.csv"), *out_dir.glob("*.parquet")):
        stale.unlink()
    if fraction is None:
        fraction = cal.SCALE_FRACTION[scale]
    elif not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], not {fraction!r}")

    rng = np.random.default_rng(seed)
    names = NameModel(rng)
    geo = build_geography(rng)
    truth = simulate(rng, names, geo, fraction)
    cases = record_cases(rng, truth, names)
    changed = 0
    if practice_change is not None:
        # Its own stream, so every other value is the same as without the change.
        changed = apply_practice_change(
            cases, geo, practice_change, np.random.default_rng([seed, 9009])
        )
    hard = None
    if corruption == "hard":
        # Its own stream, after everything the default profile draws, so the default is unchanged.
        hard = apply_hard_corruption(np.random.default_rng([seed, 1919]), cases, truth, names)
    births = record_births(rng, truth, names, geo, fraction)
    hasher = NameHasher(names.vocab, synthetic_key(seed))

    t_cases = cases_table(cases, geo)
    t_people = case_people_table(cases, geo, hasher)
    t_births = births_table(births, geo, hasher)
    summary = SynthSummary(
        out_dir=out_dir,
        scale=scale,
        seed=seed,
        file_format=file_format,
        practice_change=practice_change,
        outcomes_changed=changed,
        corruption=corruption,
    )
    other_fmt = "parquet" if file_format == "parquet" else "csv"
    births_fmt = "csv" if file_format == "csv" else "parquet"
    for name, table, fmt in (
        ("cases", t_cases, other_fmt),
        ("case_people", t_people, other_fmt),
        ("births", t_births, births_fmt),
    ):
        summary.files.append(write_table(table, out_dir, name, fmt))
        summary.rows[name] = table.num_rows

    source = f"recurrence synthetic generator v{cal.GENERATOR_VERSION}, seed {seed}, scale {scale}"
    toml = (
        f"extract_end_date = {cal.EXTRACT_END.isoformat()}\n"
        f"source = {_toml_value(source)}\n"
        "synthetic = true\n"
        'description = "Synthetic extract for testing and demonstration: simulated mothers, '
        "children and births calibrated to published figures for England and Wales, with "
        'built-in data problems. Not real data. Ground truth is in truth/."\n'
    )
    (out_dir / "extract.toml").write_text(toml, encoding="utf-8")
    summary.files.append(out_dir / "extract.toml")

    for name, df in truth_tables(truth, cases, births, t_cases, t_people, t_births).items():
        summary.files.append(write_csv(df, truth_dir / f"{name}.csv"))
        summary.rows[f"truth/{name}"] = df.height

    manifest = [
        f"generator_version = {_toml_value(cal.GENERATOR_VERSION)}",
        f"seed = {seed}",
        f"scale = {_toml_value(scale)}",
        f"scale_fraction = {fraction!r}",
        f"file_format = {_toml_value(file_format)}",
        f"extract_end_date = {cal.EXTRACT_END.isoformat()}",
        f"window_start_date = {cal.WINDOW_START.isoformat()}",
        f"career_start_date = {cal.CAREER_START.isoformat()}",
        f"births_start_date = {cal.BIRTHS_START.isoformat()}",
        f"system_change_date = {cal.SYSTEM_CHANGE.isoformat()}",
        "# the hashing key is derived in memory from the seed and never written",
        "",
        "[parameters]",
        *(f"{k} = {_toml_value(v)}" for k, v in sorted(cal.parameters().items())),
        "",
        "[rows]",
        *(f'"{k}" = {v}' for k, v in summary.rows.items()),
    ]
    if hard is not None:
        manifest += [
            "",
            "[hard_corruption]",
            *(f"{k} = {_toml_value(v)}" for k, v in sorted(hard_parameters().items())),
            *hard.manifest_lines(),
        ]
    if practice_change is not None:
        manifest += [
            "",
            "[practice_change]",
            f"geography = {_toml_value(practice_change.geography)}",
            f"start = {practice_change.start.isoformat()}",
            f"shift_home_or_family = {practice_change.shift!r}",
            f"outcomes_changed = {changed}",
        ]
    (truth_dir / "manifest.toml").write_text("\n".join(manifest) + "\n", encoding="utf-8")
    summary.files.append(truth_dir / "manifest.toml")

    written_issue = t_cases.column("issue_date")
    summary.first_issue = str(pc.min(written_issue).as_py())
    summary.last_issue = str(pc.max(written_issue).as_py())
    summary.seconds = time.perf_counter() - started
    return summary
