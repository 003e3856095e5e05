"""Each unit's cleaned sequence of events, and the path summary over it.

A unit (a person, or a session with ``unit="session"``) has its events in
``(event_time, event_id)`` order, each name first renamed by the ``rename``
rules (regex -> group name, the first matching rule wins, compiled to a
``CASE`` of Ibis literals), then consecutive repeats collapsed into one
(``collapse_repeats``), then numbered 0, 1, 2... (``pos``). Paths, transitions,
next-step prediction and segment comparisons all read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from journeylib.core.errors import ParameterError
from journeylib.core.spec import Spec, check_value
from journeylib.core.sql import regex_error
from journeylib.model.events import Events, Unit
from journeylib.model.labels import ELLIPSIS, OTHER, SEPARATOR


@dataclass(frozen=True)
class SequenceSpec(Spec):
    """How each unit's sequence is cleaned: the unit, repeats collapsed, names renamed.

    The analyses over sequences (paths, trees, step matrices, transitions,
    next-step prediction) extend it with their own parameters.

    >>> SequenceSpec(rename={"^view_": "view"}).params()
    {'unit': 'user', 'collapse_repeats': True, 'rename': {'^view_': 'view'}}
    """

    unit: Unit = "user"
    collapse_repeats: bool = True
    rename: Mapping[str, str] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "rename", dict(rename_rules(self.rename)))

    @property
    def rules(self) -> list[tuple[str, str]]:
        """The checked rename rules, (pattern, group) in order."""
        return list((self.rename or {}).items())

    def sequence(self, ev: Events) -> ir.Table:
        """Each unit's cleaned sequence under this spec (:func:`clean_sequence`)."""
        return clean_sequence(
            ev, unit=self.unit, collapse_repeats=self.collapse_repeats, rename=self.rename
        )


def clean_sequence(
    ev: Events,
    *,
    unit: str = "user",
    collapse_repeats: bool = True,
    rename: Mapping[str, str] | None = None,
) -> ir.Table:
    """Each unit's cleaned events: ``unit``, ``event``, ``t``, ``event_id``, ``pos`` (0-based).

    Events are ordered by ``(event_time, event_id)``; names are renamed, then
    consecutive repeats collapsed (when asked), then ``pos`` numbers them.
    Events without a unit (no user id, or no session id) are left out.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,view_1,2024-01-01T10:00:00Z\\na,view_2,2024-01-01T10:01:00Z\\n"
    ...     "a,buy,2024-01-01T10:02:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> seq = clean_sequence(ws.events(), rename={"^view": "view"})
    >>> ws.events().engine.run(seq.order_by("pos"))[["event", "pos"]].values.tolist()
    [['view', 0], ['buy', 1]]
    """
    rows, order = sequence_rows(ev, unit=unit, collapse_repeats=collapse_repeats, rename=rename)
    numbered = rows.mutate(
        pos=ibis.row_number().over(group_by="unit", order_by=order).cast("int64")
    )
    return numbered.select("unit", "event", "t", "event_id", "pos")


def sequence_rows(
    ev: Events,
    *,
    unit: str = "user",
    collapse_repeats: bool = True,
    rename: Mapping[str, str] | None = None,
) -> tuple[ir.Table, list[str]]:
    """The cleaned events before numbering, and the columns that order them within a unit.

    Without ``collapse_repeats`` the order is ``(t, event_id)``. With it, the
    pass that finds repeats (``lag`` over ``(t, event_id)``) also numbers the
    raw events (``raw``, in the same window, so in the same sort), and the
    kept rows are ordered by that integer: the same order, without sorting on
    the ``event_id`` text a second time (ordering by a text key costs about
    twice an integer one in DuckDB). Callers add their window functions over
    ``group_by="unit", order_by=order``, several in one pass where they can.
    """
    check_value("unit", unit, Unit)
    rules = rename_rules(rename)
    t = ev.table
    key = t.user_id if unit == "user" else t.session_id
    rows = t.filter([key.notnull(), t.event_time.notnull(), t.event_name.notnull()]).select(
        unit=key.cast("string"),
        event=renamed(t.event_name, rules),
        t=t.event_time,
        event_id=t.event_id,
    )
    order = ibis.window(group_by="unit", order_by=["t", "event_id"])
    if not collapse_repeats:
        return rows, ["t", "event_id"]
    marked = rows.mutate(
        previous=rows.event.lag().over(order), raw=ibis.row_number().over(order).cast("int64")
    )
    kept = marked.filter(marked.previous.isnull() | (marked.previous != marked.event))
    return kept.drop("previous"), ["raw"]


