"""Time the synthetic generator and validated ingest, and the floor: DuckDB only reading the files.

Each phase runs in its own Python process, so its peak memory is its own.

    .venv/bin/python benchmarks/ingest.py --scale national --out /tmp/bench_national

Prints one line per phase: wall seconds and peak resident memory. Record results in RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def _phase_synth(out: Path, scale: str) -> dict[str, object]:
    from recurrence.synth import generate_extract

    summary = generate_extract(out, scale=scale, seed=1, file_format="mixed")  # type: ignore[arg-type]
    return {"rows": dict(summary.rows)}


def read_floor(extract: Path, scratch: Path) -> dict[str, int]:
    """DuckDB copying every column of every extract file into a table, with no checks at all.

    CSV files are read as text, Parquet with its own types. Returns rows by file name; the
    scratch database is removed afterwards. Also used by ``benchmarks/pipeline.py``.
    """
    import duckdb

    scratch.unlink(missing_ok=True)
    con = duckdb.connect(str(scratch), config={"memory_limit": "4GB"})
    rows = {}
    for path in sorted(extract.glob("*.csv")) + sorted(extract.glob("*.parquet")):
        reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
        options = "" if path.suffix == ".parquet" else ", all_varchar = true, header = true"
        con.execute(
            f"create table {path.stem} as select * from {reader}($path{options})",
            {"path": str(path)},
        )
        rows[path.name] = con.execute(f"select count(*) from {path.stem}").fetchone()[0]
    con.close()
    scratch.unlink()
    return rows


def _phase_floor(out: Path) -> dict[str, object]:
    return {"rows": read_floor(out, out.with_suffix(".floor.duckdb"))}


def _phase_ingest(out: Path, warehouse: Path) -> dict[str, object]:
    from recurrence.config import load_config
    from recurrence.ingest import ingest_extract
    from recurrence.warehouse import connect

    config = load_config()
    warehouse.unlink(missing_ok=True)
    con = connect(warehouse, memory_limit=config.duckdb.memory_limit)
    result = ingest_extract(con, out, config.ingest)
    con.close()
    return {"rows": {a.table_name: a.rows_read for a in result}}


def _run_phase(phase: str, out: Path, scale: str) -> dict[str, object]:
    started = time.perf_counter()
    if phase == "synth":
        detail = _phase_synth(out, scale)
    elif phase == "floor":
        detail = _phase_floor(out)
    else:
        detail = _phase_ingest(out, out.with_suffix(".duckdb"))
    return {
        "phase": phase,
        "seconds": round(time.perf_counter() - started, 1),
        "peak_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
        **detail,
    }


def main() -> None:
    """Run each phase in a fresh process and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=["sample", "national"], default="national")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--phase", choices=["synth", "floor", "ingest"], help=argparse.SUPPRESS)
    parser.add_argument("--skip-synth", action="store_true", help="reuse an extract in --out")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(_run_phase(args.phase, args.out, args.scale)))
        return
    phases = ["floor", "ingest"] if args.skip_synth else ["synth", "floor", "ingest"]
    for phase in phases:
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--phase",
                phase,
                "--out",
                str(args.out),
                "--scale",
                args.scale,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(output.strip().splitlines()[-1])
        print(
            f"{phase:8} {result['seconds']:8.1f} s  peak {result['peak_gb']:5.2f} GB  "
            f"{result['rows']}"
        )


if __name__ == "__main__":
    main()
