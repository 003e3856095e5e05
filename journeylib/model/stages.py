"""Journey stages: an ordered list of named stages, each a rule over events.

Stages load from a dict or YAML (``stage: [event, ...]``, or ``stage: {events,
where, nth}`` for property conditions and the n-th occurrence: see
:mod:`journeylib.model.rules`), are validated against the event names present (with
"did you mean"), and drive funnels: ``jl.funnel(ev, stages)`` counts people
reaching each stage in order. Default maps ship for the five-stage journey,
the hourglass and AIDA.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import yaml

from journeylib.core.errors import ParameterError, closest
from journeylib.core.yamlfile import read_mapping
from journeylib.model.events import Events
from journeylib.model.rules import EventRule


class Stages:
    """Ordered, named stages; each stage is reached by an event its rule picks.

    Examples
    --------
    >>> stages = Stages({"aware": ["page_view"], "buy": ["purchase", "subscribe"],
    ...                  "again": {"events": ["purchase"], "nth": 2}})
    >>> stages.names, stages.events("buy"), stages.rule("again").nth
    (['aware', 'buy', 'again'], ('purchase', 'subscribe'), 2)
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        if not spec:
            raise ParameterError(
                "stages", spec, reason="Give at least one stage: {name: [events]}."
            )
        self._rules = {
            str(name): EventRule.parse(rule, label=f"stage {name}") for name, rule in spec.items()
        }

    @classmethod
    def from_yaml(cls, path: str | Path) -> Stages:
        """Stages from a YAML mapping of stage name to event names."""
        return cls(
            read_mapping(path, "stage map", "a mapping of stage name to event names or rules")
        )

    @classmethod
    def named(cls, name: str) -> Stages:
        """A shipped map by name (``five_stage``, ``hourglass``, ``aida``) or a YAML file path.

        Examples
        --------
        >>> Stages.named("aida").names
        ['attention', 'interest', 'desire', 'action']
        """
        if name in SHIPPED:
            return _default(name)
        if name.endswith((".yml", ".yaml")):
            return cls.from_yaml(name)
        raise ParameterError(
            "stages", name, allowed=SHIPPED, reason="Name a shipped map or a YAML file."
        )

    @property
    def names(self) -> list[str]:
        """Stage names, in order."""
        return list(self._rules)

    def events(self, stage: str) -> tuple[str, ...]:
        """The names of the events that put a person in ``stage``."""
        return self.rule(stage).events

    def rule(self, stage: str) -> EventRule:
        """The rule that puts a person in ``stage`` (names, conditions, n-th occurrence)."""
        if stage not in self._rules:
            raise ParameterError("stage", stage, allowed=self.names)
        return self._rules[stage]

    def rules(self) -> list[tuple[str, EventRule]]:
        """(stage, rule) pairs, in order."""
        return list(self._rules.items())

    def relabel(self, ev: Events) -> Events:
        """The events a stage's rule picks, renamed to that stage; other events left out.

        An event picked by several stages takes the first. Paths, transitions and
        prediction over the result follow people from stage to stage.

        Examples
        --------
        >>> import journeylib as jl, pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
        >>> _ = path.write_text("user_id,event_name,event_time\\n"
        ...     "a,view,2024-01-01T10:00:00Z\\na,home,2024-01-01T10:01:00Z\\na,buy,2024-01-01T10:02:00Z\\n")
        >>> ws = jl.open(); _ = ws.load_events(path)
        >>> staged = Stages({"look": ["view"], "buy": ["buy"]}).relabel(ws.events())
        >>> staged.to_pandas().event_name.tolist()
        ['look', 'buy']
        """
        t = ev.table
        picked = ibis.union(
            *[
                rule.rows(t).mutate(event_name=ibis.literal(name), _stage=ibis.literal(index))
                for index, (name, rule) in enumerate(self._rules.items())
            ],
            distinct=False,
        )
        first = ibis.row_number().over(group_by="event_id", order_by="_stage")
        ranked = picked.mutate(_first=first)
        staged = ranked.filter(ranked._first == 0).select(t.columns)
        return replace(ev, table=staged, root=staged)

    def without(self, *stages: str) -> Stages:
        """The same map with ``stages`` left out (for data that has no such events).

        Examples
        --------
        >>> HOURGLASS.without("retention", "advocacy").names
        ['awareness', 'consideration', 'decision', 'purchase']
        """
        for stage in stages:
            self.rule(stage)  # a ParameterError for a stage the map does not have
        kept = {name: rule.spec() for name, rule in self._rules.items() if name not in stages}
        return Stages(kept)

    def unmatched(self, known: Sequence[str]) -> list[str]:
        """The stages none of whose event names is among ``known``, in order.

        Examples
        --------
        >>> HOURGLASS.unmatched(["session_start", "view_item", "purchase", "login"])
        ['decision', 'advocacy']
        """
        present = set(known)
        return [name for name, rule in self._rules.items() if not present.intersection(rule.events)]

    def spec(self) -> dict[str, Any]:
        """The map as plain data, as it would be written in YAML (for params and reports)."""
        return {name: rule.spec() for name, rule in self._rules.items()}

    def validate(self, present: Sequence[str]) -> None:
        """Raise a ParameterError for a stage none of whose events is in ``present``.

        Examples
        --------
        >>> Stages({"buy": ["purchse"]}).validate(["page_view", "purchase"])
        Traceback (most recent call last):
        ...
        journeylib.core.errors.ParameterError: Invalid value 'purchse' for parameter 'stages'. No event has this name (stage 'buy'). Allowed values: page_view, purchase. Did you mean 'purchase'?
        """
        require_events(list(self), present, param="stages")

    def __iter__(self) -> Iterator[tuple[str, tuple[str, ...]]]:
        return iter([(name, rule.events) for name, rule in self._rules.items()])

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"Stages({self.spec()!r})"


