"""Widgets re-run the analysis on a change, redraw in place, and show errors as messages."""

from __future__ import annotations

import ipywidgets as w
import pandas as pd

import journeylib as jl
from journeylib.result import Result
from journeylib.sql import SQL
from journeylib.widgets import AnalysisPanel


def steps(within: str) -> Result:
    if not within.endswith("d"):
        raise jl.ParameterError("within", within, reason="Give days, e.g. '7d'.")
    days = int(within[:-1])
    table = pd.DataFrame({"step": ["view", "buy"], "users": [10, min(10, days)]})
    return Result(f"Funnel within {within}", table, SQL(f"select {days}"), {"within": within})


def test_a_change_reruns_and_redraws_and_an_error_is_a_message():
    panel = AnalysisPanel("Funnel", steps, {"within": w.Text(value="3d")})
    assert panel.chart.spec["title"] == "Funnel within 3d"
    assert "<td>3</td>" in panel.table.value

    panel.controls["within"].value = "7d"
    assert panel.chart.spec["title"] == "Funnel within 7d"
    assert panel.result is not None and panel.result.table.users.tolist() == [10, 7]
    assert "select 7" in panel.sql.value

    panel.controls["within"].value = "seven"
    assert "Invalid value &#x27;seven&#x27; for parameter &#x27;within&#x27;" in panel.status.value
    assert panel.chart.spec["title"] == "Funnel within 7d"  # the last good chart stays
