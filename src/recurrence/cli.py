"""The ``recurrence`` command-line program.

Every command ends an error a user can fix with one clear line (the file, column or setting, the
rule and what to do), never a traceback, and a distinct exit status
(:func:`recurrence.errors.exit_code`): 2 a bad setting or usage, 3 an extract that cannot be
read, 4 a blocking check or data rule failed, 5 the warehouse is busy, 1 an internal error (a bug:
the traceback goes to the run's log), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from recurrence.errors import RecurrenceError, exit_code


def _cmd_synth(args: argparse.Namespace) -> int:
    from recurrence.errors import ConfigError
    from recurrence.synth import PracticeChange, generate_extract

    change = None
    if args.practice_change:
        try:
            change = PracticeChange.parse(args.practice_change)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    summary = generate_extract(
        Path(args.out),
        scale=args.scale,
        seed=args.seed,
        file_format=args.format,
        practice_change=change,
        fraction=args.fraction,
        corruption=args.corruption,
    )
    print(summary.describe())
    return 0


def _cmd_adapt(args: argparse.Namespace) -> int:
    from recurrence.sources import adapt

    log = adapt(args.source, Path(args.input), Path(args.out), args.settings)
    print(log.describe())
    print(f"wrote {args.out} (adaptation log: {Path(args.out) / 'adaptation_log.json'})")
    return 0


def _cmd_pseudonymise(args: argparse.Namespace) -> int:
    from recurrence.pseudonymise import pseudonymise_extract, read_key

    key = read_key(args.key_file) if args.key_file else read_key()
    written = pseudonymise_extract(
        Path(args.input), Path(args.out), key, hash_ids=not args.keep_ids
    )
    for path in written:
        print(f"wrote {path}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from pipelines.runner import run_pipeline

    return run_pipeline(
        extract=args.extract,
        warehouse=args.warehouse,
        reports=args.reports,
        config_file=args.config,
        overrides=args.set or [],
        select=args.select,
        verbose=args.verbose,
    )


def _cmd_profile(args: argparse.Namespace) -> int:
    import duckdb

    from recurrence.config import load_config
    from recurrence.profiles.profile import (
        FOLDER,
        authorities,
        build_profile,
        read_published,
        write_profile,
    )

    config = load_config(args.config, args.set or [])
    warehouse = Path(args.warehouse) if args.warehouse else config.paths.warehouse
    # Read only: a profile is made from a finished warehouse, never while a run writes it.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        published = read_published(con)
    known = authorities(published)
    if args.la not in known:
        print(
            f"recurrence: {args.la} is not an authority of this warehouse's published tables "
            f"({len(known)} are; e.g. {', '.join(known[:3]) or 'none'})."
        )
        return 2
    # Never into a released run folder: what the release checks read must stay as they read it.
    out = Path(args.out) if args.out else config.paths.reports / FOLDER
    html, pdf = write_profile(build_profile(published, args.la, config), out, args.la)
    print(f"wrote {html}\nwrote {pdf}")
    return 0


def _cmd_ui(args: argparse.Namespace) -> int:
    from pipelines.runner import start_ui

    return start_ui(
        config_file=args.config, overrides=args.set or [], host=args.host, port=args.port
    )


def _cmd_linkage_eval(args: argparse.Namespace) -> int:
    import json

    from recurrence.errors import ConfigError
    from recurrence.linkage import evaluate_linkage, export_clerical_sample

    if not args.truth and not args.clerical_sample:
        raise ConfigError("Give --truth DIR (synthetic data), --clerical-sample FILE, or both.")
    if not Path(args.warehouse).is_file():
        # Opened read-only, a missing file would end in a raw FileNotFoundError traceback.
        raise ConfigError(
            f"--warehouse {args.warehouse}: no such warehouse file. Give the DuckDB file a run "
            "wrote (paths.warehouse, by default warehouse/recurrence.duckdb)."
        )
    if args.truth:
        result = evaluate_linkage(Path(args.warehouse), Path(args.truth))
        print(result.describe())
        if args.json:
            Path(args.json).write_text(json.dumps(result.as_dict(), indent=2) + "\n")
            print(f"wrote {args.json}")
    if args.clerical_sample:
        pairs = export_clerical_sample(Path(args.warehouse), Path(args.clerical_sample))
        print(f"wrote {pairs} pairs near the match threshold to {args.clerical_sample}")
    return 0


def _cmd_compare_periods(args: argparse.Namespace) -> int:
    from recurrence.config import load_config, path_overrides
    from recurrence.outcomes import Period, compare_periods_in_warehouse, write_comparison_csv

    config = load_config(
        args.config, [*(args.set or []), *path_overrides(warehouse=args.warehouse)]
    )
    result = compare_periods_in_warehouse(
        config.paths.warehouse,
        geography=args.geography,
        before=Period.parse(args.before),
        after=Period.parse(args.after),
    )
    print(
        "NOT disclosure-controlled: exact counts for analysts inside the secure environment; "
        "do not release this printout."
    )
    print(result.describe())
    if args.out:
        path = write_comparison_csv(result, Path(args.out), config.disclosure)
        print(f"wrote {path} (counts under {config.disclosure.min_cell} suppressed)")
    return 0


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", help="TOML file of settings (every setting: docs/configuration.md)"
    )
    parser.add_argument(
        "--set",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override one setting for this run; may be repeated",
    )


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser for all subcommands."""
    parser = argparse.ArgumentParser(
        prog="recurrence",
        description="Recurrent care proceedings and newborns in care proceedings, "
        "from pseudonymised administrative extracts.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the pipeline on an extract (through Dagster)")
    run.add_argument("--extract", help="extract folder (default: paths.extract in the config)")
    run.add_argument("--warehouse", help="DuckDB warehouse file (default: paths.warehouse)")
    run.add_argument(
        "--reports", help="folder for published outputs, one subfolder per run (paths.reports)"
    )
    run.add_argument(
        "--select", help="Dagster asset selection, e.g. 'group:ingest' (default: everything)"
    )
    run.add_argument(
        "--verbose", action="store_true", help="also show Splink's model-training messages"
    )
    _add_config_options(run)
    run.set_defaults(func=_cmd_run)

    profile = sub.add_parser(
        "profile", help="write one local authority's profile (HTML and PDF) from a warehouse"
    )
    profile.add_argument("--la", required=True, help="local authority code (cases.la_code)")
    profile.add_argument("--warehouse", help="finished DuckDB warehouse (default: paths.warehouse)")
    profile.add_argument(
        "--out", help="folder for <la>.html and <la>.pdf (default: <paths.reports>/profiles)"
    )
    _add_config_options(profile)
    profile.set_defaults(func=_cmd_profile)

    ui = sub.add_parser("ui", help="start the Dagster UI on localhost")
    ui.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: this machine only)"
    )
    ui.add_argument("--port", type=int, default=3000, help="port to listen on (default: 3000)")
    _add_config_options(ui)
    ui.set_defaults(func=_cmd_ui)

    synth = sub.add_parser("synth", help="write a synthetic extract with ground truth")
    synth.add_argument("--out", required=True, help="folder to write the extract into")
    synth.add_argument(
        "--scale",
        choices=["sample", "national"],
        default="sample",
        help="sample: a small extract that runs in about a minute; national: England and Wales "
        "volumes (default: sample)",
    )
    synth.add_argument(
        "--seed", type=int, default=1, help="random seed; the same seed writes the same extract"
    )
    synth.add_argument(
        "--format",
        choices=["csv", "parquet", "mixed"],
        default="mixed",
        help="file format: mixed writes births as Parquet and the other tables as CSV",
    )
    synth.add_argument(
        "--practice-change",
        metavar="CODE:START:SHIFT",
        help="inject a change of practice: from START, SHIFT more (0.2 = 20 points; negative "
        "for fewer) of the concluded care proceedings in region or local authority CODE end at "
        "home or with family (default: none)",
    )
    synth.add_argument(
        "--fraction",
        type=float,
        default=None,
        help="share of national volumes to simulate, e.g. 0.1 (overrides --scale's own share)",
    )
    synth.add_argument(
        "--corruption",
        choices=["default", "hard"],
        default="default",
        help="recording errors: default (calibrated rates) or hard (adds mistyped and missing "
        "dates of birth, swapped names, multiple typos, common names, twins, sisters and "
        "re-issued person ids to mothers' rows)",
    )
    synth.set_defaults(func=_cmd_synth)

    adapt = sub.add_parser(
        "adapt",
        help="turn a provider's own tables (Cafcass CMS/ECMS in SAIL) into a contract extract",
    )
    adapt.add_argument(
        "--source",
        action="append",
        required=True,
        choices=("cafcass-cms", "cafcass-ecms", "cafcass"),
        help="source system; repeat (or use 'cafcass') to join CMS and ECMS into one extract",
    )
    adapt.add_argument("--in", dest="input", required=True, help="folder of exported tables")
    adapt.add_argument("--out", required=True, help="extract folder to write")
    adapt.add_argument(
        "--settings", help="TOML file of adapter settings (see src/recurrence/sources/cafcass.toml)"
    )
    adapt.set_defaults(func=_cmd_adapt)

    pseudo = sub.add_parser(
        "pseudonymise", help="turn an identifiable extract into a contract extract"
    )
    pseudo.add_argument("--in", dest="input", required=True, help="identifiable extract folder")
    pseudo.add_argument("--out", required=True, help="folder for the pseudonymised extract")
    pseudo.add_argument(
        "--key-file",
        help="file holding the secret key (default: environment variable "
        "RECURRENCE_PSEUDONYMISATION_KEY)",
    )
    pseudo.add_argument(
        "--keep-ids",
        action="store_true",
        help="keep case_id, person_id, birth_id and mother_person_id as given, unhashed",
    )
    pseudo.set_defaults(func=_cmd_pseudonymise)

    leval = sub.add_parser(
        "linkage-eval",
        help="score a run's linkage against truth; export pairs for clerical review",
    )
    leval.add_argument("--warehouse", required=True, help="warehouse the linkage stage ran on")
    leval.add_argument("--truth", help="truth/ folder of a synthetic extract")
    leval.add_argument("--json", help="also write the scores to this JSON file")
    leval.add_argument(
        "--clerical-sample",
        metavar="CSV",
        help="write pairs near the match threshold, with comparison vectors, to this file",
    )
    leval.set_defaults(func=_cmd_linkage_eval)

    compare = sub.add_parser(
        "compare-periods",
        help="how care proceedings ended in one area before and after a change of practice",
        description="Compare the share of concluded care proceedings ending at home or with "
        "family (rather than removal) in one area, issued before and after a change of "
        "practice: all families, and split by whether the mother had an earlier set ending in "
        "removal. Reports both proportions, the difference (after - before) with Newcombe's 95% "
        "interval, and Fisher's exact test. Reads analysis.case_outcomes of a built warehouse. "
        "The printed table is NOT disclosure-controlled (exact counts, no identifiers) and is "
        "for analysts inside the secure environment; --out writes a CSV with counts under "
        "disclosure.min_cell suppressed.",
    )
    compare.add_argument(
        "--geography",
        required=True,
        metavar="CODE",
        help="region code (e.g. E12000002), W92000004, E92000001, K04000001, or an la_code",
    )
    compare.add_argument("--before", required=True, metavar="START:END", help="ISO dates of issue")
    compare.add_argument("--after", required=True, metavar="START:END", help="ISO dates of issue")
    compare.add_argument("--warehouse", help="DuckDB warehouse file (default: paths.warehouse)")
    compare.add_argument("--out", metavar="CSV", help="also write the comparison, suppressed")
    _add_config_options(compare)
    compare.set_defaults(func=_cmd_compare_periods)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``recurrence`` program."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RecurrenceError as exc:
        print(f"recurrence: {exc}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("recurrence: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
