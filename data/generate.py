"""Sample data: five months of a fictional shop, written out as vendor exports.

Usage: python data/generate.py [--out data/sample] [--people 3000] [--seed 7]

Northwind Outfitters sells outdoor gear online (web, tracked with GA4) and has
a mobile app (tracked with Segment). People arrive through ten channels,
browse over one or more sessions, sign up, buy, sometimes buy again, answer
NPS surveys and file support tickets; a few become B2B "Teams" deals in the
CRM. The generator plants known stories (see data/README.md) and writes the
ground truth it simulated to ``stories.json``, so analyses can be tested for
finding them. The same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

START = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 152  # 2024-01-01 .. 2024-05-31
SPIKE = (date(2024, 4, 8), date(2024, 4, 14))  # spring sale week: Paid Search push

#: channel -> (GA4 source, medium, campaign), how a session on it is tagged
TAGS = {
    "Organic Search": ("google", "organic", None),
    "Paid Search": ("google", "cpc", "brand_search"),
    "Paid Social": ("facebook", "paid_social", "spring_social"),
    "Organic Social": ("instagram", "social", None),
    "Email": ("newsletter", "email", "weekly_news"),
    "Affiliates": ("partner", "affiliate", "partner_program"),
    "Referral": ("blog.example", "referral", None),
    "Display": ("gdn", "display", "remarketing"),
    "Video": ("youtube", "video", "launch_video"),
    "Direct": ("(direct)", "(none)", None),
}
#: how people first arrive (story 2: Paid Social opens journeys)
FIRST_TOUCH = {
    "Paid Social": 0.26,
    "Organic Search": 0.18,
    "Paid Search": 0.12,
    "Direct": 0.08,
    "Organic Social": 0.08,
    "Referral": 0.07,
    "Display": 0.07,
    "Video": 0.07,
    "Affiliates": 0.05,
    "Email": 0.02,
}
#: how they come back (story 2: Email and Paid Search close them)
RETURN = {
    "Email": 0.30,
    "Paid Search": 0.25,
    "Direct": 0.15,
    "Organic Search": 0.12,
    "Paid Social": 0.06,
    "Display": 0.05,
    "Referral": 0.03,
    "Affiliates": 0.02,
    "Organic Social": 0.01,
    "Video": 0.01,
}
#: chance a session at each step goes on to the next, by device (story 1: mobile payment step)
STEP = {
    "desktop": {
        "view_item": 0.75,
        "add_to_cart": 0.45,
        "begin_checkout": 0.65,
        "add_payment_info": 0.82,
        "purchase": 0.88,
    },
    "tablet": {
        "view_item": 0.75,
        "add_to_cart": 0.42,
        "begin_checkout": 0.62,
        "add_payment_info": 0.78,
        "purchase": 0.86,
    },
    "mobile": {
        "view_item": 0.78,
        "add_to_cart": 0.42,
        "begin_checkout": 0.62,
        "add_payment_info": 0.45,
        "purchase": 0.86,
    },
}
ITEMS = [
    ("tent-2p", 249.0),
    ("boots-trail", 139.0),
    ("jacket-rain", 119.0),
    ("pack-30l", 89.0),
    ("stove-mini", 49.0),
    ("socks-wool", 19.0),
]


@dataclass
class Person:
    n: int
    device: str
    first_seen: datetime
    acquisition: str
    user_id: str | None = None
    purchases: list[tuple[datetime, str, float]] = field(default_factory=list)
    unhappy: bool = False  # filed a ticket or gave NPS <= 6 after the first purchase
    uses_app: bool = False


class Shop:
    """The simulation: people, their sessions and what they did, as GA4 rows."""

    def __init__(self, people: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.people: list[Person] = []
        self.ga4: list[dict[str, object]] = []
        self.checkout_attempts: Counter[tuple[str, str]] = Counter()
        self.sessions_by_day: Counter[tuple[date, str]] = Counter()
        self.survey: list[list[object]] = []
        self.tickets: list[list[object]] = []
        self.session_counter = 0
        for n in range(1, people + 1):
            self.people.append(self._arrive(n))

    def pick(self, weights: dict[str, float]) -> str:
        names = list(weights)
        p = np.array([weights[k] for k in names], dtype=float)
        return str(names[int(self.rng.choice(len(names), p=p / p.sum()))])

    def _arrive(self, n: int) -> Person:
        while True:  # weekday rhythm: weekend days get 60% of a weekday's arrivals
            day = int(self.rng.integers(0, DAYS - 14))
            when = START + timedelta(days=day)
            in_spike = SPIKE[0] <= when.date() <= SPIKE[1]
            if when.weekday() < 5 or self.rng.random() < 0.6:
                break
        first = when + timedelta(seconds=int(self.rng.integers(7 * 3600, 23 * 3600)))
        acquisition = (
            "Paid Search" if in_spike and self.rng.random() < 0.45 else self.pick(FIRST_TOUCH)
        )
        device = self.pick({"desktop": 0.55, "mobile": 0.40, "tablet": 0.05})
        return Person(n, device, first, acquisition, uses_app=bool(self.rng.random() < 0.15))

    def simulate(self) -> None:
        for person in self.people:
            self._journey(person)

    def _journey(self, person: Person) -> None:
        when, channel = person.first_seen, person.acquisition
        sessions = 1 + int(self.rng.poisson(1.6))
        for index in range(sessions):
            self._session(person, when, channel, index + 1)
            when += timedelta(days=float(self.rng.exponential(6)) + 0.05)
            channel = self.pick(RETURN)
        if person.purchases:  # after the first purchase: surveys, tickets, repeat buying
            self._after_purchase(person, when)

    def _after_purchase(self, person: Person, when: datetime) -> None:
        bought_at = person.purchases[0][0]
        if self.rng.random() < 0.12:
            self.tickets.append(
                [
                    f"T{len(self.tickets) + 1:05d}",
                    person.user_id,
                    _iso(bought_at + timedelta(days=2)),
                    self.pick(
                        {
                            "Where is my order?": 0.5,
                            "Item arrived damaged": 0.3,
                            "Refund request": 0.2,
                        }
                    ),
                    "solved",
                    self.pick({"low": 0.3, "normal": 0.5, "high": 0.2}),
                    self.pick({"bad": 0.6, "good": 0.2, "unoffered": 0.2}),
                ]
            )
            person.unhappy = True
        if self.rng.random() < 0.45:
            score = int(self.rng.choice(11, p=_nps_weights(person.unhappy)))
            self.survey.append(
                [
                    f"R{len(self.survey) + 1:05d}",
                    person.user_id,
                    _iso(bought_at + timedelta(days=7)),
                    score,
                    "" if score > 8 else self.pick({"Too slow": 0.5, "Pricey": 0.3, "Meh": 0.2}),
                ]
            )
            person.unhappy = person.unhappy or score <= 6
        # story 3 and 4: repeat buyers come back through email; unhappy people rarely do
        chance = 0.08 if person.unhappy else 0.55
        if self.rng.random() < chance:
            later = bought_at + timedelta(days=float(self.rng.uniform(10, 40)))
            if later < START + timedelta(days=DAYS):
                channel = "Email" if self.rng.random() < 0.8 else self.pick(RETURN)
                self._session(person, later, channel, 99, will_buy=True)

    def _session(
        self, person: Person, when: datetime, channel: str, number: int, will_buy: bool = False
    ) -> None:
        if when >= START + timedelta(days=DAYS):
            return
        self.session_counter += 1
        session_id = int(when.timestamp())
        self.sessions_by_day[(when.date(), channel)] += 1
        source, medium, campaign = TAGS[channel]
        events: list[tuple[str, dict[str, object]]] = [("session_start", {}), ("page_view", {})]
        steps = STEP[person.device]
        reached = "page_view"
        for step in ("view_item", "add_to_cart", "begin_checkout", "add_payment_info", "purchase"):
            boost = 1.25 if number > 1 else 1.0
            if step == "begin_checkout" and person.user_id is None:
                events.append(("sign_up", {}))
            if will_buy or self.rng.random() < min(0.97, steps[step] * boost):
                events.append((step, {}))
                reached = step
                if step == "begin_checkout":
                    self.checkout_attempts[(person.device, "begin_checkout")] += 1
                if step == "add_payment_info":
                    self.checkout_attempts[(person.device, "add_payment_info")] += 1
            else:
                break
        if person.user_id is None and reached == "page_view" and self.rng.random() < 0.05:
            events.append(("login", {}))
        t = when
        for name, _ in events:
            if name in {"sign_up", "login"}:
                person.user_id = f"u{person.n:05d}"
            row = self._ga4_row(
                person, t, name, session_id, number, channel, (source, medium, campaign)
            )
            if name == "purchase":
                item, price = ITEMS[int(self.rng.integers(0, len(ITEMS)))]
                quantity = 1 + int(self.rng.random() < 0.2)
                value = round(price * quantity, 2)
                row["ecommerce"] = {
                    "purchase_revenue": value,
                    "transaction_id": f"TX{len(self.ga4):07d}",
                }
                row["items"] = [{"item_id": item, "price": price, "quantity": quantity}]
                person.purchases.append((t, channel, value))
            self.ga4.append(row)
            t += timedelta(seconds=int(self.rng.integers(15, 240)))

    def _ga4_row(
        self,
        person: Person,
        t: datetime,
        name: str,
        session_id: int,
        number: int,
        channel: str,
        tags: tuple[str, str, str | None],
    ) -> dict[str, object]:
        source, medium, campaign = tags

        def param(key: str, **value: object) -> dict[str, object]:
            return {
                "key": key,
                "value": {
                    "string_value": None,
                    "int_value": None,
                    "float_value": None,
                    "double_value": None,
                    **value,
                },
            }

        params = [
            param("ga_session_id", int_value=str(session_id)),
            param("ga_session_number", int_value=str(number)),
            param(
                "page_location", string_value=f"https://northwind.example/{name.replace('_', '-')}"
            ),
        ]
        tagged = name == "session_start" and channel != "Direct"
        # a Google Ads click carries a gclid; derived from ids, so no random draw shifts the rest
        gclid = f"Cj0K{session_id:x}{person.n:05d}" if tagged and medium == "cpc" else None
        if tagged:  # GA4 puts the session's source, medium and campaign on session_start
            params += [param("source", string_value=source), param("medium", string_value=medium)]
            params += [param("campaign", string_value=campaign)] if campaign else []
        row: dict[str, object] = {
            "event_date": t.strftime("%Y%m%d"),
            "event_timestamp": str(int(t.timestamp() * 1_000_000)),
            "event_name": name,
            "event_params": params,
            "user_id": person.user_id,
            "user_pseudo_id": f"{person.n:05d}.{1700000000 + person.n}",
            "device": {
                "category": person.device,
                "operating_system": {"desktop": "Windows", "mobile": "Android", "tablet": "iOS"}[
                    person.device
                ],
            },
            "geo": {"country": "Germany" if person.n % 3 else "France"},
            "traffic_source": dict(
                zip(("source", "medium", "name"), TAGS[person.acquisition], strict=True)
            ),
            "session_traffic_source_last_click": {
                "manual_campaign": {"source": source, "medium": medium, "campaign_name": campaign}
            },
            "platform": "WEB",
            "stream_id": "4242424242",
        }
        if tagged:
            row["collected_traffic_source"] = {
                "manual_source": source,
                "manual_medium": medium,
                "manual_campaign_name": campaign,
                "gclid": gclid,
            }
        return row


def _nps_weights(unhappy: bool) -> list[float]:
    weights = np.array(
        [1, 1, 2, 3, 4, 6, 8, 12, 14, 10, 6] if unhappy else [0, 0, 0, 1, 1, 2, 4, 10, 20, 30, 32],
        dtype=float,
    )
    return list(weights / weights.sum())


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write(shop: Shop, out: Path) -> dict[str, object]:
    """Write every export and return the stories' ground truth."""
    for folder in ("ga4", "segment", "crm", "spend", "survey", "support"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    by_month: dict[str, list[str]] = defaultdict(list)
    for row in sorted(
        shop.ga4, key=lambda r: (str(r["event_timestamp"]), str(r["user_pseudo_id"]))
    ):
        by_month[str(row["event_date"])[:6]].append(json.dumps(row, separators=(",", ":")))
    for month, lines in sorted(by_month.items()):
        # mtime=0 keeps gzip output byte-identical from run to run
        with gzip.GzipFile(out / "ga4" / f"events_{month}.ndjson.gz", "wb", mtime=0) as handle:
            handle.write(("\n".join(lines) + "\n").encode("utf-8"))
    _write_app(shop, out / "segment" / "app_events.jsonl")
    _write_deals(shop, out / "crm" / "deals.csv")
    _write_spend(shop, out / "spend")
    _csv(
        out / "survey" / "nps.csv",
        ["response_id", "user_id", "submitted_at", "score", "comment"],
        shop.survey,
    )
    _csv(
        out / "support" / "tickets.csv",
        [
            "ticket_id",
            "requester_id",
            "created_at",
            "subject",
            "status",
            "priority",
            "satisfaction_rating",
        ],
        shop.tickets,
    )
    stories = _stories(shop)
    (out / "stories.json").write_text(json.dumps(stories, indent=1, sort_keys=True) + "\n", "utf-8")
    return stories


def _write_app(shop: Shop, path: Path) -> None:
    rng = np.random.default_rng(11)
    lines = []
    for person in shop.people:
        if not (person.uses_app and person.user_id):
            continue
        t = person.first_seen + timedelta(days=1)
        anonymous = f"app-{person.n:05d}"
        calls = [("identify", None)] + [
            (str(e), None)
            for e in rng.choice(
                ["App Opened", "Product Viewed", "Wishlist Added"], size=int(rng.integers(2, 6))
            )
        ]
        for i, (name, _) in enumerate(calls):
            call: dict[str, object] = {
                "messageId": f"app-{person.n:05d}-{i}",
                "anonymousId": anonymous,
                "userId": person.user_id,
                "timestamp": _iso(t),
                "context": {
                    "app": {"name": "Northwind", "version": "3.2.0"},
                    "device": {"type": "android"},
                },
            }
            if name == "identify":
                call |= {"type": "identify", "traits": {"plan": "member"}}
            else:
                call |= {
                    "type": "track",
                    "event": name,
                    "properties": {"screen": name.split()[0].lower()},
                }
            lines.append(json.dumps(call, separators=(",", ":")))
            t += timedelta(minutes=int(rng.integers(1, 600)))
    path.write_text("\n".join(lines) + "\n", "utf-8")


def _write_deals(shop: Shop, path: Path) -> None:
    rng = np.random.default_rng(13)
    rows: list[list[object]] = []
    for person in shop.people:
        if not person.purchases or rng.random() > 0.08:
            continue
        created = person.purchases[0][0] + timedelta(days=float(rng.uniform(1, 10)))
        opportunity = (
            created + timedelta(days=float(rng.uniform(3, 20))) if rng.random() < 0.6 else None
        )
        won = lost = None
        if opportunity is not None:
            closed = opportunity + timedelta(days=float(rng.uniform(5, 30)))
            won, lost = (closed, None) if rng.random() < 0.55 else (None, closed)
        stage = (
            "closedwon"
            if won
            else "closedlost"
            if lost
            else "presentationscheduled"
            if opportunity
            else "appointmentscheduled"
        )
        rows.append(
            [
                f"D{len(rows) + 1:04d}",
                person.user_id,
                "Teams",
                stage,
                f"{int(rng.integers(5, 50)) * 100}.00",
                "EUR",
                _iso(created),
                _iso(created),
                _iso(opportunity) if opportunity else "",
                _iso(won) if won else "",
                _iso(lost) if lost else "",
            ]
        )
    _csv(
        path,
        [
            "deal_id",
            "contact_id",
            "pipeline",
            "dealstage",
            "amount",
            "currency",
            "createdate",
            "date_entered_lead",
            "date_entered_opportunity",
            "date_entered_closedwon",
            "date_entered_closedlost",
        ],
        rows,
    )


def _write_spend(shop: Shop, folder: Path) -> None:
    google: list[list[object]] = []
    meta: list[list[object]] = []
    cpc = {"Paid Search": 0.9, "Display": 0.25, "Video": 0.4, "Paid Social": 0.7}
    for offset in range(DAYS):
        day = (START + timedelta(days=offset)).date()
        for channel, kind, campaign in (
            ("Paid Search", "Search", "brand_search"),
            ("Display", "Display", "remarketing"),
            ("Video", "Video", "launch_video"),
        ):
            sessions = shop.sessions_by_day[(day, channel)]
            clicks = sessions * 3
            google.append(
                [
                    day.isoformat(),
                    campaign,
                    kind,
                    "EUR",
                    f"{clicks * cpc[channel] + 5:.2f}",
                    clicks * 40,
                    clicks,
                ]
            )
        clicks = shop.sessions_by_day[(day, "Paid Social")] * 3
        meta.append(
            [
                day.isoformat(),
                day.isoformat(),
                "spring_social",
                f"{clicks * cpc['Paid Social'] + 8:.2f}",
                clicks * 60,
                clicks,
            ]
        )
    _csv(
        folder / "google_ads.csv",
        ["Day", "Campaign", "Campaign type", "Currency code", "Cost", "Impressions", "Clicks"],
        google,
    )
    _csv(
        folder / "meta_ads.csv",
        [
            "Reporting starts",
            "Reporting ends",
            "Campaign name",
            "Amount spent (EUR)",
            "Impressions",
            "Link clicks",
        ],
        meta,
    )


def _csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _stories(shop: Shop) -> dict[str, object]:
    attempts = shop.checkout_attempts
    buyers = [p for p in shop.people if p.purchases]
    repeaters = [p for p in buyers if len(p.purchases) > 1]
    first_touch = Counter(p.acquisition for p in buyers)
    last_touch = Counter(p.purchases[0][1] for p in buyers)
    unhappy = [p for p in buyers if p.unhappy]
    happy = [p for p in buyers if not p.unhappy]
    spike_days = [(START + timedelta(days=d)).date() for d in range(DAYS)]
    spike = [
        shop.sessions_by_day[(d, "Paid Search")] for d in spike_days if SPIKE[0] <= d <= SPIKE[1]
    ]
    other = [
        shop.sessions_by_day[(d, "Paid Search")]
        for d in spike_days
        if not SPIKE[0] <= d <= SPIKE[1]
    ]
    weekday = [
        sum(shop.sessions_by_day[(d, c)] for c in TAGS) for d in spike_days if d.weekday() < 5
    ]
    weekend = [
        sum(shop.sessions_by_day[(d, c)] for c in TAGS) for d in spike_days if d.weekday() >= 5
    ]

    reached: defaultdict[str, set[str]] = defaultdict(set)  # event name -> user_pseudo_ids
    for row in shop.ga4:
        reached[str(row["event_name"])].add(str(row["user_pseudo_id"]))
    answered = {str(r[1]) for r in shop.survey} | {str(r[1]) for r in shop.tickets}

    def rate(device: str) -> float:
        return round(
            attempts[(device, "add_payment_info")] / max(1, attempts[(device, "begin_checkout")]), 4
        )

    return {
        "people": len(shop.people),
        "buyers": len(buyers),
        "events": len(shop.ga4),
        "1_mobile_checkout": {
            "payment_after_checkout_rate": {d: rate(d) for d in ("desktop", "mobile", "tablet")}
        },
        "2_open_and_close": {
            "first_touch_of_buyers": dict(first_touch.most_common()),
            "last_touch_of_first_purchase": dict(last_touch.most_common()),
        },
        "3_repeat_via_email": {
            "repeat_buyers": len(repeaters),
            "second_purchase_in_email_session": sum(
                sorted(p.purchases)[1][1] == "Email" for p in repeaters
            ),
        },
        "4_unhappy_rarely_return": {
            "repeat_rate_unhappy": round(
                sum(len(p.purchases) > 1 for p in unhappy) / max(1, len(unhappy)), 4
            ),
            "repeat_rate_others": round(
                sum(len(p.purchases) > 1 for p in happy) / max(1, len(happy)), 4
            ),
            "unhappy_buyers": len(unhappy),
        },
        "5_rhythm_and_spike": {
            "paid_search_sessions_per_day_spike_week": round(sum(spike) / len(spike), 2),
            "paid_search_sessions_per_day_other": round(sum(other) / len(other), 2),
            "sessions_per_weekday": round(sum(weekday) / len(weekday), 2),
            "sessions_per_weekend_day": round(sum(weekend) / len(weekend), 2),
        },
        "6_stages": {  # people reaching each stage of the five-stage map, by its events
            "awareness": len(reached["session_start"] | reached["page_view"]),
            "consideration": len(reached["view_item"]),
            "decision": len(
                reached["add_to_cart"] | reached["begin_checkout"] | reached["add_payment_info"]
            ),
            "purchase": len(reached["purchase"]),
            "post_purchase": sum(p.user_id in answered for p in buyers),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "sample")
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    shop = Shop(args.people, args.seed)
    shop.simulate()
    stories = write(shop, args.out)
    print(json.dumps(stories, indent=1))


if __name__ == "__main__":
    main()
