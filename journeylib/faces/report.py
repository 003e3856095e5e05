"""Scheduled reports: run a parameterised notebook with papermill, atomically.

:func:`run_report` checks the parameters against the notebook's ``parameters``
cell (papermill's ``name: type = value  # help`` form) before starting, runs
the notebook into a temporary folder beside ``out``, and only when every cell
succeeded moves into ``out``: the executed notebook, ``report.html`` (no code
cells; charts are inline SVG, so it renders with no network), every displayed
:class:`~journeylib.display.result.Result` table as CSV and Parquet under ``tables/``,
and ``manifest.json`` (parameters, input files with checksums and row counts,
versions, timings). On failure the previous report is left as it was.
"""

from __future__ import annotations

import json
import platform
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from journeylib.core.errors import JourneyError, ParameterError
from journeylib.core.options import options
from journeylib.display.result import MIMETYPE as RESULT_MIMETYPE
from journeylib.faces.report_folder import GENERATOR, MANIFEST, Publication, checked_out
from journeylib.loading.pipeline import MIMETYPE as LOAD_MIMETYPE


class ReportError(JourneyError):
    """A report run failed; the message names the failing cell."""


@dataclass(frozen=True)
class NotebookParameter:
    """One declared notebook parameter."""

    name: str
    type: str
    default: str
    help: str


def notebook_parameters(notebook: str | Path) -> dict[str, NotebookParameter]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Examples
    --------
    >>> import nbformat, tempfile
    >>> nb = nbformat.v4.new_notebook()
    >>> nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    >>> cell = nbformat.v4.new_code_cell('lookback: str = "30d"  # attribution lookback')
    >>> cell.metadata["tags"] = ["parameters"]
    >>> nb.cells.append(cell)
    >>> path = Path(tempfile.mkdtemp()) / "n.ipynb"
    >>> nbformat.write(nb, path)
    >>> notebook_parameters(path)["lookback"].type
    'str'
    """
    import papermill

    path = _existing(notebook)
    declared = papermill.inspect_notebook(str(path))
    return {
        name: NotebookParameter(
            name,
            str(info.get("inferred_type_name") or "None"),
            str(info.get("default")),
            str(info.get("help") or ""),
        )
        for name, info in declared.items()
    }


def coerce_parameters(
    values: Mapping[str, object], declared: Mapping[str, NotebookParameter]
) -> dict[str, object]:
    """Check names and convert text values to the declared types.

    Examples
    --------
    >>> declared = {"periods": NotebookParameter("periods", "int", "8", "")}
    >>> coerce_parameters({"periods": "12"}, declared)
    {'periods': 12}
    """
    converted: dict[str, object] = {}
    for name, value in values.items():
        if name not in declared:
            raise ParameterError(
                "-p",
                name,
                allowed=sorted(declared),
                reason="The notebook declares no such parameter.",
            )
        kind = declared[name].type
        converted[name] = _convert(name, value, kind) if isinstance(value, str) else value
    return converted


def _convert(name: str, value: str, kind: str) -> object:
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            lowered = value.strip().lower()
            if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValueError(value)
            return lowered in {"true", "1", "yes"}
        if kind in {"list", "dict"} or kind.startswith(("list[", "dict[")):
            parsed = yaml.safe_load(value)
            if not isinstance(parsed, list if kind.startswith("list") else dict):
                raise ValueError(value)
            return parsed
    except (ValueError, yaml.YAMLError):
        raise ParameterError(name, value, reason=f"Expected a value of type {kind}.") from None
    return value


def run_report(
    notebook: str | Path,
    parameters: Mapping[str, object] | None = None,
    out: str | Path = "reports/latest",
    *,
    kernel: str = "python3",
    timeout_seconds: int | None = None,
    min_cell_size: int = 5,
    show_user_ids: bool = False,
    read_only: bool = False,
) -> Path:
    """Run ``notebook`` with ``parameters`` and publish the report into ``out``.

    ``read_only``: every workspace the notebook opens is opened read-only, so
    the run can neither change the workspace nor hold it (a load in it fails).

    Every displayed result is shared as :meth:`Result.shared` gives it: rows
    counting fewer than ``min_cell_size`` people blanked and marked (0 keeps
    them all), and user ids left out unless ``show_user_ids``.

    ``out`` is replaced as a whole, so it must be new, empty or an earlier
    report's folder, and never a folder holding the notebook, a file named by
    a parameter, the current folder or the home folder
    (:func:`~journeylib.faces.report_folder.checked_out`).

    These settings reach the notebook's kernel explicitly: a first cell the
    run adds (tagged ``journeylib-settings``, like papermill's parameters
    cell) sets ``jl.options`` there, progress bars off and the plan choice
    this process has (see :func:`settings_source`).

    Returns ``out``. Raises ParameterError for unknown or mistyped parameters
    or an ``out`` that is not safe to replace (before anything runs) and
    ReportError naming the failing cell.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = _existing(notebook)
    values = coerce_parameters(parameters or {}, notebook_parameters(source))
    target = checked_out(out, [source, *_named_paths(values)])
    started = time.time()
    with Publication(target) as run:
        executed = run.work / source.name
        settings = {
            "min_cell_size": min_cell_size,
            "show_user_ids": show_user_ids,
            "read_only": read_only,
            "progress": "off",
            "plan": options.plan,
        }
        try:
            papermill.execute_notebook(
                _with_settings(source, settings),
                str(executed),
                parameters=values,
                kernel_name=kernel,
                progress_bar=False,
                execution_timeout=timeout_seconds,
            )
        except PapermillExecutionError as err:
            first_line = next((ln for ln in err.source.splitlines() if ln.strip()), "")
            raise ReportError(
                f"{source.name}: cell {_source_position(executed, err.cell_index)}"
                f" ({first_line.strip()[:80]!r}) failed: "
                f"{err.ename}: {str(err.evalue).rstrip('.')}. The previous report in {target}"
                " is unchanged."
            ) from None
        sharing = {"min_cell_size": min_cell_size, "show_user_ids": show_user_ids}
        _publish(run.work, executed, source, values, started, sharing)
        run.publish()
    return target


