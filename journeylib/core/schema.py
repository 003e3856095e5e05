"""The canonical tables of a workspace (ADR 0001) and their DDL.

``events`` is the table every analysis reads. Beside it: ``spend``,
``customers`` (CRM deals), ``feedback`` (surveys and tickets), ``rejected``
(rows that could not be loaded, with the reason), ``loads`` (one row per
loaded file, so a re-load is recognised), ``identities`` (anonymous ids
that a person later identified from) and ``identity_origins`` (which loaded
file showed each identity, and which file created it, so unloading a file
undoes only what it alone taught). ``people`` and ``event_codes`` are the
dictionaries of the integer keys ``events`` is stored with (ADR 0036).
"""

from __future__ import annotations

EVENT_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR",
    "user_id": "VARCHAR",
    "anonymous_id": "VARCHAR",
    "event_time": "TIMESTAMPTZ",
    "event_name": "VARCHAR",
    "session_id": "VARCHAR",
    "channel": "VARCHAR",
    "source": "VARCHAR",
    "medium": "VARCHAR",
    "campaign": "VARCHAR",
    "revenue": "DOUBLE",
    "properties": "JSON",
    "origin": "VARCHAR",
}

#: how events are stored beside the columns analyses see (loading/layout.py, ADR 0036)
EVENT_LAYOUT_COLUMNS: dict[str, str] = {"person_key": "INTEGER", "event_code": "INTEGER"}

#: how a workspace stores ``properties``: a VARIANT, which DuckDB shreds into typed
#: sub-columns, read key by key with ``variant_extract`` (ADR 0037)
STORED_PROPERTIES = "VARIANT"

SPEND_COLUMNS: dict[str, str] = {
    "date": "DATE",
    "channel": "VARCHAR",
    "campaign": "VARCHAR",
    "cost": "DOUBLE",
    "currency": "VARCHAR",
    "origin": "VARCHAR",
}

CUSTOMER_COLUMNS: dict[str, str] = {
    "deal_id": "VARCHAR",
    "user_id": "VARCHAR",
    "pipeline": "VARCHAR",
    "stage": "VARCHAR",
    "amount": "DOUBLE",
    "currency": "VARCHAR",
    "created_at": "TIMESTAMPTZ",
    "lead_at": "TIMESTAMPTZ",
    "opportunity_at": "TIMESTAMPTZ",
    "won_at": "TIMESTAMPTZ",
    "lost_at": "TIMESTAMPTZ",
    "properties": "JSON",
    "origin": "VARCHAR",
}

FEEDBACK_COLUMNS: dict[str, str] = {
    "feedback_id": "VARCHAR",
    "user_id": "VARCHAR",
    "event_time": "TIMESTAMPTZ",
    "kind": "VARCHAR",
    "score": "DOUBLE",
    "text": "VARCHAR",
    "properties": "JSON",
    "origin": "VARCHAR",
}

REJECTED_COLUMNS: dict[str, str] = {
    "origin": "VARCHAR",
    "row": "BIGINT",
    "field": "VARCHAR",
    "reason": "VARCHAR",
    "raw": "VARCHAR",
}

LOAD_COLUMNS: dict[str, str] = {
    "origin": "VARCHAR",
    "source": "VARCHAR",
    "target": "VARCHAR",
    "checksum": "VARCHAR",
    "rows": "BIGINT",
    "loaded": "BIGINT",
    "duplicates": "BIGINT",
    "rejected": "BIGINT",
    "loaded_at": "TIMESTAMPTZ",
}

IDENTITY_COLUMNS: dict[str, str] = {
    "anonymous_id": "VARCHAR",
    "user_id": "VARCHAR",
    "identified_at": "TIMESTAMPTZ",
}

IDENTITY_ORIGIN_COLUMNS: dict[str, str] = {
    "anonymous_id": "VARCHAR",
    "user_id": "VARCHAR",
    "origin": "VARCHAR",
    "created": "BOOLEAN",
}

PEOPLE_COLUMNS: dict[str, str] = {"person_key": "INTEGER", "user_id": "VARCHAR"}

EVENT_CODE_COLUMNS: dict[str, str] = {"event_code": "INTEGER", "event_name": "VARCHAR"}

TABLES: dict[str, dict[str, str]] = {
    "events": EVENT_COLUMNS | {"properties": STORED_PROPERTIES} | EVENT_LAYOUT_COLUMNS,
    "spend": SPEND_COLUMNS,
    "customers": CUSTOMER_COLUMNS,
    "feedback": FEEDBACK_COLUMNS,
    "rejected": REJECTED_COLUMNS,
    "loads": LOAD_COLUMNS,
    "identities": IDENTITY_COLUMNS,
    "identity_origins": IDENTITY_ORIGIN_COLUMNS,
    "people": PEOPLE_COLUMNS,
    "event_codes": EVENT_CODE_COLUMNS,
}


def create_statements() -> list[str]:
    """``CREATE TABLE IF NOT EXISTS`` for every canonical table.

    Examples
    --------
    >>> create_statements()[0].startswith('create table if not exists "events"')
    True
    """
    from journeylib.core.sql import ident

    return [
        f"create table if not exists {ident(name)} ("
        + ", ".join(f"{ident(col)} {kind}" for col, kind in columns.items())
        + ")"
        for name, columns in TABLES.items()
    ]
