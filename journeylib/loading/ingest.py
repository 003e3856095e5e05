"""Event-specific load steps: event ids, channels, identity stitching, sessions.

:func:`load_event_file` runs a reader's staged SELECT through the generic
pipeline of :mod:`journeylib.loading.pipeline`, after wrapping it so that every row has
an ``event_id`` (the export's, or a hash of source, user, time, name and
properties), a ``user_id`` (the anonymous id until the person identifies) and
a ``channel`` (from the channel rules when the export has none). After the
insert it records new identities, moves the anonymous events of identified
people to them, and derives sessions (``auto:<user>:<start ms>``) where the
export has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.core.schema import EVENT_COLUMNS
from journeylib.core.sql import literal
from journeylib.loading import layout, pipeline
from journeylib.loading.channels import ChannelRule, case_sql
from journeylib.loading.sources import ReadOptions, Staged, event_readers, sniff
from journeylib.loading.sources.common import zone_problem

_INSERTED = [c for c in EVENT_COLUMNS if c != "origin"]


def load_event_file(
    engine: Engine,
    path: Path,
    *,
    source: str,
    options: ReadOptions,
    rules: Sequence[ChannelRule],
    session_timeout_us: int,
) -> pipeline.FileReport:
    """Load one event export into ``events`` (see the module docstring)."""
    reader = event_readers()[source]

    def after(engine: Engine) -> None:
        stitched = _stitch(engine, str(path))
        sessionize(engine, session_timeout_us, stitched)

    return pipeline.load_file(
        engine,
        path,
        source=source,
        target="events",
        staged=lambda: _with_ids(reader(engine, path, options), source),
        columns=_INSERTED,
        key=["event_id"],
        checks=_checks,
        shape=lambda engine: _canonical(engine, source, rules),
        store=layout.stored,
        after_insert=after,
        notes=lambda engine: _time_notes(engine, options.tz) + _traffic_notes(engine, source),
        advice=lambda: sniff.advice(path, source),
    )


def _with_ids(plan: Staged, source: str) -> Staged:
    """The reader's rows with their properties as a VARIANT, and event and user ids derived.

    The properties are parsed into the VARIANT ``events`` stores once, here
    (ADR 0037), and the hashed id (an MD5 over their canonical text, the
    costliest expression of a load) is derived from it while staging, so that
    neither is computed again by each step that reads ``_checked``.
    """
    parsed = f"select r.* replace ({layout.as_variant('r.properties')} as properties) from ({plan.sql}) r"
    hashed = content_id(
        literal(source),
        "coalesce(s.user_id, s.anonymous_id)",
        "s.event_time",
        "s.event_name",
        "s.properties",
    )
    sql = (
        f"select s.* replace (coalesce(s.event_id, {hashed}) as event_id,"
        f" coalesce(s.user_id, s.anonymous_id) as user_id) from ({parsed}) s"
    )
    return replace(plan, sql=sql)


#: a JSON number token written with a zero fraction (``2.0``), skipping string tokens
_ZERO_FRACTION = r"""("(?:[^"\\]|\\.)*")|(-?[0-9]+)\.0([,}\]])"""


def canonical_text(variant: str) -> str:
    """SQL of the canonical text of the VARIANT ``variant``: what an event's content id hashes.

    Keys sorted at every depth and strings written one way (a ``VARIANT``
    keeps object keys sorted), and numbers with a zero fraction written as
    integers (``2.0`` and ``2e0`` as ``2``), so that the same content exported
    with its keys or parameters in another order, or its numbers typed
    otherwise, reads the same.

    Examples
    --------
    >>> from journeylib.core.engine import Engine
    >>> text = '{"b":2.0,"a":{"y":1,"x":"1.0,"}}'
    >>> Engine.connect(None).scalar(f"select {canonical_text(layout.as_variant('$1'))}", [text])
    '{"a":{"x":"1.0,","y":1},"b":2}'
    """
    return integral_numbers(f"cast(cast({variant} as JSON) as VARCHAR)")