def rename_rules(rename: Mapping[str, str] | None) -> list[tuple[str, str]]:
    """The rename rules (pattern, group), each pattern checked to be a valid regular expression.

    Examples
    --------
    >>> rename_rules({"^view_": "view"})
    [('^view_', 'view')]
    >>> rename_rules({"[": "x"})
    Traceback (most recent call last):
    journeylib.core.errors.ParameterError: ...
    """
    if rename is None:
        return []
    if not isinstance(rename, Mapping):
        raise ParameterError(
            "rename", rename, reason="Give a mapping of regular expression to group name."
        )
    rules = []
    for pattern, group in rename.items():
        if not isinstance(pattern, str) or not isinstance(group, str) or not pattern:
            raise ParameterError(
                "rename", pattern, reason="Patterns and group names must be non-empty text."
            )
        problem = regex_error(pattern)
        if problem:
            raise ParameterError(
                "rename",
                pattern,
                reason=f"Not a regular expression DuckDB's RE2 accepts: {problem}.",
            )
        rules.append((pattern, group))
    return rules


def renamed(name: ir.StringValue, rules: list[tuple[str, str]]) -> ir.StringValue:
    """A CASE over the rules (patterns and groups as literals, never spliced SQL)."""
    if not rules:
        return name
    cases = [
        (name.re_search(ibis.literal(pattern, type="string")), ibis.literal(group, type="string"))
        for pattern, group in rules
    ]
    renamed: ir.StringValue = ibis.cases(*cases, else_=name)
    return renamed


def first_position(seq: ir.Table, name: str, column: str) -> ir.Table:
    """``unit`` and the position of its first ``name`` event, as ``column``."""
    hits = seq.filter(seq.event == name)
    return hits.group_by("unit").aggregate(**{column: hits.pos.min()})


def _path_rows(
    seq: ir.Table, start: str | None, end: str | None, steps: int
) -> tuple[ir.Table, ir.Table]:
    """(rows: ``unit``, ``k``, ``event``, ``shown``; anchors: ``unit``, ``a``).

    ``k`` is the event's slot in the path, 0 to ``steps``: a path reads its
    slots in order, skipping the empty ones (a journey shorter than ``steps``
    before an ``end`` leaves the first slots empty).
    """
    if start is not None and end is not None:
        starts = first_position(seq, start, "a")
        after = seq.join(starts, "unit")
        hits = after.filter([after.event == end, after.pos > after.a])
        spans = hits.group_by(["unit", "a"]).aggregate(b=hits.pos.min())
        inside = seq.join(spans, [seq.unit == spans.unit, seq.pos >= spans.a, seq.pos <= spans.b])
        kept = inside.filter(((inside.pos - inside.a) < steps - 1) | (inside.pos == inside.b))
        kept_rel = kept.pos - kept.a
        key = ibis.ifelse((kept.pos == kept.b) & ((kept.b - kept.a + 1) > steps), steps, kept_rel)
        rows = kept.select(
            unit=kept.unit, k=key.cast("int64"), event=kept.event, shown=ibis.literal(1)
        )
        gaps = spans.filter((spans.b - spans.a + 1) > steps).select(
            "unit",
            k=ibis.literal(steps - 1, type="int64"),
            event=ibis.literal(ELLIPSIS, type="string"),
            shown=ibis.literal(0),
        )
        return ibis.union(rows, gaps, distinct=False), spans.select("unit", "a")
    if start is not None:
        anchors = first_position(seq, start, "a")
        joined = seq.join(anchors, "unit")
        kept = joined.filter([joined.pos >= joined.a, joined.pos < joined.a + steps])
        rows = kept.select("unit", k=kept.pos - kept.a, event=kept.event, shown=ibis.literal(1))
        return rows, anchors
    if end is not None:
        anchors = first_position(seq, end, "a")
        joined = seq.join(anchors, "unit")
        kept = joined.filter([joined.pos <= joined.a, joined.pos > joined.a - steps])
        slot = kept.pos - kept.a + (steps - 1)
        rows = kept.select("unit", k=slot, event=kept.event, shown=ibis.literal(1))
        return rows, anchors
    kept = seq.filter(seq.pos < steps)
    rows = kept.select("unit", k=kept.pos, event=kept.event, shown=ibis.literal(1))
    anchors = seq.select("unit").distinct().mutate(a=ibis.literal(0, type="int64"))
    return rows, anchors


