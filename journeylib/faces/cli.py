"""The ``journeylib`` command: loads, workspace summaries, analyses and reports.

Exit codes: 0 on success, 2 on bad input (a one-paragraph message on stderr,
no traceback), 1 on any other failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import journeylib as jl
from journeylib.core.errors import DataError, JourneyError, ParameterError, WorkspaceError
from journeylib.display.registry import declared
from journeylib.model.levels import MODES

Handler = Callable[[argparse.Namespace], int]
DEMO_MARK = ".journeylib-demo"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Examples
    --------
    >>> main(["info", "--db", "/nonexistent/x.duckdb"])
    2
    """
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except DataError as err:
        print(f"journeylib: {err.cli_message}", file=sys.stderr)
        return 2
    except (ParameterError, WorkspaceError) as err:
        print(f"journeylib: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader stopped early (| head): it had what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except JourneyError as err:
        print(f"journeylib: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("journeylib: interrupted", file=sys.stderr)
        return 1
    except Exception as err:  # the last line of defence: a message, never a traceback
        print(f"journeylib: unexpected failure: {type(err).__name__}: {err}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="journeylib", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    load = commands.add_parser("load", help="load exports into a workspace")
    load.add_argument("--db", required=True, help="workspace file (created when missing)")
    load.add_argument(
        "--source", required=True, help="csv, parquet, ga4, segment, mixpanel, amplitude"
    )
    load.add_argument("--mapping", help="YAML: canonical column -> export column (csv/parquet)")
    load.add_argument("--tz", help="time zone of timestamps written without one (default UTC)")
    load.add_argument(
        "--delimiter", help="CSV field separator, e.g. ';' or '\\t' (default: sniffed)"
    )
    load.add_argument("--channels", help="YAML channel rules replacing the defaults")
    load.add_argument("files", nargs="+", metavar="FILE")
    load.set_defaults(handler=_load)

    unload = commands.add_parser(
        "unload", help="remove loaded files' rows, rejected rows and ledger entries"
    )
    unload.add_argument("--db", required=True, help="workspace file")
    unload.add_argument("files", nargs="+", metavar="FILE", help="a file as it was loaded")
    unload.set_defaults(handler=_unload)

    upgrade = commands.add_parser(
        "upgrade", help="upgrade an older workspace to this journeylib's schema version"
    )
    upgrade.add_argument("--db", required=True, help="workspace file")
    upgrade.add_argument(
        "--dry-run", action="store_true", help="list the migrations; change nothing"
    )
    upgrade.set_defaults(handler=_upgrade)

    info = commands.add_parser("info", help="summarise a workspace")
    info.add_argument("--db", required=True)
    info.add_argument("--format", choices=["table", "json"], default="table")
    info.set_defaults(handler=_info)

    funnel = commands.add_parser("funnel", help="people reaching each step of a funnel")
    _analysis_input(funnel)
    which = funnel.add_mutually_exclusive_group(required=True)
    which.add_argument("--steps", help="event names in order, comma-separated")
    which.add_argument("--stages", help="a shipped stage map (five_stage, ...) or a YAML file")
    funnel.add_argument("--within", default="7d", help="conversion window, e.g. 30m, 7d")
    funnel.add_argument("--mode", default="ordered", help=", ".join(MODES))
    funnel.add_argument("--window-from", default="entry", help="entry or previous_step")
    funnel.add_argument(
        "--step-within", help="a window per step after the first, comma-separated, e.g. 1h,2d"
    )
    funnel.add_argument("--unit", default="user", help="user or session")
    funnel.add_argument("--by", help="break down by this column or properties key")
    funnel.add_argument("--by-value", default="first", help="first, last or step:N")
    funnel.set_defaults(handler=_funnel)

    paths = commands.add_parser("paths", help="the most common routes from or to an event")
    _analysis_input(paths)
    paths.add_argument("--start", help="begin at each person's first such event")
    paths.add_argument("--end", help="end at each person's first such event")
    paths.add_argument("--steps", type=int, default=5, help="events per path")
    paths.add_argument("--conversion", help="add the share who later did this event")
    paths.add_argument("--unit", default="user", help="user or session")
    paths.add_argument("--top", type=int, default=20, help="paths shown; the rest are 'other'")
    paths.set_defaults(handler=_paths)

    retention = commands.add_parser("retention", help="who comes back, by cohort and period")
    _analysis_input(retention)
    retention.add_argument("--start", help="event that starts a cohort (default: any)")
    retention.add_argument("--returning", help="event that counts as a return (default: any)")
    retention.add_argument("--period", default="week", help="day, week or month")
    retention.add_argument("--kind", default="n_day", help="n_day (on) or unbounded (on or after)")
    retention.add_argument("--periods", type=int, default=8, help="periods after period 0")
    retention.add_argument("--rolling", action="store_true", help="periods from each start time")
    retention.add_argument("--cohort", default="first", help="first or recurring")
    retention.add_argument("--by", help="cohorts by this column or property instead of by period")
    retention.set_defaults(handler=_retention)

    attribution = commands.add_parser("attribution", help="credit for conversions per channel")
    source = attribution.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", help="workspace file")
    source.add_argument("--events", help="canonical-column CSV or Parquet file, read in place")
    source.add_argument("--paths", help="path summary CSV: path, conversions, nulls[, value]")
    attribution.add_argument("--format", choices=["csv", "json", "table"], default="csv")
    attribution.add_argument("--conversion", default="purchase", help="conversion event name(s)")
    attribution.add_argument("--lookback", default="30d", help="touches within this before it")
    attribution.add_argument("--models", help="comma-separated (default: all but W-shaped)")
    attribution.add_argument("--order", type=int, default=1, help="Markov chain order, 1-4")
    attribution.set_defaults(handler=_attribution)

    report = commands.add_parser("report", help="run a parameterised notebook into a report folder")
    report.add_argument("notebook")
    report.add_argument(
        "-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), dest="parameters"
    )
    report.add_argument(
        "--out", default="reports/latest", help="report folder (replaced on success)"
    )
    report.add_argument(
        "--show-parameters", action="store_true", help="list the notebook's parameters"
    )
    report.add_argument(
        "--min-cell-size",
        type=int,
        default=5,
        help="blank and mark rows counting fewer people than this (0 keeps all)",
    )
    report.add_argument(
        "--show-user-ids", action="store_true", help="keep user id columns in the report"
    )
    report.add_argument(
        "--read-only",
        action="store_true",
        help="open every workspace read-only: the run changes nothing and holds no lock",
    )
    report.set_defaults(handler=_report)

    demo = commands.add_parser("demo", help="sample exports -> workspace -> full journey report")
    demo.add_argument(
        "--out", default="reports/demo", help="folder for the workspace and the report"
    )
    demo.set_defaults(handler=_demo)
    return parser


def _load(args: argparse.Namespace) -> int:
    with jl.open(args.db, channel_rules=args.channels) as ws:
        report = ws.load_events(
            args.files,
            source=args.source,
            mapping=args.mapping,
            tz=args.tz,
            delimiter=args.delimiter,
        )
    print(report)
    return 0


def _unload(args: argparse.Namespace) -> int:
    if not Path(args.db).is_file():
        raise ParameterError("--db", args.db, reason="No such workspace file.")
    with jl.open(args.db) as ws:
        for name in args.files:
            print(ws.unload(name))
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    from journeylib.core.engine import Engine
    from journeylib.loading.upgrade import upgrade

    if not Path(args.db).is_file():
        raise ParameterError("--db", args.db, reason="No such workspace file.")
    engine = Engine.connect(args.db)
    try:
        done = upgrade(engine, dry_run=args.dry_run)
    finally:
        engine.close()
    print(done if done.steps else f"{args.db} is at schema version {done.after}: nothing to do.")
    return 0


def _info(args: argparse.Namespace) -> int:
    with jl.open(args.db, read_only=True) as ws:
        summary = ws.info()
    if args.format == "json":
        print(json.dumps(summary, indent=1))
    else:
        _print_summary(summary)
    return 0


def _analysis_input(command: argparse.ArgumentParser) -> None:
    source = command.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", help="workspace file")
    source.add_argument("--events", help="canonical-column CSV or Parquet file, read in place")
    command.add_argument("--format", choices=["csv", "json", "table"], default="csv")


def _events(args: argparse.Namespace) -> tuple[jl.Events, jl.Workspace | None]:
    if args.events:
        return jl.read_events(args.events), None
    ws = jl.open(args.db, read_only=True)
    return ws.events(), ws


def _analyse(args: argparse.Namespace, analysis: Callable[[jl.Events], jl.Result]) -> int:
    """Run an analysis on the command's events and print its table; close the workspace."""
    events, ws = _events(args)
    try:
        _emit(analysis(events), args)
    finally:
        if ws is not None:
            ws.close()
    return 0


def _emit(result: jl.Result, args: argparse.Namespace) -> None:
    """Print a result: CSV and JSON carry its breakdown and declared stable columns.

    The table format shows every column.

    Notes (why a table is empty...) go to stderr, so the output stays machine-readable.
    """
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.format == "table":
        print(result.table.to_string(index=False))
        return
    by = [args.by] if getattr(args, "by", None) else []
    stable = [*by, *declared(result.slug).columns]
    table = result.table[[c for c in stable if c in result.table.columns]]
    if args.format == "json":
        print(table.to_json(orient="records", date_format="iso", indent=1))
    else:
        print(table.to_csv(index=False), end="")


def _listed(text: str) -> list[str]:
    """Comma-separated values, trimmed, blanks dropped."""
    return [part.strip() for part in text.split(",") if part.strip()]


def _funnel(args: argparse.Namespace) -> int:
    steps = jl.Stages.named(args.stages) if args.stages else _listed(args.steps)
    step_within = _listed(args.step_within) if args.step_within else None
    return _analyse(
        args,
        lambda events: jl.funnel(
            events,
            steps,
            args.within,
            args.mode,
            by=args.by,
            by_value=args.by_value,
            unit=args.unit,
            window_from=args.window_from,
            step_within=step_within,
        ),
    )


def _paths(args: argparse.Namespace) -> int:
    return _analyse(
        args,
        lambda events: jl.paths(
            events,
            args.start,
            args.end,
            args.steps,
            unit=args.unit,
            top=args.top,
            conversion=args.conversion,
        ),
    )


def _retention(args: argparse.Namespace) -> int:
    return _analyse(
        args,
        lambda events: jl.retention(
            events,
            args.start,
            args.returning,
            args.period,
            args.kind,
            periods=args.periods,
            rolling=args.rolling,
            cohort=args.cohort,
            by=args.by,
        ),
    )


def _attribution(args: argparse.Namespace) -> int:
    from journeylib.analyses.attribution.journeys import read_path_summary

    models = _listed(args.models) if args.models else None
    if args.paths:
        result = jl.attribution(read_path_summary(args.paths), models=models, order=args.order)
        _emit(result, args)
        return 0
    conversion = _listed(args.conversion)
    return _analyse(
        args,
        lambda events: jl.attribution(
            events, conversion, args.lookback, models=models, order=args.order
        ),
    )


def _report(args: argparse.Namespace) -> int:
    from journeylib.faces.report import parameters_help, run_report

    if args.show_parameters:
        print(parameters_help(args.notebook))
        return 0
    out = run_report(
        args.notebook,
        dict(args.parameters),
        args.out,
        min_cell_size=args.min_cell_size,
        show_user_ids=args.show_user_ids,
        read_only=args.read_only,
    )
    print(f"report written to {out}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from journeylib import datasets
    from journeylib.faces.report import run_report

    out = _demo_folder(args.out)
    db = out / "journeys.duckdb"
    db.unlink(missing_ok=True)
    with jl.open(db) as ws:
        for name, report in datasets.load_sample(ws).items():
            print(f"{name}: {report.loaded} rows loaded, {report.rejected} rejected")
        _print_summary(ws.info())
    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "journey_report.ipynb"
    folder = run_report(notebook, {"db": str(db.resolve())}, out / "report")
    print(f"workspace: {db}")
    print(f"report:    {folder / 'report.html'} (tables in {folder / 'tables'})")
    return 0


def _demo_folder(out: str) -> Path:
    """The demo's folder, once it is known to hold nothing but an earlier demo.

    The demo replaces ``journeys.duckdb`` and ``report/`` in it, so a folder
    holding anything else is refused rather than overwritten.
    """
    from journeylib.faces.report_folder import is_report_folder

    folder = Path(out)
    mark = folder / DEMO_MARK
    ours = not folder.exists() or (
        folder.is_dir()
        and (not any(folder.iterdir()) or mark.exists() or is_report_folder(folder / "report"))
    )
    if not ours:
        raise ParameterError(
            "--out",
            out,
            reason="It holds files an earlier demo did not write, and the demo replaces "
            "journeys.duckdb and report/ in it. Give a new or empty folder.",
        )
    folder.mkdir(parents=True, exist_ok=True)
    mark.touch()
    return folder


def _print_summary(summary: dict[str, object]) -> None:
    for key in ("schema_version", "events", "users", "first_event", "last_event", "rejected"):
        if key in summary:
            print(f"{key:15} {summary[key]}")
    tables = summary.get("tables")
    if isinstance(tables, dict):
        for name, rows in tables.items():
            print(f"  {name:12} {rows} rows")


if __name__ == "__main__":
    sys.exit(main())
