"""journeylib: customer-journey analytics over DuckDB, for notebooks and reports.

Examples
--------
>>> import journeylib as jl
>>> ws = jl.open()
>>> ws.info()["events"]
0
"""

from typing import Any

from journeylib import datasets, stages
from journeylib.attribution import attribution
from journeylib.drivers import drivers
from journeylib.drop_off import drop_off
from journeylib.errors import (
    DataError,
    EngineError,
    JourneyError,
    ParameterError,
    WorkspaceError,
)
from journeylib.events import Events
from journeylib.funnel_stats import compare_funnels, time_to_convert, trended_funnel
from journeylib.funnels import funnel
from journeylib.journey_map import journey_map, stage_of
from journeylib.loading import LoadReport
from journeylib.paths import next_steps, paths, previous_steps, step_matrix
from journeylib.personas import personas
from journeylib.prediction import predict_next
from journeylib.quality import data_quality
from journeylib.remote import Connection, connect, read_events
from journeylib.result import Result
from journeylib.retention import retention
from journeylib.segments import compare_segments
from journeylib.stages import Stages
from journeylib.transitions import transitions
from journeylib.workspace import Workspace, open

__version__ = "0.1.0"

#: the widgets load ipywidgets and Altair, so they are imported on first use:
#: ``import journeylib`` stays quick for the CLI and scheduled runs
_WIDGETS = (
    "attribution_widget",
    "explore",
    "funnel_widget",
    "journey_map_widget",
    "paths_widget",
    "retention_widget",
)


def __getattr__(name: str) -> Any:
    if name in _WIDGETS:
        from journeylib import widgets

        return getattr(widgets, name)
    raise AttributeError(f"module 'journeylib' has no attribute {name!r}")


__all__ = [
    "Connection",
    "DataError",
    "EngineError",
    "Events",
    "JourneyError",
    "LoadReport",
    "ParameterError",
    "Result",
    "Stages",
    "Workspace",
    "WorkspaceError",
    "__version__",
    "attribution",
    "attribution_widget",
    "compare_funnels",
    "compare_segments",
    "connect",
    "data_quality",
    "datasets",
    "drivers",
    "drop_off",
    "explore",
    "funnel",
    "funnel_widget",
    "journey_map",
    "journey_map_widget",
    "next_steps",
    "open",
    "paths",
    "paths_widget",
    "personas",
    "predict_next",
    "previous_steps",
    "read_events",
    "retention",
    "retention_widget",
    "stage_of",
    "stages",
    "step_matrix",
    "time_to_convert",
    "transitions",
    "trended_funnel",
]
