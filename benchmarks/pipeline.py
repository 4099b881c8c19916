"""Time the whole pipeline and each stage at several shares of national scale, and the read floor.

Usage::

    .venv/bin/python benchmarks/pipeline.py --workdir /tmp/recurrence-bench \
        --fractions 0.1 0.3 1.0

For each fraction a synthetic extract is generated once (``recurrence synth --scale national
--fraction F --seed 1``) into ``WORKDIR/extract_F`` and reused by later invocations. Then, each in
a fresh Python process so that its peak memory is its own:

* ``floor``: DuckDB copying every column of every extract file into a table, with no checks;
* ``pipeline``: the whole asset graph (ingest, linkage, recurrence, rates, with every asset
  check) through Dagster in process, as ``recurrence run`` does, into a new warehouse.

Stage times are the sums of Dagster step durations (start to success, from the run's event log)
by asset group; ``whole`` is the wall time of the in-process run. Peak memory is the process's
maximum resident set size (DuckDB, polars and Splink all run inside it). Results are printed as
a Markdown table and written to ``WORKDIR/results.json``; record them in RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SEED = 1
STAGES = ("ingest", "linkage", "recurrence", "rates", "outcomes", "reports")


def _peak_gb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)


def _label(fraction: float) -> str:
    return f"{round(fraction * 100):03d}pct"


def _phase_synth(extract: Path, fraction: float) -> dict[str, Any]:
    from recurrence.synth import generate_extract

    summary = generate_extract(
        extract, scale="national", seed=SEED, file_format="mixed", fraction=fraction
    )
    (extract / ".complete").write_text("ok\n", encoding="utf-8")
    return {"rows": {k: v for k, v in summary.rows.items() if "/" not in k}}


def _phase_floor(extract: Path, work: Path) -> dict[str, Any]:
    """DuckDB copying every column of every extract file into a table, with no checks at all."""
    from ingest import read_floor  # benchmarks/ingest.py, beside this script

    rows = read_floor(extract, work / "floor.duckdb")
    return {"rows": {Path(name).stem: n for name, n in rows.items()}}


def _phase_pipeline(extract: Path, work: Path, overrides: list[str]) -> dict[str, Any]:
    """The whole graph through Dagster, in this process; stage times from the event log."""
    import warnings

    import dagster as dg

    from pipelines.definitions import defs as load_defs
    from pipelines.runner import run_config_for

    for category in (dg.BetaWarning, dg.PreviewWarning, DeprecationWarning):
        warnings.filterwarnings("ignore", category=category)
    warehouse = work / "warehouse.duckdb"
    for stale in work.glob("warehouse*"):
        stale.unlink()
    home = work / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)

    definitions = load_defs()
    graph = definitions.resolve_asset_graph()
    group_of = {
        key.to_python_identifier(): graph.get(key).group_name for key in graph.get_all_asset_keys()
    }
    job = definitions.resolve_implicit_global_asset_job_def()
    run_config = run_config_for(
        extract=str(extract),
        warehouse=str(warehouse),
        reports=str(work / "reports"),
        config_file=None,
        overrides=overrides,
    )
    run_config["loggers"] = {"console": {"config": {"log_level": "CRITICAL"}}}
    started = time.monotonic()
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            run_config=run_config, instance=instance, raise_on_error=False
        )
        whole = time.monotonic() - started
        begun: dict[str, float] = {}
        steps: dict[str, float] = {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None or not entry.step_key:
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                begun[entry.step_key] = entry.timestamp
            elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
                steps[entry.step_key] = entry.timestamp - begun[entry.step_key]
    stages: dict[str, float] = {}
    for step, seconds in steps.items():
        # An asset check's step key is its asset's step key, "_", and the check's name.
        owner = max((k for k in group_of if step.startswith(k)), key=len, default="")
        group = group_of.get(owner, "other")
        stages[group] = stages.get(group, 0.0) + seconds
    return {
        "success": result.success,
        "whole_seconds": round(whole, 1),
        "stages": {k: round(v, 1) for k, v in sorted(stages.items())},
        "steps": {k: round(v, 1) for k, v in sorted(steps.items())},
        "warehouse_gb": round(warehouse.stat().st_size / 1e9, 2),
    }


def _child(args: argparse.Namespace) -> None:
    extract, work = Path(args.extract), Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if args.phase == "synth":
        detail = _phase_synth(extract, args.fraction)
    elif args.phase == "floor":
        detail = _phase_floor(extract, work)
    else:
        detail = _phase_pipeline(extract, work, args.set or [])
    detail["seconds"] = round(time.monotonic() - started, 1)
    detail["peak_gb"] = _peak_gb()
    print(json.dumps(detail))


def _run_child(phase: str, fraction: float, extract: Path, work: Path, sets: list[str]) -> dict:
    command = [
        sys.executable,
        __file__,
        "--phase",
        phase,
        "--fraction",
        str(fraction),
        "--extract",
        str(extract),
        "--work",
        str(work),
    ]
    for item in sets:
        command += ["--set", item]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    """Generate (once), then time the floor and the whole pipeline at each fraction."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/recurrence-bench"))
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.3, 1.0])
    parser.add_argument("--set", action="append", help="config override for the pipeline runs")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--phase", choices=["synth", "floor", "pipeline"], help=argparse.SUPPRESS)
    parser.add_argument("--fraction", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--extract", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        _child(args)
        return
    results: list[dict[str, Any]] = []
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB; "
        f"load {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    for fraction in args.fractions:
        extract = args.workdir / f"extract_{_label(fraction)}"
        work = args.workdir / f"run_{_label(fraction)}"
        row: dict[str, Any] = {"fraction": fraction}
        if not (extract / ".complete").exists():
            row["synth"] = _run_child("synth", fraction, extract, work, [])
            print(f"{fraction:5.0%} synth    {json.dumps(row['synth'])}", flush=True)
        if not args.skip_floor:
            row["floor"] = _run_child("floor", fraction, extract, work, [])
            print(f"{fraction:5.0%} floor    {json.dumps(row['floor'])}", flush=True)
        row["pipeline"] = _run_child("pipeline", fraction, extract, work, args.set or [])
        print(f"{fraction:5.0%} pipeline {json.dumps(row['pipeline'])}", flush=True)
        results.append(row)
    (args.workdir / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print()
    print("| fraction | births | floor (s) | " + " | ".join(f"{s} (s)" for s in STAGES), end="")
    print(" | whole (s) | peak RSS (GB) |")
    print("|---" * (len(STAGES) + 5) + "|")
    for row in results:
        pipe = row["pipeline"]
        floor = row.get("floor", {})
        births = floor.get("rows", {}).get("births", "")
        cells = [f"{row['fraction']:.0%}", f"{births:,}" if births else "", ""]
        cells[2] = f"{floor['seconds']:.1f}" if floor else ""
        cells += [f"{pipe['stages'].get(s, 0.0):.1f}" for s in STAGES]
        cells += [f"{pipe['whole_seconds']:.1f}", f"{pipe['peak_gb']:.2f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
