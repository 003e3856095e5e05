"""Result: one type that carries the table, the SQL, the params and a chart, and saves them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import journeylib as jl
from journeylib.core.sql import SQL
from journeylib.display.result import Result


def sample() -> Result:
    table = pd.DataFrame({"step": ["view", "buy"], "users": [10, 4]})
    return Result(
        "Funnel",
        table,
        SQL("select 1"),
        {"within": "7d"},
        extras={"matrix": table},
    )


def test_save_by_suffix_writes_what_the_suffix_says(tmp_path):
    result = sample()
    result.save(tmp_path / "t.csv")
    result.save(tmp_path / "t.parquet")
    result.save(tmp_path / "q.sql")
    assert pd.read_csv(tmp_path / "t.csv").users.tolist() == [10, 4]
    assert pd.read_parquet(tmp_path / "t.parquet").step.tolist() == ["view", "buy"]
    assert (tmp_path / "q.sql").read_text() == "select 1\n"


def test_save_to_a_folder_writes_everything(tmp_path):
    folder = sample().save(tmp_path / "out")
    assert sorted(p.name for p in folder.iterdir()) == [
        "matrix.csv",
        "params.json",
        "query.sql",
        "table.csv",
        "table.parquet",
    ]
    assert json.loads((folder / "params.json").read_text()) == {"within": "7d"}


def test_html_save_is_an_offline_chart(tmp_path):
    path = sample().save(tmp_path / "chart.html")
    html = path.read_text()
    assert "vega" in html and "cdn.jsdelivr" not in html


def test_default_chart_is_a_bar_of_the_first_numeric_column():
    spec = sample().chart().to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["field"] == "users"
    assert spec["title"] == "Funnel"


def test_sql_renders_as_a_code_block_and_result_as_html():
    result = sample()
    assert result.sql._repr_markdown_() == "```sql\nselect 1\n```"
    assert "<details><summary>SQL</summary><pre>select 1</pre>" in result.to_html()


def test_display_bundle_carries_html_with_svg_chart_and_the_table_as_data():
    bundle = sample()._repr_mimebundle_()
    assert "<svg" in bundle["text/html"] and "<table" in bundle["text/html"]
    record = bundle["application/vnd.journeylib.display.result+json"]
    assert record["table"] == {"columns": ["step", "users"], "data": [["view", 10], ["buy", 4]]}
    assert record["params"] == {"within": "7d"} and record["sql"] == "select 1"


ANALYSES = {
    "funnel": lambda ev: jl.funnel(ev, ["view_item", "purchase"]),
    "time_to_convert": lambda ev: jl.time_to_convert(ev, ["view_item", "purchase"]),
    "trended_funnel": lambda ev: jl.trended_funnel(ev, ["view_item", "purchase"]),
    "drivers": lambda ev: jl.drivers(ev, ["view_item", "purchase"]),
    "paths": lambda ev: jl.paths(ev, start="view_item"),
    "next_steps": lambda ev: jl.next_steps(ev, "view_item"),
    "step_matrix": lambda ev: jl.step_matrix(ev, anchor="view_item"),
    "transitions": lambda ev: jl.transitions(ev),
    "retention": lambda ev: jl.retention(ev, by="channel"),
    "journey_map": lambda ev: jl.journey_map(ev),
    "stage_of": lambda ev: jl.stage_of(ev),
    "attribution": lambda ev: jl.attribution(ev, models=["linear", "time_decay"]),
    "predict_next": lambda ev: jl.predict_next(ev, ["view_item"]),
}


@pytest.fixture(scope="module")
def sample_events() -> jl.Events:
    return jl.datasets.sample_or("").events()


@pytest.mark.parametrize("name", list(ANALYSES))
def test_every_analysis_shows_its_sql_in_other_dialects(sample_events, name) -> None:
    sql = ANALYSES[name](sample_events).sql
    assert sql.queries, "built from Ibis expressions"
    spark = sql.to("spark")
    assert "`" in spark and '"' not in spark.replace('\\"', "")  # Spark quotes with backticks
    for dialect in ("bigquery", "snowflake", "trino"):
        text = "\n".join(line for line in sql.to(dialect).splitlines() if not line.startswith("--"))
        assert text.lstrip().upper().startswith(("SELECT", "WITH"))


def test_a_channel_has_the_same_colour_in_every_chart(sample_events) -> None:
    def colours(spec: dict) -> dict[str, str]:
        scale = spec["encoding"]["color"]["scale"]
        return dict(zip(scale["domain"], scale["range"], strict=True))

    funnel = jl.funnel(sample_events, ["view_item", "purchase"], by="channel").chart().to_dict()
    funnel = funnel["layer"][0]
    credit = jl.attribution(sample_events, models=["markov"]).view("removal_effects")
    removal = credit.chart().to_dict()
    by_funnel, by_removal = colours(funnel), colours(removal)
    assert set(by_funnel) == set(by_removal) >= {"Email", "Paid Search", "Paid Social"}
    assert by_funnel == by_removal
    assert len(set(by_funnel.values())) == len(by_funnel)  # no two channels share a colour


class _Kernel:
    kernel = object()  # what IPython's shell has inside a Jupyter kernel


def _displayed(monkeypatch, *, kernel: bool) -> list[tuple[dict, dict]]:
    """What ``display(result)`` sends, as (bundle, metadata) pairs."""
    import IPython
    import IPython.display

    sent: list[tuple[dict, dict]] = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: _Kernel() if kernel else None)
    monkeypatch.setattr(
        IPython.display,
        "display",
        lambda bundle, raw, metadata=None: sent.append((bundle, metadata or {})),
    )
    sample()._ipython_display_()
    return sent


def test_in_a_kernel_the_chart_is_vega_for_jupyterlab_with_svg_beside_it(monkeypatch):
    from journeylib.display.result import MIMETYPE, VEGA_MIMETYPE

    heading, chart, table = _displayed(monkeypatch, kernel=True)
    assert heading[0]["text/html"] == "<h4>Funnel</h4>"
    vega = chart[0][VEGA_MIMETYPE]
    assert vega["$schema"].startswith("https://vega.github.io/schema/vega/")
    assert any(mark.get("encode", {}).get("update", {}).get("tooltip") for mark in vega["marks"])
    assert chart[0]["image/svg+xml"].startswith("<svg")  # for viewers without Vega
    assert chart[1] == {VEGA_MIMETYPE: {"embed_options": {"renderer": "svg"}}}
    assert ">10</td>" in table[0]["text/html"] and "select 1" in table[0]["text/html"]
    assert table[0][MIMETYPE]["table"]["data"] == [["view", 10], ["buy", 4]]  # reports find it


def test_a_report_and_a_terminal_get_the_static_bundle(monkeypatch):
    from journeylib.display.result import VEGA_MIMETYPE

    ((outside, _),) = _displayed(monkeypatch, kernel=False)
    assert "<svg" in outside["text/html"] and VEGA_MIMETYPE not in outside
    with jl.option_context(min_cell_size=5):
        ((report, _),) = _displayed(monkeypatch, kernel=True)
    assert "<svg" in report["text/html"] and VEGA_MIMETYPE not in report
    assert "suppressed" in report["text/html"]  # the shared table, small cells blanked
