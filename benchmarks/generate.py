"""Synthetic event logs for benchmarks: canonical Parquet and CSV, and GA4-shaped NDJSON.

Usage: python benchmarks/generate.py --events 10_000_000 [--out benchmarks/data] [--formats parquet,csv,ga4]

About 9 events per person over 90 days, twelve event names with funnel-like
frequencies, ten channels, revenue on purchases. Deterministic: the same
--events gives the same files (DuckDB's hash of the row number drives every
choice). All the work runs in DuckDB, so 100M rows take minutes, not hours.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

NAMES = [
    ("page_view", 40),
    ("view_item", 20),
    ("session_start", 12),
    ("add_to_cart", 8),
    ("begin_checkout", 5),
    ("add_payment_info", 4),
    ("purchase", 3),
    ("sign_up", 2),
    ("login", 2),
    ("search", 2),
    ("share", 1),
    ("nps_response", 1),
]
SOURCES = [
    ("google", "organic"),
    ("google", "cpc"),
    ("facebook", "paid_social"),
    ("instagram", "social"),
    ("newsletter", "email"),
    ("partner", "affiliate"),
    ("blog.example", "referral"),
    ("gdn", "display"),
    ("youtube", "video"),
    ("(direct)", "(none)"),
]


def _canonical_sql(events: int) -> str:
    """A SELECT of ``events`` canonical rows, as DuckDB SQL over range()."""
    total = sum(weight for _, weight in NAMES)
    bounds, running, lo, hi = [], 0, 0, 0
    for name, weight in NAMES:
        if name == "purchase":
            lo, hi = running, running + weight
        running += weight
        bounds.append(f"when h % {total} < {running} then '{name}'")
    users = max(1, events // 9)
    sources = ", ".join(f"('{s}', '{m}')" for s, m in SOURCES)
    return f"""
    with base as (
      select i, (hash(i) >> 2)::bigint as h, (hash(i * 7 + 1) >> 2)::bigint as g from range({events}) t(i)
    ), src as (select list_value({sources}) as pairs)
    select
      md5(i::varchar) as event_id,
      'u' || (g % {users}) as user_id,
      'd' || (g % {users}) as anonymous_id,
      timestamptz '2024-01-01 00:00:00+00' + to_microseconds(((h // 7) % 7776000000000)::bigint) as event_time,
      case {" ".join(bounds)} end as event_name,
      'u' || (g % {users}) || ':' || ((h // 11) % 20)::bigint as session_id,
      (src.pairs[1 + (h // 13) % {len(SOURCES)}])[1] as source,
      (src.pairs[1 + (h // 13) % {len(SOURCES)}])[2] as medium,
      'campaign_' || ((h // 17) % 30) as campaign,
      case when h % {total} >= {lo} and h % {total} < {hi}
           then round(((h // 19) % 20000)::bigint / 100.0, 2) end as revenue,
      '{{"device": "' || (['desktop', 'mobile', 'tablet'])[1 + (h // 23) % 3] || '"}}' as properties
    from base, src
    """


def _ga4_sql(events: int) -> str:
    """GA4 BigQuery-export shaped rows (INT64 as strings, nested params)."""
    return f"""
    select
      strftime(event_time, '%Y%m%d') as event_date,
      cast(epoch_us(event_time) as varchar) as event_timestamp,
      event_name,
      [
        {{'key': 'ga_session_id', 'value': {{'string_value': null, 'int_value': cast(split_part(session_id, ':', 2) as varchar), 'float_value': null, 'double_value': null}}}},
        {{'key': 'page_location', 'value': {{'string_value': 'https://shop.example/p/' || (hash(event_id) % 500), 'int_value': null, 'float_value': null, 'double_value': null}}}}
      ] as event_params,
      case when user_id like '%1' then user_id end as user_id,
      anonymous_id as user_pseudo_id,
      {{'category': properties->>'device', 'operating_system': 'Android'}} as device,
      {{'country': 'Germany'}} as geo,
      {{'manual_source': source, 'manual_medium': medium, 'manual_campaign_name': campaign, 'gclid': null}} as collected_traffic_source,
      {{'purchase_revenue': revenue, 'transaction_id': case when revenue is not null then event_id end}} as ecommerce,
      'WEB' as platform,
      '1234567' as stream_id
    from ({_canonical_sql(events)})
    """


def generate(events: int, out: Path, formats: list[str]) -> dict[str, Path]:
    """Write the requested formats for ``events`` rows; return their paths.

    Examples
    --------
    >>> import tempfile
    >>> files = generate(1000, Path(tempfile.mkdtemp()), ["parquet"])
    >>> duckdb.sql(f"select count(*) from '{files['parquet']}'").fetchone()[0]
    1000
    """
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    written: dict[str, Path] = {}
    for kind in formats:
        path = (
            out
            / {
                "parquet": f"events_{events}.parquet",
                "csv": f"events_{events}.csv",
                "ga4": f"ga4_{events}.ndjson",
            }[kind]
        )
        if not path.exists():
            sql = _ga4_sql(events) if kind == "ga4" else _canonical_sql(events)
            options = {
                "parquet": "(format parquet)",
                "csv": "(format csv, header true)",
                "ga4": "(format json)",
            }[kind]
            con.execute(f"copy ({sql}) to '{path}' {options}")
        written[kind] = path
    return written


def arguments(doc: str, events: int = 1_000_000) -> argparse.ArgumentParser:
    """A benchmark's parser: ``--events`` (``10_000_000`` allowed), ``--repeat``, ``--data``.

    Examples
    --------
    >>> arguments("Bench: what it measures").parse_args(["--events", "2_000"]).events
    2000
    """
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=events)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    return parser


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    parser.add_argument("--formats", default="parquet,csv,ga4")
    args = parser.parse_args()
    started = time.perf_counter()
    files = generate(args.events, args.out, args.formats.split(","))
    for kind, path in files.items():
        print(f"{kind:8} {path} {path.stat().st_size / 1e6:.0f} MB")
    print(f"generated in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
