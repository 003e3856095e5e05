"""CRM deals (a HubSpot-style export by default) into ``customers``, plus milestone events.

Default columns: ``deal_id, contact_id, pipeline, dealstage, amount, currency,
createdate, date_entered_lead, date_entered_opportunity,
date_entered_closedwon, date_entered_closedlost`` (``contact_id`` is the same
person id as ``user_id`` in web events). Other CRMs (Salesforce, Pipedrive)
load with a mapping from these canonical fields to their columns.

Each deal also puts its milestones on the journey, as events
``crm_lead_created`` (lead date, else creation date), ``crm_opportunity_created``,
``crm_deal_won`` (revenue = amount) and ``crm_deal_lost``, with
``event_id = md5('crm', deal_id, milestone)`` so re-exports dedupe and
``session_id = 'crm:<deal_id>'``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.loading import pipeline
from journeylib.loading.sources.tabular import Field, insert_events, naive_notes, stage

FIELDS = [
    Field("deal_id", required=True),
    Field("user_id", required=True),
    Field("pipeline"),
    Field("stage"),
    Field("amount", "number"),
    Field("currency"),
    Field("created_at", "time", required=True),
    Field("lead_at", "time"),
    Field("opportunity_at", "time"),
    Field("won_at", "time"),
    Field("lost_at", "time"),
]
HUBSPOT = {
    "deal_id": "deal_id",
    "user_id": "contact_id",
    "pipeline": "pipeline",
    "stage": "dealstage",
    "amount": "amount",
    "currency": "currency",
    "created_at": "createdate",
    "lead_at": "date_entered_lead",
    "opportunity_at": "date_entered_opportunity",
    "won_at": "date_entered_closedwon",
    "lost_at": "date_entered_closedlost",
}
MILESTONES = (
    ("crm_lead_created", "coalesce(lead_at, created_at)"),
    ("crm_opportunity_created", "opportunity_at"),
    ("crm_deal_won", "won_at"),
    ("crm_deal_lost", "lost_at"),
)


def load(
    engine: Engine, path: Path, *, mapping: Mapping[str, str] | None, tz: str | None
) -> pipeline.FileReport:
    """Load one deals export (all or nothing) into ``customers`` and ``events``.

    Examples
    --------
    >>> import tempfile, journeylib as jl
    >>> path = Path(tempfile.mkdtemp()) / "deals.csv"
    >>> _ = path.write_text("deal_id,contact_id,amount,createdate,date_entered_closedwon\\n"
    ...                     "D1,alice,1200,2024-01-05T10:00:00Z,2024-02-01T09:00:00Z\\n")
    >>> ws = jl.open()
    >>> ws.load_deals(path).loaded
    1
    >>> ws.sql("select event_name, revenue from events order by event_time").values.tolist()
    [['crm_lead_created', nan], ['crm_deal_won', 1200.0]]
    """
    origin = str(path)

    def milestones(engine: Engine) -> None:
        events = " union all ".join(
            f"select deal_id, user_id, {when} as event_time, '{name}' as event_name,"
            f" {'amount' if name == 'crm_deal_won' else 'null::double'} as revenue,"
            " pipeline, amount, currency from _checked where _reason is null"
            for name, when in MILESTONES
        )
        insert_events(
            engine,
            "select md5(concat_ws(chr(31), 'crm', deal_id, event_name)) as event_id, user_id,"
            " event_time, event_name, 'crm:' || deal_id as session_id, revenue,"
            " json_object('deal_id', deal_id, 'pipeline', pipeline, 'amount', amount,"
            f" 'currency', currency) as properties from ({events})",
            origin,
        )

    staged, checks = stage(engine, path, FIELDS, HUBSPOT, mapping, tz=tz)
    return pipeline.load_file(
        engine,
        path,
        source="crm",
        target="customers",
        staged=lambda: staged,
        columns=[f.name for f in FIELDS] + ["properties"],
        key=["deal_id"],
        checks=lambda _: checks,
        after_insert=milestones,
        notes=lambda engine: naive_notes(engine, FIELDS, tz),
    )
