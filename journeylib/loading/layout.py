"""How ``events`` is stored: integer person keys, event codes, rows by person (ADR 0036).

Beside the text columns analyses see, every event row carries
``person_key`` (an INTEGER standing for its ``user_id``) and ``event_code``
(an INTEGER standing for its ``event_name``), from two dictionary tables,
``people`` and ``event_codes``. A value keeps its key for as long as the
workspace lives: a load gives each new user id or name the next key, and
nothing renumbers. Each load stores its rows ordered by person and time, so
one person's events sit together. Measured at 10M events, native plans that
join, group and sort on the keys over rows so stored took 0.26-0.47x the
time of the same plans over text ids and names in export order
(``benchmarks/bench_layout.py``).

Examples
--------
>>> from journeylib.core.engine import Engine
>>> engine = Engine.connect(None)
>>> for statement in create_statements():
...     engine.execute(statement)
>>> row = ("select '{}' as event_id, '{}' as user_id, 'open' as event_name,"
...        " now() as event_time, '{{}}' as properties")
>>> insert(engine, row.format("e1", "ann"))
>>> insert(engine, row.format("e2", "bob"))
>>> engine.rows("select event_id, person_key, event_code from events order by event_id")
[('e1', 1, 1), ('e2', 2, 1)]
"""

from __future__ import annotations

from dataclasses import dataclass

from journeylib.core.engine import Engine
from journeylib.core.schema import EVENT_COLUMNS, STORED_PROPERTIES, create_statements
from journeylib.core.sql import ident


@dataclass(frozen=True)
class Dictionary:
    """A table giving each distinct text value of an ``events`` column an INTEGER key."""

    table: str
    key: str
    value: str


PEOPLE = Dictionary("people", "person_key", "user_id")
EVENT_CODES = Dictionary("event_codes", "event_code", "event_name")
DICTIONARIES = (PEOPLE, EVENT_CODES)
#: the order each load stores its rows in
STORAGE_ORDER = ("person_key", "event_time")


def extend(engine: Engine, dictionary: Dictionary, values: str) -> None:
    """Give each value of the SELECT ``values`` not yet in ``dictionary`` the next keys.

    ``values`` yields a column named as the dictionary's value column; new
    values are numbered in sorted order after the largest key so far.
    """
    table, key, value = ident(dictionary.table), ident(dictionary.key), ident(dictionary.value)
    engine.execute(
        f"insert into {table} select (select coalesce(max({key}), 0) from {table})"
        f" + row_number() over (order by v), v from (select distinct {value} as v"
        f" from ({values}) where {value} is not null) n"
        f" where not exists (select 1 from {table} d where d.{value} = n.v)"
    )


def keyed(rows: str) -> str:
    """A SELECT of ``rows`` with their ``person_key`` and ``event_code``, in storage order.

    ``properties`` must be a VARIANT or JSON, which the VARIANT column parses
    (text would be stored as one string, ADR 0037).

    Every user id and name of ``rows`` must be in the dictionaries
    (:func:`extend`).
    """
    joins = " ".join(
        f"left join {ident(d.table)} {ident('_' + d.key)}"
        f" on {ident('_' + d.key)}.{ident(d.value)} = r.{ident(d.value)}"
        for d in DICTIONARIES
    )
    keys = ", ".join(f"{ident('_' + d.key)}.{ident(d.key)}" for d in DICTIONARIES)
    order = ", ".join(ident(c) for c in STORAGE_ORDER)
    return f"select r.*, {keys} from ({rows}) r {joins} order by {order}"


def stored(engine: Engine, candidates: str, rows: str) -> str:
    """The SELECT that stores ``rows`` in ``events``, keys given to their new values.

    The dictionaries are extended from ``candidates`` (a SELECT of at least
    ``rows``' user ids and names, cheaper to read, such as the rows before
    dropping those already stored), reading only the columns they key.
    """
    for dictionary in DICTIONARIES:
        extend(engine, dictionary, candidates)
    return keyed(rows)


def insert(engine: Engine, rows: str) -> None:
    """Insert the SELECT ``rows`` into ``events`` (columns by name), keyed and in storage order.

    Their ``properties`` are JSON text, parsed into the stored VARIANT.
    """
    parsed = f"select * replace ({as_variant('properties')} as properties) from ({rows})"
    engine.execute(f"insert into events by name {stored(engine, parsed, parsed)}")


def prune_codes(engine: Engine) -> None:
    """Drop the event codes no event has any more (after an unload).

    Person keys are never dropped, so a person keeps theirs when a file that
    removed all their events is loaded again.
    """
    engine.execute(
        "delete from event_codes where event_code not in"
        " (select distinct event_code from events where event_code is not null)"
    )


def fill(engine: Engine) -> None:
    """Key every stored event and store the rows in storage order (upgrades to version 4)."""
    for statement in create_statements():
        engine.execute(statement)
    for dictionary in DICTIONARIES:
        extend(engine, dictionary, f"select {ident(dictionary.value)} from events")
    columns = ", ".join(ident(c) for c in EVENT_COLUMNS)
    engine.execute(f"create table _events_keyed as {keyed(f'select {columns} from events')}")
    engine.execute("drop table events")
    engine.execute("alter table _events_keyed rename to events")


def variant_properties(engine: Engine) -> None:
    """Store ``events.properties`` as a VARIANT (upgrades to version 5, ADR 0037)."""
    engine.execute(
        f"alter table events alter properties type {STORED_PROPERTIES}"
        f" using {as_variant('properties')}"
    )


def as_variant(text: str) -> str:
    """SQL of the JSON text ``text`` parsed into a VARIANT (text cast as it is would be a string).

    Examples
    --------
    >>> from journeylib.core.engine import Engine
    >>> Engine.connect(None).scalar(f"select variant_typeof({as_variant('$1')})", ['{"a":1}'])
    'OBJECT(a)'
    """
    return f"cast(cast({text} as JSON) as {STORED_PROPERTIES})"