def path_summary(
    seq: ir.Table,
    start: str | None,
    end: str | None,
    steps: int,
    top: int,
    conversion: str | None,
) -> ir.Table:
    """``path``, ``steps``, ``users``, ``converted``, ``rank``: the top paths and one ``other``.

    The engine query behind :func:`paths`, over a :func:`clean_sequence`.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,home,2024-01-01T10:00:00Z\\na,buy,2024-01-01T10:01:00Z\\nb,home,2024-01-01T10:00:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path); ev = ws.events()
    >>> query = path_summary(clean_sequence(ev), "home", None, 2, 5, None)
    >>> ev.engine.run(query.order_by("path"))[["path", "users"]].values.tolist()
    [['home', 1], ['home > buy', 1]]
    """
    rows, anchors = _path_rows(seq, start, end, steps)
    # one conditional aggregate per slot, joined skipping the empty ones: cheaper than
    # collecting (slot, event) structs into a list and sorting it (a third of the query)
    slots = [rows.event.max(where=rows.k == k) for k in range(steps + 1)]
    per_unit = rows.group_by("unit").aggregate(
        path=ibis.literal(SEPARATOR).join(slots),
        steps=rows.shown.sum().cast("int64"),
    )
    if conversion is not None:
        later = seq.join(anchors, "unit")
        done = later.filter([later.event == conversion, later.pos > later.a])
        converted = done.select("unit").distinct().mutate(converted=ibis.literal(1, type="int64"))
        per_unit = per_unit.left_join(converted, "unit").select(
            per_unit, converted=converted.converted.fill_null(0)
        )
    else:
        per_unit = per_unit.mutate(converted=ibis.literal(0, type="int64"))
    grouped = per_unit.group_by(["path", "steps"]).aggregate(
        users=per_unit.count().cast("int64"), converted=per_unit.converted.sum().cast("int64")
    )
    rank = ibis.row_number().over(order_by=[ibis.desc("users"), "path", "steps"])
    ranked = grouped.mutate(rank=rank.cast("int64"))
    inside = ranked.rank < top
    folded = ranked.select(
        path=ibis.ifelse(inside, ranked.path, ibis.literal(OTHER)),
        steps=ibis.ifelse(inside, ranked.steps, ibis.null("int64")),
        users=ranked.users,
        converted=ranked.converted,
        rank=ibis.ifelse(inside, ranked.rank, ibis.literal(top, type="int64")),
    )
    summary = folded.group_by(["rank", "path", "steps"]).aggregate(
        users=folded.users.sum().cast("int64"), converted=folded.converted.sum().cast("int64")
    )
    return summary.order_by("rank")
