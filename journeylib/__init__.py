"""journeylib: customer-journey analytics over DuckDB, for notebooks and reports.

Examples
--------
>>> import journeylib as jl
>>> ws = jl.open()
>>> ws.info()["events"]
0
"""

from typing import Any

from journeylib.analyses.attribution import attribution
from journeylib.analyses.drivers import drivers
from journeylib.analyses.drop_off import drop_off
from journeylib.analyses.funnel_stats import time_to_convert, trended_funnel
from journeylib.analyses.funnels import funnel
from journeylib.analyses.journey_map import journey_map, stage_of
from journeylib.analyses.paths import next_steps, paths, previous_steps, step_matrix
from journeylib.analyses.personas import personas
from journeylib.analyses.prediction import predict_next
from journeylib.analyses.retention import retention
from journeylib.analyses.transitions import transitions
from journeylib.comparisons.funnels import compare_funnels
from journeylib.comparisons.segments import compare_segments
from journeylib.core.errors import (
    DataError,
    EngineError,
    JourneyError,
    ParameterError,
    WorkspaceError,
)
from journeylib.core.options import option_context, options
from journeylib.display.result import Result
from journeylib.loading import datasets
from journeylib.loading.pipeline import LoadReport
from journeylib.loading.quality import data_quality
from journeylib.loading.remote import Connection, connect, read_events
from journeylib.loading.workspace import Workspace, open
from journeylib.model import stages
from journeylib.model.events import Events
from journeylib.model.stages import Stages

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
        from journeylib.faces import widgets

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
    "option_context",
    "options",
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
