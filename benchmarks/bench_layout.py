"""Which physical layout of ``events`` the heavy plans need (issue #29 step 3, ADR 0036).

Usage: python benchmarks/bench_layout.py --events 10_000_000 [--repeat 3]

Builds one DuckDB file per layout from the same synthetic log (``generate.py``'s
canonical Parquet: text user ids, event names as text, rows in time order as
exports arrive)
and times the same four questions on each, in fresh processes, alternating
layouts, medians of ``--repeat`` runs:

- ``text``: today's table; plans join, group and sort on ``user_id`` and
  compare ``event_name`` text.
- ``keys``: the same rows plus ``person_key INTEGER`` (dense, by first
  appearance) and ``event_code SMALLINT`` (a dictionary of names); plans use
  them and decode names only for the final rows.
- ``keys_sorted``: ``keys`` with the rows stored in ``(person_key, event_time)``
  order.

The questions are the reference plans' (``../shared/bench/q_duckdb.py``),
written here over either set of columns: a 4-step ordered funnel (ASOF chain),
the top first-5-event paths (packed BIGINT), attribution channel paths
(packed lists) and transitions (``lead()`` with median and p95). Each also
checks that every layout gives the same answer.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import fresh
from generate import arguments, generate

LAYOUTS = ("text", "keys", "keys_sorted")
STEPS = ("view_item", "add_to_cart", "begin_checkout", "purchase")
QUESTIONS = ("funnel", "paths", "attribution", "transitions")


def build(parquet: Path, folder: Path) -> dict[str, Path]:
    """One workspace-like file per layout (built once, reused)."""
    files = {layout: folder / f"layout_{layout}_{parquet.stem}.duckdb" for layout in LAYOUTS}
    if all(f.exists() for f in files.values()):
        return files
    con = duckdb.connect(str(files["text"]))
    con.execute(
        "create or replace table events as select event_id, user_id, event_time, event_name,"
        f" session_id, source as channel, revenue from read_parquet('{parquet}') order by event_time"
    )
    con.close()
    keyed = (
        "select e.*, p.person_key, c.event_code from text.events e"
        " join (select user_id, (row_number() over (order by min(rowid)))::integer as person_key"
        "  from text.events group by user_id) p using (user_id)"
        " join (select event_name, (row_number() over (order by event_name))::smallint as event_code"
        "  from (select distinct event_name from text.events)) c using (event_name)"
    )
    order = {"keys": "e.rowid", "keys_sorted": "person_key, event_time"}
    for layout in ("keys", "keys_sorted"):
        con = duckdb.connect(str(files[layout]))
        con.execute(f"attach '{files['text']}' as text (read_only)")
        con.execute(f"create or replace table events as {keyed} order by {order[layout]}")
        con.execute(
            "create or replace table event_codes as select distinct event_code, event_name from events"
        )
        con.close()
    return files


def sql(question: str, keyed: bool) -> str:
    """The question over text columns, or over person keys and event codes."""
    person = "person_key" if keyed else "user_id"
    if keyed:
        code = "event_code"
        names = "(select list(event_name order by event_code) from event_codes)"
    else:
        names = "(select list(distinct event_name order by event_name) from events)"
        code = f"list_position({names}, event_name)"

    def step(name: str) -> str:
        return (
            f"event_code = (select event_code from event_codes where event_name = '{name}')"
            if keyed
            else f"event_name = '{name}'"
        )

    if question == "funnel":
        s1, s2, s3, s4 = (step(s) for s in STEPS)
        return f"""
        with ev as materialized (select {person} as p, event_time as ts, {code} as c from events
                                 where {" or ".join(step(s) for s in STEPS)}),
        c1 as (select {code} as c from events where {s1} limit 1),
        c2 as (select {code} as c from events where {s2} limit 1),
        c3 as (select {code} as c from events where {s3} limit 1),
        c4 as (select {code} as c from events where {s4} limit 1),
        starts as (select p, ts from ev where c = (from c1)
                   and p in (select p from ev where c = (from c2))),
        v2 as (select e.p, e.ts, s.ts as start from (select p, ts from ev where c = (from c2)) e
               asof join starts s on e.p = s.p and e.ts > s.ts where e.ts <= s.ts + interval 7 day),
        v3 as (select e.p, e.ts, s.start from (select p, ts from ev where c = (from c3)) e
               asof join v2 s on e.p = s.p and e.ts > s.ts where e.ts <= s.start + interval 7 day),
        v4 as (select e.p from (select p, ts from ev where c = (from c4)) e
               asof join v3 s on e.p = s.p and e.ts > s.ts where e.ts <= s.start + interval 7 day)
        select (select count(distinct p) from ev where c = (from c1)), (select count(distinct p) from v2),
               (select count(distinct p) from v3), (select count(distinct p) from v4)
        """
    if question == "paths":
        return f"""
        with vocab as (select {names} as names),
        firsts as (
          select list_transform(min(epoch_us(event_time) * 4096 + {code}, 5), lambda x: x % 4096) as codes
          from events group by {person}
        ), top as (
          select codes, count(*) as users from firsts where len(codes) = 5
          group by codes order by users desc, codes limit 10
        )
        select array_to_string(list_transform(codes, lambda c: names[c]), ' > '), users
        from top, vocab order by users desc, codes
        """
    if question == "attribution":
        return f"""
        with channels as (select list(distinct channel order by channel) as names from events),
        per_person as (
          select list(epoch_us(event_time) * 64 + list_position((from channels), channel))
                   filter (session_id is not null) as touches,
                 min(epoch_us(event_time)) filter ({step("purchase")}) as conv_us,
                 arg_min(revenue, event_time) filter ({step("purchase")}) as value
          from events group by {person}
        ), paths as (
          select list_transform(list_sort(list_filter(touches, lambda x: conv_us is null or x // 64 < conv_us)),
                                lambda x: x % 64) as codes, conv_us is not null as converted, value
          from per_person
        )
        select count(*), sum(conversions), round(sum(total), 2) from (
          select codes, count(*) filter (converted) as conversions, coalesce(sum(value), 0) as total
          from paths where len(codes) > 0 group by codes)
        """
    return f"""
    with moves as (
      select {code} as a, lead({code}) over w as b,
             epoch(lead(event_time) over w - event_time) as gap, {person} as p
      from events window w as (partition by {person} order by event_time, event_id)
    )
    select count(*), sum(n), sum(users), round(sum(med), 3), round(sum(p95), 3) from (
      select a, b, count(*) as n, count(distinct p) as users,
             quantile_cont(gap, 0.5) as med, quantile_cont(gap, 0.95) as p95
      from moves where b is not null group by a, b)
    """


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--questions", default=",".join(QUESTIONS))
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    parquet = generate(args.events, args.data, ["parquet"])["parquet"]
    if args.build_only:
        build(parquet, args.data)
        return
    # built in a child: Linux keeps a process's peak memory across exec, so a parent
    # that built the files itself would hand its peak to every measuring child
    subprocess.run([sys.executable, __file__, *sys.argv[1:], "--build-only"], check=True)
    files = build(parquet, args.data)
    sizes = {layout: files[layout].stat().st_size / 2**20 for layout in LAYOUTS}
    print("file size MiB:", json.dumps({k: round(v) for k, v in sizes.items()}))
    results: dict[str, dict[str, list[fresh.Run]]] = {}
    for question in args.questions.split(","):
        runs: dict[str, list[fresh.Run]] = {layout: [] for layout in LAYOUTS}
        for _ in range(args.repeat):
            for layout in LAYOUTS:
                runs[layout].append(fresh.query(files[layout], sql(question, layout != "text")))
        answers = {layout: runs[layout][0]["answer"] for layout in LAYOUTS}
        base = fresh.median_seconds(runs["text"])
        for layout in LAYOUTS:
            seconds = fresh.median_seconds(runs[layout])
            peak = fresh.peak_gib(runs[layout])
            print(
                f"{question:12} {layout:12} {seconds:6.2f} s  {seconds / base:5.2f}x text"
                f"  peak {peak:4.2f} GiB  same answer: {answers[layout] == answers['text']}"
            )
        results[question] = runs
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"layout_{args.events}.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