def integral_numbers(text: str) -> str:
    """SQL of the JSON text ``text`` with numbers of zero fraction written as integers.

    Examples
    --------
    >>> from journeylib.core.engine import Engine
    >>> Engine.connect(None).scalar(f"select {integral_numbers('$1')}", ['{"a":2.0,"b":"2.0,"}'])
    '{"a":2,"b":"2.0,"}'
    """
    # the text thrice: DuckDB computes a repeated expression once
    return (
        f"case when regexp_matches({text}, '\\.0[,}}\\]]')"
        f" then regexp_replace({text}, '{_ZERO_FRACTION}', '\\1\\2\\3', 'g') else {text} end"
    )


def content_id(source: str, identity: str, time: str, name: str, variant: str) -> str:
    """SQL of an event's content id from SQL expressions of its parts (ADR 0035).

    An MD5 over the source, the person (user or anonymous id), the time in
    microseconds, the name and the canonical text of the properties, given as
    a VARIANT (:func:`canonical_text`): the id of an event whose export gives
    none, the key that makes re-loads, re-exports and overlapping exports load
    each event once.
    """
    return (
        f"md5(concat_ws(chr(31), {source}, {identity}, cast(epoch_us({time}) as varchar),"
        f" {name}, {canonical_text(variant)}))"
    )


def _canonical(engine: Engine, source: str, rules: Sequence[ChannelRule]) -> str:
    """Derive channels over ``_stage`` (event and user ids come from :func:`_with_ids`).

    Channels are computed once per distinct (source, medium, campaign) and
    joined back: a handful of regular expressions per combination, not per row.
    """
    channel, params = case_sql(
        rules, {"source": "source", "medium": "medium", "campaign": "campaign"}
    )
    engine.execute(
        f"create or replace temp table _channels as select source, medium, campaign, {channel} as _channel"
        " from (select distinct source, medium, campaign from _stage where channel is null)",
        params,
    )
    return (
        "select s.* replace (coalesce(s.channel, c._channel) as channel)"
        " from _stage s left join _channels c on s.source is not distinct from c.source"
        " and s.medium is not distinct from c.medium and s.campaign is not distinct from c.campaign"
    )


def _checks(plan: Staged) -> list[pipeline.Check]:
    def name(column: str) -> str:
        return plan.fields.get(column, column)

    unknown_zone, zone_reason = zone_problem("_time_raw")

    return [
        pipeline.Check(
            name("event_time"),
            "event_time is null and _time_raw is null",
            literal("missing timestamp"),
        ),
        pipeline.Check(name("event_time"), f"event_time is null and {unknown_zone}", zone_reason),
        pipeline.Check(
            name("event_time"),
            "event_time is null",
            literal("not a valid timestamp: ") + " || _time_raw",
        ),
        pipeline.Check(
            name("event_name"), "coalesce(trim(event_name), '') = ''", literal("missing event name")
        ),
        pipeline.Check(name("user_id"), "user_id is null", literal("no user id or anonymous id")),
        pipeline.Check(
            name("revenue"),
            "revenue is null and _revenue_raw is not null and trim(_revenue_raw) <> ''",
            literal("not a number: ") + " || _revenue_raw",
        ),
    ]


def _stitch(engine: Engine, origin: str) -> list[str]:
    """Record identities seen in this load and move anonymous events; return stitched users.

    Each identity the file shows is noted in ``identity_origins`` with the
    file, and whether this file created it, so that unloading the file can
    undo exactly the identities no other file shows.
    """
    engine.execute(
        "insert into identity_origins select distinct anonymous_id, user_id, ?,"
        " anonymous_id not in (select anonymous_id from identities)"
        " from _checked where _reason is null and anonymous_id is not null"
        " and user_id <> anonymous_id",
        [origin],
    )
    engine.execute(
        "insert into identities select anonymous_id, arg_min(user_id, event_time), min(event_time)"
        " from _checked where _reason is null and anonymous_id is not null"
        " and user_id <> anonymous_id"
        " and anonymous_id not in (select anonymous_id from identities) group by anonymous_id"
    )
    stitched = [
        row[0]
        for row in engine.rows(
            "select distinct i.user_id from events e join identities i using (anonymous_id)"
            " where e.user_id = e.anonymous_id"
        )
    ]
    if stitched:
        layout.extend(engine, layout.PEOPLE, "select user_id from identities")
        engine.execute(
            "update events set user_id = i.user_id, person_key = p.person_key"
            " from identities i join people p on p.user_id = i.user_id"
            " where events.anonymous_id = i.anonymous_id and events.user_id = events.anonymous_id"
        )
    return stitched


