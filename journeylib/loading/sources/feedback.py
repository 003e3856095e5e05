"""Survey answers (NPS, CSAT) and support tickets into ``feedback``, also as events.

- ``kind="nps"``: ``response_id, user_id, submitted_at, score, comment``; score an
  integer 0 to 10; event ``nps_response``;
- ``kind="csat"``: the same columns, score an integer 1 to 5; event ``csat_response``;
- ``kind="ticket"``: a Zendesk-style export, ``ticket_id, requester_id,
  created_at, subject, status, priority, satisfaction_rating``; no score, the
  subject as text, the rest in properties; event ``support_ticket``.

Events carry ``event_id = md5(kind, feedback_id)`` and the score, text and
other columns in their properties.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from journeylib.core.engine import Engine
from journeylib.core.errors import ParameterError
from journeylib.core.sql import literal
from journeylib.loading import pipeline
from journeylib.loading.sources.tabular import Field, insert_events, naive_notes, stage

FIELDS = [
    Field("feedback_id", required=True),
    Field("user_id", required=True),
    Field("event_time", "time", required=True),
    Field("kind"),
    Field("score", "number"),
    Field("text"),
]
SURVEY = {
    "feedback_id": "response_id",
    "user_id": "user_id",
    "event_time": "submitted_at",
    "score": "score",
    "text": "comment",
}
TICKET = {
    "feedback_id": "ticket_id",
    "user_id": "requester_id",
    "event_time": "created_at",
    "text": "subject",
}
#: kind -> (default columns, score range, event name)
KINDS = {
    "nps": (SURVEY, (0, 10), "nps_response"),
    "csat": (SURVEY, (1, 5), "csat_response"),
    "ticket": (TICKET, None, "support_ticket"),
}


def load(
    engine: Engine, path: Path, *, kind: str, mapping: Mapping[str, str] | None, tz: str | None
) -> pipeline.FileReport:
    """Load one survey or ticket export (all or nothing) into ``feedback`` and ``events``.

    Examples
    --------
    >>> import tempfile, journeylib as jl
    >>> path = Path(tempfile.mkdtemp()) / "nps.csv"
    >>> _ = path.write_text("response_id,user_id,submitted_at,score,comment\\n"
    ...                     "r1,alice,2024-03-01T10:00:00Z,9,Great\\nr2,bob,2024-03-02T10:00:00Z,11,?\\n")
    >>> ws = jl.open()
    >>> report = ws.load_feedback(path, kind="nps")
    >>> report.loaded, report.rejected_rows.reason.tolist()
    (1, ['score out of range: 11 (nps scores are whole numbers from 0 to 10)'])
    """
    if kind not in KINDS:
        raise ParameterError("kind", kind, allowed=list(KINDS))
    defaults, scores, event_name = KINDS[kind]
    staged, checks = stage(
        engine, path, FIELDS, defaults, mapping, tz=tz, derived={"kind": literal(kind)}
    )
    if scores is not None:
        low, high = scores
        label = (mapping or {}).get("score", defaults["score"])
        checks.append(
            pipeline.Check(
                label,
                f"score is not null and (score < {low} or score > {high} or score <> round(score))",
                literal("score out of range: ")
                + f" || _raw_score || {literal(f' ({kind} scores are whole numbers from {low} to {high})')}",
            )
        )
    origin = str(path)

    def as_events(engine: Engine) -> None:
        insert_events(
            engine,
            f"select md5(concat_ws(chr(31), {literal(kind)}, feedback_id)) as event_id, user_id,"
            f" event_time, {literal(event_name)} as event_name, null::varchar as session_id,"
            " null::double as revenue,"
            " json_merge_patch(properties, json_object('feedback_id', feedback_id, 'score', score,"
            " 'text', text)) as properties from _checked where _reason is null",
            origin,
        )

    return pipeline.load_file(
        engine,
        path,
        source=f"feedback:{kind}",
        target="feedback",
        staged=lambda: staged,
        columns=[f.name for f in FIELDS] + ["properties"],
        key=["feedback_id"],
        checks=lambda _: checks,
        after_insert=as_events,
        notes=lambda engine: naive_notes(engine, FIELDS, tz),
    )