def require_events(
    steps: Sequence[tuple[str, tuple[str, ...]]],
    present: Sequence[str],
    *,
    param: str,
    typos_only: bool = False,
) -> None:
    """Raise a ParameterError naming the first step none of whose events exists.

    With ``typos_only``, an absent name is an error only when a present name is
    close to it (a step with no events in scope is otherwise a legitimate zero).
    """
    known = set(present)
    for label, events in steps:
        if typos_only and closest(events[0], known) is None:
            continue
        if not any(e in known for e in events):
            where = f" (stage {label!r})" if (label,) != events else ""
            raise ParameterError(
                param, events[0], allowed=sorted(known), reason=f"No event has this name{where}."
            )


def require_stages(ev: Events, stages: Stages, param: str = "stages") -> None:
    """Raise a ParameterError naming the first stage none of whose events is in the data.

    Such a stage is empty whatever the scope (the shipped maps on an export whose
    events are named otherwise): the error names the stage, its events, the
    closest event names of the data, and how to leave the stage out. Only the
    event names are checked: a stage whose names exist but whose property
    conditions match nothing counts zero.

    Examples
    --------
    >>> import journeylib as jl, pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "e.csv"
    >>> _ = path.write_text("user_id,event_name,event_time\\n"
    ...     "a,landing,2024-01-01T10:00:00Z\\na,checkout_done,2024-01-01T10:05:00Z\\n")
    >>> ws = jl.open(); _ = ws.load_events(path)
    >>> require_stages(ws.events(), Stages({"visit": ["landing"], "buy": ["purchase"]}))
    Traceback (most recent call last):
    journeylib.core.errors.ParameterError: Invalid value 'purchase' for parameter 'stages'. No event in the data matches stage 'buy' (purchase). Closest event names: checkout_done, landing. Name the data's events in the stage map, or leave the stage out with stages.without('buy').
    """
    known = ev.known_event_names()
    unmatched = stages.unmatched(known)
    if not unmatched:
        return
    label = unmatched[0]
    rule = stages.rule(label)
    near = sorted(
        known,
        key=lambda name: (
            -max(
                difflib.SequenceMatcher(None, e.lower(), name.lower()).ratio() for e in rule.events
            )
        ),
    )[:5]
    raise ParameterError(
        param,
        rule.events[0] if len(rule.events) == 1 else list(rule.events),
        reason=f"No event in the data matches stage {label!r} ({', '.join(rule.events)})."
        + (f" Closest event names: {', '.join(near)}." if near else " The data has no events.")
        + f" Name the data's events in the stage map, or leave the stage out with"
        f" stages.without({label!r}).",
    )


#: the stage maps shipped in journeylib/stage_maps
SHIPPED = ("five_stage", "hourglass", "aida")


def _default(name: str) -> Stages:
    text = resources.files("journeylib").joinpath("stage_maps", f"{name}.yml").read_text("utf-8")
    return Stages(yaml.safe_load(text))


#: awareness, consideration, decision, purchase, post-purchase
FIVE_STAGE = _default("five_stage")
#: the five stages with retention and advocacy after the purchase
HOURGLASS = _default("hourglass")
#: attention, interest, desire, action
AIDA = _default("aida")

__all__ = ["AIDA", "FIVE_STAGE", "HOURGLASS", "SHIPPED", "Stages"]
