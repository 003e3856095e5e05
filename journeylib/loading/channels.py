"""Channel grouping: source / medium / campaign to a marketing channel.

Rules are data (YAML or a list of dicts), tried in order, first match wins.
They compile to one SQL ``CASE`` whose patterns are bound parameters, so a
rule can never inject SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from journeylib.core.errors import DataError
from journeylib.core.sql import regex_error
from journeylib.core.yamlfile import read_yaml

FIELDS = ("source", "medium", "campaign")
_KEYS = {"channel", "direct", *FIELDS}


@dataclass(frozen=True)
class ChannelRule:
    """One rule: ``channel`` wins when every given pattern matches (or when direct)."""

    channel: str
    patterns: tuple[tuple[str, str], ...] = ()
    direct: bool = False


def load_rules(
    spec: str | Path | Sequence[Mapping[str, object]] | None = None,
) -> list[ChannelRule]:
    """Read channel rules from a YAML file or a list of dicts; None gives the defaults.

    Examples
    --------
    >>> rules = load_rules([{"channel": "Email", "medium": "email"}, {"channel": "Other"}])
    >>> [r.channel for r in rules]
    ['Email', 'Other']
    >>> load_rules()[0].channel
    'Direct'
    """
    origin = "default channel rules"
    if spec is None:
        text = resources.files("journeylib").joinpath("channel_rules.yml").read_text("utf-8")
        raw: object = yaml.safe_load(text)
    elif isinstance(spec, str | Path):
        origin = str(spec)
        raw = read_yaml(spec, "channel rules")
    else:
        raw = list(spec)
    if not isinstance(raw, list) or not raw:
        raise DataError("channel rules must be a non-empty list", file=origin)
    return [_rule(item, origin, index) for index, item in enumerate(raw, start=1)]


def _rule(item: object, origin: str, index: int) -> ChannelRule:
    if not isinstance(item, Mapping) or not isinstance(item.get("channel"), str):
        raise DataError("each rule needs a 'channel' name", file=origin, row=index)
    unknown = set(item) - _KEYS
    if unknown:
        raise DataError(
            f"unknown keys {sorted(unknown)}", file=origin, row=index, expected=str(sorted(_KEYS))
        )
    patterns = []
    for field in FIELDS:
        if field in item:
            pattern = str(item[field])
            problem = regex_error(pattern)
            if problem:
                raise DataError(
                    f"bad regular expression {pattern!r} (DuckDB's RE2: {problem})",
                    file=origin,
                    row=index,
                    field=field,
                )
            patterns.append((field, pattern))
    return ChannelRule(str(item["channel"]), tuple(patterns), bool(item.get("direct", False)))


def case_sql(rules: Sequence[ChannelRule], columns: Mapping[str, str]) -> tuple[str, list[object]]:
    """A SQL ``CASE`` giving the channel, with its bound parameters in order.

    ``columns`` maps ``source``/``medium``/``campaign`` to SQL expressions.

    Examples
    --------
    >>> sql, params = case_sql(load_rules([{"channel": "Email", "medium": "email"}]),
    ...                        {"source": "s", "medium": "m", "campaign": "c"})
    >>> params
    ['email', 'Email']
    """
    branches: list[str] = []
    params: list[object] = []
    for rule in rules:
        conditions = []
        if rule.direct:
            conditions.append(
                f"(coalesce(lower({columns['source']}), '(direct)') in ('(direct)', '')"
                f" and coalesce(lower({columns['medium']}), '(none)') in ('(none)', '(not set)', ''))"
            )
        for field, pattern in rule.patterns:
            conditions.append(f"regexp_full_match(lower(coalesce({columns[field]}, '')), ?)")
            params.append(pattern)
        branches.append(f"when {' and '.join(conditions) or 'true'} then ?")
        params.append(rule.channel)
    return "case " + " ".join(branches) + " end", params