def _publish(
    work: Path,
    executed: Path,
    source: Path,
    values: Mapping[str, object],
    started: float,
    sharing: Mapping[str, object],
) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    book = nbformat.read(executed, as_version=4)
    tables = work / "tables"
    tables.mkdir()
    written: list[dict[str, object]] = []
    inputs: list[dict[str, object]] = []
    seen: set[str] = set()
    for output in (o for cell in book.cells for o in cell.get("outputs", [])):
        data = output.get("data", {})
        if RESULT_MIMETYPE in data:
            record = data[RESULT_MIMETYPE]
            frame = pd.DataFrame(record["table"]["data"], columns=record["table"]["columns"])
            name = _slug(record.get("slug") or record["name"], seen)
            frame.to_csv(tables / f"{name}.csv", index=False)
            frame.to_parquet(tables / f"{name}.parquet", index=False)
            (tables / f"{name}.sql").write_text(record["sql"] + "\n", encoding="utf-8")
            written.append(
                {"name": record["name"], "file": f"tables/{name}.csv", "rows": len(frame)}
            )
        if LOAD_MIMETYPE in data:
            inputs.extend(data[LOAD_MIMETYPE]["files"])
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(book)
    (work / "report.html").write_text(_offline(body), encoding="utf-8")
    cells = [
        {"cell": i, "seconds": cell.get("metadata", {}).get("papermill", {}).get("duration")}
        for i, cell in enumerate(book.cells)
        if cell.cell_type == "code"
    ]
    manifest = {
        "generator": GENERATOR,
        "notebook": str(source),
        "parameters": json.loads(json.dumps(dict(values), default=str)),
        "inputs": inputs,
        "tables": written,
        "sharing": dict(sharing),
        "versions": {"python": platform.python_version(), **_versions()},
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 3),
        "cells": cells,
    }
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def _named_paths(values: Mapping[str, object]) -> list[Path]:
    """The parameter values that name an existing file or folder (a workspace, a stage map)."""
    return [Path(v) for v in values.values() if isinstance(v, str) and v and Path(v).exists()]


#: the tag of the first cell a report run adds: it sets the run's options in the kernel
SETTINGS_TAG = "journeylib-settings"


def settings_source(settings: Mapping[str, object]) -> str:
    """The code that sets ``settings`` as ``jl.options`` in a report's kernel.

    >>> print(settings_source({"min_cell_size": 5, "progress": "off"}))
    import journeylib as jl
    jl.options.min_cell_size = 5
    jl.options.progress = 'off'
    """
    lines = [f"jl.options.{name} = {value!r}" for name, value in settings.items()]
    return "\n".join(["import journeylib as jl", *lines])


def _with_settings(source: Path, settings: Mapping[str, object]) -> object:
    """The notebook with a first cell setting the run's options (a NotebookNode)."""
    import nbformat

    book = nbformat.read(source, as_version=4)
    cell = nbformat.v4.new_code_cell(settings_source(settings))
    cell.metadata["tags"] = [SETTINGS_TAG]
    book.cells.insert(0, cell)
    return book


def _source_position(executed: Path, index: int) -> int:
    """1-based position in the author's notebook of executed cell ``index``.

    The run adds a settings cell and papermill an ``injected-parameters`` cell,
    neither of which the author wrote.
    """
    import nbformat

    added = ("injected-parameters", SETTINGS_TAG)
    book = nbformat.read(executed, as_version=4)
    injected = sum(
        1 for cell in book.cells[:index] if set(added) & set(cell.metadata.get("tags", []))
    )
    return index - injected + 1


def _offline(html: str) -> str:
    """Drop script tags that load from the network: the report must open offline."""
    return re.sub(r"<script[^>]+src=\"https?://[^\"]+\"[^>]*>\s*</script>", "", html)


def _versions() -> dict[str, str]:
    names = ["journeylib", "duckdb", "ibis-framework", "pandas", "altair", "papermill"]
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _slug(name: str, seen: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "result"
    slug, n = base, 1
    while slug in seen:
        n += 1
        slug = f"{base}_{n}"
    seen.add(slug)
    return slug


def _existing(notebook: str | Path) -> Path:
    path = Path(notebook)
    if not path.is_file():
        raise ParameterError("notebook", str(notebook), reason="No such notebook file.")
    return path


def parameters_help(notebook: str | Path) -> str:
    """The notebook's parameters as lines of ``name: type = default  # help``."""
    return "\n".join(
        f"{p.name}: {p.type} = {p.default}  # {p.help}".rstrip(" #")
        for p in notebook_parameters(notebook).values()
    )


__all__ = [
    "ReportError",
    "coerce_parameters",
    "notebook_parameters",
    "parameters_help",
    "run_report",
]
