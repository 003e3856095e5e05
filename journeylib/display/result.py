"""The one result type every analysis returns.

A :class:`Result` carries the table (pandas), the exact SQL that produced it,
the normalised parameters, and a function that draws its default chart.
"""

from __future__ import annotations

import html
import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from journeylib.core.errors import ParameterError
from journeylib.core.options import options
from journeylib.core.privacy import USUAL_COUNTS
from journeylib.core.sql import SQL
from journeylib.display.tables import table_html

if TYPE_CHECKING:
    import altair as alt


@dataclass(frozen=True)
class Result:
    """An analysis result: ``.table``, ``.chart()``, ``.sql``, ``.params``, ``.save()``.

    Examples
    --------
    >>> r = Result("demo", pd.DataFrame({"step": ["a"], "users": [3]}), SQL("select 1"), {"n": 1})
    >>> r.table.users.tolist()
    [3]
    >>> r.params["n"]
    1
    """

    name: str
    table: pd.DataFrame
    sql: SQL
    params: Mapping[str, Any] = field(default_factory=dict)
    draw: Callable[[Result], alt.TopLevelMixin] | None = None
    #: further tables worth keeping beside the main one (e.g. a transition matrix)
    extras: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    #: other charts of the same analysis, by name (see :meth:`view`)
    views: Mapping[str, Callable[[Result], alt.TopLevelMixin]] = field(default_factory=dict)
    #: what a reader needs to read the table right: why it is empty, a cap it hit
    notes: tuple[str, ...] = ()
    #: the analysis's stable key (``funnel``, ``paths``...), set by its registration
    slug: str = ""
    #: the columns that count people, set by its registration (a result made by hand
    #: has the usual names): a plain name in the table and every extra,
    #: ``extra.column`` in that extra only
    counts: tuple[str, ...] = USUAL_COUNTS

    def chart(self) -> alt.TopLevelMixin:
        """The default Altair chart of this result (a table chart when none is defined)."""
        if self.draw is None:
            from journeylib.display.charts import table_chart

            return table_chart(self)
        return self.draw(self)

    def view(self, name: str) -> Result:
        """Another view of this analysis as a Result: that chart and its table.

        The table is the extra table of that name, or the main table when there
        is none.

        Examples
        --------
        >>> r = Result("demo", pd.DataFrame({"a": [1]}), SQL(""), extras={"detail": pd.DataFrame({"b": [2]})},
        ...            views={"detail": lambda result: result.chart()})
        >>> v = r.view("detail")
        >>> v.name, v.table.b.tolist()
        ('demo: detail', [2])
        >>> r.view("other")
        Traceback (most recent call last):
        journeylib.core.errors.ParameterError: Invalid value 'other' for parameter 'view'. Allowed values: detail.
        """
        if name not in self.views:
            raise ParameterError("view", name, allowed=sorted(self.views))
        draw = self.views[name]
        return Result(
            f"{self.name}: {name.replace('_', ' ')}",
            self.extras.get(name, self.table),
            self.sql,
            self.params,
            draw=lambda _: draw(self),
            notes=self.notes,
            slug=f"{self.slug}_{name}" if self.slug else "",
        )

    def save(self, path: str | Path) -> Path:
        """Write the result in the format its path's suffix names.

        ``.csv``, ``.parquet``, ``.json`` write the table, ``.sql`` the query,
        ``.html`` the chart (offline); any other path becomes a folder holding
        ``table.csv``, ``table.parquet``, ``query.sql`` and ``params.json``.
        """
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix == ".csv":
            self.table.to_csv(target, index=False)
        elif suffix == ".parquet":
            self.table.to_parquet(target, index=False)
        elif suffix == ".json":
            self.table.to_json(target, orient="records", date_format="iso", indent=1)
        elif suffix == ".sql":
            target.write_text(str(self.sql) + "\n", encoding="utf-8")
        elif suffix == ".html":
            self.chart().save(str(target), format="html", inline=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            self.table.to_csv(target / "table.csv", index=False)
            self.table.to_parquet(target / "table.parquet", index=False)
            (target / "query.sql").write_text(str(self.sql) + "\n", encoding="utf-8")
            (target / "params.json").write_text(
                json.dumps(dict(self.params), indent=1, default=str), encoding="utf-8"
            )
            for name, extra in self.extras.items():
                extra.to_csv(target / f"{name}.csv", index=False)
        return target

    def to_html(self) -> str:
        """The result as HTML: title, chart (inline SVG, no network), table, collapsible SQL.

        The table shows percentages, durations and thousands as people read them
        (:func:`journeylib.display.tables.table_html`); ``.table`` keeps the numbers.
        """
        return f"{self._heading_html()}{self.chart_svg()}{self._table_html()}"

    def _heading_html(self) -> str:
        """The title and the notes."""
        notes = "".join(f"<p><strong>Note:</strong> {html.escape(n)}</p>" for n in self.notes)
        return f"<h4>{html.escape(self.name)}</h4>{notes}"

    def _table_html(self) -> str:
        """The formatted table and the collapsible SQL."""
        sql = html.escape(str(self.sql))
        return (
            f"{table_html(self.table, max_rows=50)}"
            f"<details><summary>SQL</summary><pre>{sql}</pre></details>"
        )

    def chart_svg(self) -> str:
        """The default chart as SVG markup, or a short note when it cannot be drawn."""
        import vl_convert

        try:
            return str(vl_convert.vegalite_to_svg(self.chart().to_dict()))
        except Exception as err:  # a chart must never hide the table
            return f"<p><em>chart unavailable: {html.escape(str(err))}</em></p>"

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready record of the result (name, slug, params, sql, table), for reports."""
        return {
            "name": self.name,
            "slug": self.slug,
            "params": json.loads(json.dumps(dict(self.params), default=str)),
            "sql": str(self.sql),
            "notes": list(self.notes),
            "table": json.loads(self.table.to_json(orient="split", index=False, date_format="iso")),
        }

    def counts_in(self, extra: str = "") -> list[str]:
        """The people-count columns of the table (``extra=""``) or of the extra of that name.

        Examples
        --------
        >>> r = Result("demo", pd.DataFrame(), SQL(""), counts=("users", "paths.nulls"))
        >>> r.counts_in(), r.counts_in("paths")
        (['users'], ['users', 'nulls'])
        """
        plain = [c for c in self.counts if "." not in c]
        return plain + [
            c.split(".", 1)[1] for c in self.counts if extra and c.startswith(f"{extra}.")
        ]

    def shared(self, min_cell_size: int = 5, *, show_user_ids: bool = False) -> Result:
        """The result as a shared report shows it: no user ids, small cells suppressed.

        A row is suppressed when one of the result's ``counts`` (the people
        columns its analysis declares) is small; see
        :func:`journeylib.core.privacy.shared_table`. The extras are shared the
        same way, and the charts leave the suppressed rows out.

        Examples
        --------
        >>> table = pd.DataFrame({"step": ["a", "b"], "users": [30, 3]})
        >>> r = Result("demo", table, SQL(""))
        >>> r.shared().table.suppressed.tolist()
        [False, True]
        """
        from journeylib.core.privacy import shared_table, visible

        def share(frame: pd.DataFrame, extra: str = "") -> pd.DataFrame:
            counts = self.counts_in(extra)
            return shared_table(frame, min_cell_size, counts=counts, show_user_ids=show_user_ids)

        def drawn(
            draw: Callable[[Result], alt.TopLevelMixin] | None,
        ) -> Callable[[Result], alt.TopLevelMixin]:
            def chart(result: Result) -> alt.TopLevelMixin:
                shown = replace(
                    result,
                    table=visible(result.table),
                    extras={name: visible(extra) for name, extra in result.extras.items()},
                    draw=draw,
                )
                return shown.chart()

            return chart

        return replace(
            self,
            table=share(self.table),
            params={**self.params, "min_cell_size": min_cell_size},
            extras={name: share(extra, name) for name, extra in self.extras.items()},
            draw=drawn(self.draw),
            views={name: drawn(view) for name, view in self.views.items()},
        )

    def chart_bundle(self) -> dict[str, Any]:
        """The default chart as Jupyter draws it: Vega, and SVG for viewers without Vega.

        The Vega is interactive, with tooltips, drawn by JupyterLab itself, offline.

        Examples
        --------
        >>> r = Result("demo", pd.DataFrame({"step": ["a"], "users": [3]}), SQL(""))
        >>> sorted(r.chart_bundle())
        ['application/vnd.vega.v5+json', 'image/svg+xml', 'text/plain']
        """
        import vl_convert

        try:
            spec = self.chart().to_dict()
            return {
                VEGA_MIMETYPE: vl_convert.vegalite_to_vega(spec),
                "image/svg+xml": vl_convert.vegalite_to_svg(spec),
                "text/plain": f"<chart: {self.name}>",
            }
        except Exception as err:  # a chart must never hide the table
            return {"text/plain": f"chart unavailable: {err}"}

    def _ipython_display_(self) -> None:
        """Shown in a Jupyter kernel: the title and notes, the chart, the table and the SQL.

        The chart is Vega as JupyterLab draws it (tooltips, offline, kept in the
        saved notebook).

        Inside a report run, or outside a kernel, the static bundle of
        :meth:`_repr_mimebundle_` (the chart as inline SVG).
        """
        from IPython import get_ipython
        from IPython.display import display as untyped

        display = cast("Callable[..., None]", untyped)

        if options.sharing() is not None or not hasattr(get_ipython(), "kernel"):
            display(self._repr_mimebundle_(), raw=True)
            return
        display({"text/plain": self.name, "text/html": self._heading_html()}, raw=True)
        # SVG rather than vega-embed's canvas: sharp at any zoom, text a reader can select
        display(self.chart_bundle(), raw=True, metadata={VEGA_MIMETYPE: {"embed_options": SVG}})
        display(
            {
                "text/plain": self.table.to_string(max_rows=20),
                "text/html": self._table_html(),
                MIMETYPE: self.to_record(),
            },
            raw=True,
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        rules = options.sharing()
        shown = self if rules is None else self.shared(rules[0], show_user_ids=rules[1])
        return {
            "text/plain": "\n".join(
                [
                    shown.name,
                    *(f"Note: {n}" for n in shown.notes),
                    shown.table.to_string(max_rows=20),
                ]
            ),
            "text/html": shown.to_html(),
            MIMETYPE: shown.to_record(),
        }


def lazy_chart(module: str, name: str) -> Callable[[Result], alt.TopLevelMixin]:
    """A Result's chart function ``name`` from ``journeylib.display.charts.<module>``, imported when drawn.

    Altair takes seconds to import; an analysis that is never drawn (the CLI, a
    benchmark, a scheduled table) never loads it.

    Examples
    --------
    >>> days = pd.DataFrame({"day": pd.to_datetime(["2024-01-01"]), "events": [3], "users": [1]})
    >>> r = Result("q", pd.DataFrame(), SQL(""), extras={"events_per_day": days},
    ...            draw=lazy_chart("quality", "events_per_day_chart"))
    >>> r.chart().mark.type
    'line'
    """

    def draw(result: Result) -> alt.TopLevelMixin:
        chart: Callable[[Result], alt.TopLevelMixin] = getattr(
            importlib.import_module(f"journeylib.display.charts.{module}"), name
        )
        return chart(result)

    return draw


#: The mimetype under which a displayed Result carries its data, so a report
#: run can collect every result table from the executed notebook.
MIMETYPE = "application/vnd.journeylib.display.result+json"
#: the mimetype JupyterLab draws with its own Vega (no network, tooltips on hover)
VEGA_MIMETYPE = "application/vnd.vega.v5+json"
SVG = {"renderer": "svg"}