def sessionize(engine: Engine, timeout_us: int, touched: list[str]) -> None:
    """Derive sessions for events without one, and redo the derived ones of ``touched`` users."""
    engine.execute(
        "create or replace temp table _session_users as"
        " select distinct user_id from events where session_id is null"
        " union select unnest(?::varchar[])",
        [touched],
    )
    if not engine.scalar("select count(*) from _session_users"):
        return
    engine.execute(
        "update events set session_id = s.session_id from ("
        " select event_id, 'auto:' || user_id || ':' || epoch_ms(max(case when starts then event_time end)"
        "  over (partition by user_id order by event_time, event_id rows unbounded preceding)) as session_id"
        " from (select event_id, user_id, event_time,"
        "  coalesce(epoch_us(event_time) - epoch_us(lag(event_time) over w) > ?, true) as starts"
        "  from events where user_id in (select user_id from _session_users)"
        "  and (session_id is null or session_id like 'auto:%')"
        "  window w as (partition by user_id order by event_time, event_id))"
        ") s where events.event_id = s.event_id and events.session_id is distinct from s.session_id",
        [timeout_us],
    )
    engine.execute("drop table _session_users")


def _time_notes(engine: Engine, tz: str | None) -> list[str]:
    naive = engine.scalar("select count(*) from _checked where _reason is null and _time_naive")
    if not naive:
        return []
    if tz:
        return [f"{naive} timestamps had no time zone and were read as {tz}"]
    return [
        f"{naive} timestamps had no time zone and were taken as UTC (pass tz= to choose another zone)"
    ]


#: property keys that likely hold a touch's traffic, and the mapping key each suggests
_TRAFFIC_WORDS = (
    ("channel", "channel"),
    ("medium", "medium"),
    ("campaign", "campaign"),
    ("source", "source"),
    ("utm", "source"),
    ("referr", "source"),
)


def _traffic_notes(engine: Engine, source: str) -> list[str]:
    """A note when no loaded row has a source, medium, campaign or channel: every touch is Direct.

    Cheap on the usual file: the distinct (source, medium, campaign) of rows
    without a channel are already in ``_channels``; only when they are all
    empty is the stage scanned for a channel.
    """
    if engine.scalar(
        "select count(*) from _channels"
        " where source is not null or medium is not null or campaign is not null"
    ) or engine.scalar(
        "select count(*) from (select 1 from _stage where channel is not null limit 1)"
    ):
        return []
    if not engine.scalar("select count(*) from (select 1 from _stage limit 1)"):
        return []  # an empty file: said as such
    note = (
        "no row has a source, medium, campaign or channel, so every event counts as Direct"
        " and attribution has nothing to credit but Direct"
    )
    if source not in {"csv", "parquet"}:
        return [note + " (the export carries no traffic fields)"]
    keys = [
        str(k)
        for k in engine.scalar(
            "select list_sort(list_distinct(flatten(list(variant_keys(properties)))))"
            " from (select properties from _stage limit 1000)"
        )
        or []
    ]
    found = {
        key: next(target for word, target in _TRAFFIC_WORDS if word in key.lower())
        for key in keys
        if any(word in key.lower() for word, _ in _TRAFFIC_WORDS)
    }
    example = dict(list({target: key for key, target in found.items()}.items())[:2]) or {
        "source": "utm_source",
        "medium": "utm_medium",
    }
    lines = ", ".join(f"'{target}: {key}'" for target, key in example.items())
    columns = f"; the file has {', '.join(found)}" if found else ""
    return [
        f"{note}{columns}. Map the columns that say where people came from (keys: channel, source,"
        f" medium, campaign): mapping={example!r} in Python, the lines {lines} in a --mapping"
        " file; then unload this file and load it again"
    ]
