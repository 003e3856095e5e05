"""Nothing silently empty or silently Direct (issue #26 step 3).

A CSV whose mapping names no source, medium or channel makes every touch Direct; a stage
map whose events the data does not have gives an empty journey; drivers that find nothing
must say why. Each is checked on a small log whose outcome is worked out by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import journeylib as jl
from journeylib.core.errors import DataError, ParameterError
from journeylib.faces.cli import main

#: the issue's clickstream, in small: an acquisition_channel column the mapping must name
CLICKS = (
    "user_id,session_id,event,timestamp,platform,acquisition_channel\n"
    "u1,s1,landing,2024-01-01T10:00:00Z,web,Paid Search\n"
    "u1,s1,product_detail,2024-01-01T10:01:00Z,web,Paid Search\n"
    "u1,s1,order_complete,2024-01-01T10:05:00Z,web,Paid Search\n"
    "u2,s2,landing,2024-01-02T10:00:00Z,ios,Email\n"
    "u2,s2,order_complete,2024-01-02T10:30:00Z,ios,Email\n"
    "u3,s3,landing,2024-01-03T10:00:00Z,web,Email\n"
)
NAMES = {"event_name": "event", "event_time": "timestamp"}


@pytest.fixture
def clicks(tmp_path: Path) -> Path:
    path = tmp_path / "clicks.csv"
    path.write_text(CLICKS)
    return path


def test_a_mapping_without_traffic_fields_is_warned_about_at_load(clicks: Path) -> None:
    ws = jl.open()
    report = ws.load_events(clicks, mapping=NAMES)
    [note] = [n for n in report.notes if "Direct" in n]
    assert "acquisition_channel" in note  # the column that holds it
    assert "mapping={'channel': 'acquisition_channel'}" in note
    assert "'channel: acquisition_channel'" in note  # the --mapping file's line
    for key in ("channel", "source", "medium", "campaign"):
        assert key in note
    quality = jl.data_quality(ws).table.set_index("check")
    assert quality.loc["direct_by_default", "value"] == 1.0  # all six events
    assert "every event lacks a source" in quality.loc["direct_by_default", "detail"]


def test_attribution_refuses_when_every_touch_is_direct_by_default(clicks: Path) -> None:
    ws = jl.open()
    ws.load_events(clicks, mapping=NAMES)
    with pytest.raises(DataError, match="every touch is Direct because no event has a source"):
        jl.attribution(ws.events(), conversion="order_complete")


def test_with_the_channel_mapped_nothing_is_said_and_credit_follows_it(clicks: Path) -> None:
    ws = jl.open()
    report = ws.load_events(clicks, mapping={**NAMES, "channel": "acquisition_channel"})
    assert not [n for n in report.notes if "Direct" in n]
    assert jl.data_quality(ws).table.set_index("check").loc["direct_by_default", "value"] == 0.0
    credit = jl.attribution(ws.events(), conversion="order_complete", models=["last_touch"])
    # u1 converts after a Paid Search session, u2 after an Email one: one each
    assert dict(zip(credit.table.channel, credit.table.conversions, strict=True)) == {
        "Email": 1.0,
        "Paid Search": 1.0,
    }


def test_the_cli_says_it_on_load_and_refuses_attribution(
    clicks: Path, tmp_path: Path, capsys
) -> None:
    mapping = tmp_path / "map.yml"
    mapping.write_text("event_name: event\nevent_time: timestamp\n")
    db = str(tmp_path / "w.duckdb")
    assert (
        main(["load", "--db", db, "--source", "csv", "--mapping", str(mapping), str(clicks)]) == 0
    )
    assert "'channel: acquisition_channel' in a --mapping file" in capsys.readouterr().out
    code = main(["attribution", "--db", db, "--conversion", "order_complete"])
    assert code == 2
    assert "every touch is Direct" in capsys.readouterr().err


def test_a_direct_only_touch_is_fine_when_other_events_say_where_people_came_from(
    tmp_path: Path,
) -> None:
    # u2 arrives with utm_source=newsletter (Email); u1 has no source: Direct, as it should be
    path = tmp_path / "e.csv"
    path.write_text(
        "user_id,event_name,event_time,source,medium\n"
        "u1,visit,2024-01-01T10:00:00Z,,\nu1,buy,2024-01-01T10:05:00Z,,\n"
        "u2,visit,2024-01-01T10:00:00Z,newsletter,email\n"
    )
    ws = jl.open()
    assert not [n for n in ws.load_events(path).notes if "Direct" in n]
    credit = jl.attribution(ws.events(), conversion="buy", models=["last_touch"])
    converted = credit.table[credit.table.conversions > 0]
    assert converted.channel.tolist() == ["Direct"]  # u1 bought; the data has sources


@pytest.fixture
def shop(clicks: Path) -> jl.Events:
    ws = jl.open()
    ws.load_events(clicks, mapping={**NAMES, "channel": "acquisition_channel"})
    return ws.events()


@pytest.mark.parametrize(
    "analysis",
    [
        lambda ev: jl.funnel(ev, jl.stages.FIVE_STAGE),
        lambda ev: jl.journey_map(ev),
        lambda ev: jl.stage_of(ev),
        lambda ev: jl.drivers(ev, jl.stages.FIVE_STAGE),
    ],
    ids=["funnel", "journey_map", "stage_of", "drivers"],
)
def test_a_stage_no_event_matches_is_an_error_naming_it_and_the_closest_events(
    shop, analysis
) -> None:
    with pytest.raises(ParameterError) as raised:
        analysis(shop)
    message = str(raised.value)
    # awareness is session_start, page_view or first_visit: none is in this shop's data
    assert "No event in the data matches stage 'awareness'" in message
    assert "Closest event names: landing, " in message or "Closest event names: " in message
    for name in ("landing", "product_detail", "order_complete"):
        assert name in message
    assert "stages.without('awareness')" in message


def test_stages_in_the_data_but_not_in_scope_count_zero(shop) -> None:
    stages = jl.Stages({"visit": ["landing"], "buy": ["order_complete"]})
    # u3 only landed; in u3's scope nobody buys, a true zero, not an error
    scoped = shop.where(user_id="u3")
    assert jl.funnel(scoped, stages).table.users.tolist() == [1, 0]
    with pytest.raises(ParameterError, match="stage 'buy'"):
        jl.funnel(shop, jl.Stages({"visit": ["landing"], "buy": ["purchase"]}))


def test_without_leaves_out_the_stages_the_data_lacks(shop) -> None:
    stages = jl.Stages(
        {"visit": ["landing"], "look": ["product_detail"], "refer": ["refer_friend"]}
    )
    result = jl.funnel(shop, stages.without("refer"))
    assert result.table.users.tolist() == [3, 1]  # u1, u2, u3 land; u1 views a product


def test_drivers_that_find_nothing_say_why(tmp_path: Path) -> None:
    rows = ["user_id,event_name,event_time"]
    for i in range(30):  # 30 view; the first 10 also read reviews; the first 20 buy
        rows.append(f"u{i},view,2024-01-01T10:00:00Z")
        if i < 10:
            rows.append(f"u{i},reviews,2024-01-01T10:01:00Z")
        if i < 20:
            rows.append(f"u{i},buy,2024-01-01T10:02:00Z")
    path = tmp_path / "e.csv"
    rows.append("later,other,2024-02-01T00:00:00Z")  # the data goes on: nobody is in progress
    path.write_text("\n".join(rows) + "\n")
    ws = jl.open()
    ws.load_events(path)
    ev = ws.events()

    # reviews: 10 converters of 20, 0 droppers of 10 -> only 10 people, under min_support=20
    few = jl.drivers(ev, ["view", "buy"], "1d")
    assert few.table.empty
    assert few.notes == (
        "No drivers: no event or value was seen by 20 or more of the 30 people compared"
        " (min_support=20); lower min_support, or add value features with columns=.",
    )
    # with min_support=5, reviews (10 of 20 converters, 0 of 10 droppers) is significant
    assert jl.drivers(ev, ["view", "buy"], "1d", min_support=5).notes == ()
    # at alpha=0.001 it is not: Fisher's p for [[10, 0], [10, 10]] is 0.01099: the tables as unlikely as it,
    # a = 10, 3, 2, 1, 0 reviewers among converters, C(20,a)C(10,10-a)/C(30,10) summed
    strict = jl.drivers(ev, ["view", "buy"], "1d", min_support=5, alpha=0.001)
    assert strict.table.empty
    assert strict.notes[0].startswith("No drivers: 1 event or value was seen by enough people,")
    assert "none differs between converters and droppers at alpha=0.001" in strict.notes[0]
    assert "lowest p = 0.011, for reviews" in strict.notes[0]
    # the ten who read reviews all bought; reviews come after view, so nobody goes on to view
    everyone = jl.drivers(ev.where(user_id=[f"u{i}" for i in range(10)]), ["view", "buy"], "1d")
    assert everyone.notes == (
        "Left out as steps on the way to buy, not drivers: reviews (100% of converters, 0% of"
        " droppers). Name them in steps= to look between them, or pass steps_between=None to"
        " keep them.",
        "No drivers: all 10 people who reached view and were compared went on to buy within 1d,"
        " so nobody dropped to compare them with.",
    )
    nobody = jl.drivers(ev, ["reviews", "view"], "1d")
    assert nobody.notes[0].startswith(
        "No drivers: none of the 10 people who reached reviews and were compared went on to view"
    )
    # without the later event, the 10 who did not buy might still: they are left out, and said
    pending = jl.drivers(ev.where(lambda t: t.event_name != "other"), ["view", "buy"], "1d")
    assert pending.notes == (
        "No drivers: all 20 people who reached view and were compared went on to buy within 1d,"
        " so nobody dropped to compare them with (10 more were still inside the 1d window when"
        " the data ends and are left out).",
    )
    assert "Note: No drivers" in nobody._repr_mimebundle_()["text/plain"]
