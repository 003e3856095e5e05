"""The ``journeylib`` command: loads, workspace summaries, analyses and reports.

Exit codes: 0 on success, 2 on bad input (a one-paragraph message on stderr,
no traceback), 1 on any other failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import journeylib as jl
from journeylib.errors import DataError, JourneyError, ParameterError

Handler = Callable[[argparse.Namespace], int]


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
    except (DataError, ParameterError) as err:
        print(f"journeylib: {err}", file=sys.stderr)
        return 2
    except JourneyError as err:
        print(f"journeylib: {err}", file=sys.stderr)
        return 2 if "No workspace" in str(err) or "open for writing" in str(err) else 1
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
    load.add_argument("--channels", help="YAML channel rules replacing the defaults")
    load.add_argument("files", nargs="+", metavar="FILE")
    load.set_defaults(handler=_load)

    info = commands.add_parser("info", help="summarise a workspace")
    info.add_argument("--db", required=True)
    info.add_argument("--format", choices=["table", "json"], default="table")
    info.set_defaults(handler=_info)

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
    report.set_defaults(handler=_report)

    demo = commands.add_parser("demo", help="load the bundled sample exports and summarise them")
    demo.add_argument("--out", default="reports/demo", help="folder for the demo workspace")
    demo.set_defaults(handler=_demo)
    return parser


def _load(args: argparse.Namespace) -> int:
    with jl.open(args.db, channel_rules=args.channels) as ws:
        report = ws.load_events(args.files, source=args.source, mapping=args.mapping, tz=args.tz)
    print(report)
    return 0


def _info(args: argparse.Namespace) -> int:
    with jl.open(args.db, read_only=True) as ws:
        summary = ws.info()
    if args.format == "json":
        print(json.dumps(summary, indent=1))
    else:
        _print_summary(summary)
    return 0


def _report(args: argparse.Namespace) -> int:
    from journeylib.report import parameters_help, run_report

    if args.show_parameters:
        print(parameters_help(args.notebook))
        return 0
    out = run_report(args.notebook, dict(args.parameters), args.out)
    print(f"report written to {out}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from journeylib import datasets

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "journeys.duckdb"
    db.unlink(missing_ok=True)
    with jl.open(db) as ws:
        for name, report in datasets.load_sample(ws).items():
            print(f"{name}: {report.loaded} rows loaded, {report.rejected} rejected")
        _print_summary(ws.info())
    print(f"workspace written to {db}")
    return 0


def _print_summary(summary: dict[str, object]) -> None:
    for key in ("events", "users", "first_event", "last_event", "rejected"):
        print(f"{key:12} {summary[key]}")
    tables = summary.get("tables")
    if isinstance(tables, dict):
        for name, rows in tables.items():
            print(f"  {name:12} {rows} rows")


if __name__ == "__main__":
    sys.exit(main())
