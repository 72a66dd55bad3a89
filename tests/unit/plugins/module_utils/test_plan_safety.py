"""Nothing bought or released on a guess: the planner's side. Pure, no I/O."""

from __future__ import annotations

import random

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._entries import NumberEntry, PoolEntry
from ansible_collections.livekit.sip.plugins.module_utils._errors import IncompleteListing
from ansible_collections.livekit.sip.plugins.module_utils._plan import (
    Planner,
    held_since,
    may_match,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import normalize_record


def sf(n):
    return "+1415555%04d" % n


def ny(n):
    return "+1212555%04d" % n


def rec(e164, status="PHONE_NUMBER_STATUS_ACTIVE", rules=(), assigned=None, **fields):
    raw = {
        "id": "PN_" + e164[-6:],
        "e164_format": e164,
        "country_code": "US",
        "area_code": e164[2:5],
        "status": status,
        "sip_dispatch_rule_ids": list(rules),
        "assigned_at": assigned,
    }
    raw.update(fields)
    return normalize_record(raw)


def offer(*numbers, spam=None):
    spam = spam or {}
    return [
        normalize_record(
            {"e164_format": n, "country_code": "US", "area_code": n[2:5], "spam_score": spam.get(n)}
        )
        for n in numbers
    ]


def pool(index, count, area="415", rule=None, country="US"):
    return PoolEntry(index, country, area, count, rule)


# ------------------------------------------------------------------ item 1: unknown statuses


def test_a_number_with_an_unknown_status_counts_for_its_pool():
    current = [rec(sf(1), "PHONE_NUMBER_STATUS_SUSPENDED"), rec(sf(2), 7), rec(sf(3))]
    planner = Planner(current, [], [pool(0, 3)], uncertain=[sf(1), sf(2)])
    assert planner.pools[0].claimed == [sf(1), sf(2), sf(3)]
    assert planner.pools[0].shortfall == 0


def test_an_explicit_entry_does_not_buy_a_number_held_under_an_unknown_status():
    current = [rec(sf(1), "PHONE_NUMBER_STATUS_SUSPENDED")]
    planner = Planner(current, [NumberEntry(0, sf(1), None, "present")], uncertain=[sf(1)])
    assert planner.finish().purchased == []


def test_release_unlisted_leaves_uncertain_numbers_but_an_entry_may_release_them():
    current = [rec(sf(1), "PHONE_NUMBER_STATUS_SUSPENDED"), rec(sf(2)), rec(sf(3), 9)]
    planner = Planner(current, [NumberEntry(0, sf(3), None, "absent")], uncertain=[sf(1), sf(3)])
    plan = planner.finish(release_unlisted=True)
    assert plan.releases == [sf(3), sf(2)]
    assert planner.kept == [sf(1)]


# ------------------------------------------------------------------ items 2 and 3: incomplete listings


def test_an_incomplete_listing_fills_no_pool_and_names_why():
    planner = Planner([rec(sf(1))], [], [pool(0, 3)], incomplete="2 records were read twice")
    with pytest.raises(IncompleteListing) as info:
        planner.check_listing()
    message = str(info.value)
    assert "2 records were read twice" in message
    assert "buy 2 numbers for pool entries[0] (US area code 415)" in message
    assert "Nothing was searched, bought or released" in message


def test_an_incomplete_listing_releases_no_unlisted_number():
    planner = Planner([rec(sf(1)), rec(sf(2))], [], [pool(0, 1)], incomplete="gap")
    planner.check_listing(release_unlisted=False)
    with pytest.raises(IncompleteListing, match="release 1 unlisted numbers"):
        planner.check_listing(release_unlisted=True)


def test_explicit_entries_do_not_need_a_complete_listing():
    planner = Planner(
        [rec(sf(1))],
        [NumberEntry(0, sf(2), None, "present"), NumberEntry(1, sf(1), None, "absent")],
        [pool(2, 0)],
        incomplete="gap",
    )
    planner.check_listing(release_unlisted=True)
    plan = planner.finish()
    assert plan.purchased == [sf(2)] and plan.releases == [sf(1)]


# ------------------------------------------------------------------ item 4: missing fields


def test_a_held_number_of_unknown_country_stops_a_short_pool():
    blind = normalize_record({"id": "PN_x", "e164_format": "+442071234567", "status": 1})
    planner = Planner([blind], [], [pool(0, 2, area="", country="GB")], uncertain=["+442071234567"])
    with pytest.raises(IncompleteListing) as info:
        planner.check_listing()
    assert "without the country or area code" in str(info.value)
    assert "+442071234567" in str(info.value)


def test_nanp_numbers_without_fields_are_derived_and_counted():
    bare = normalize_record({"id": "PN_x", "e164_format": sf(1), "status": 1})
    planner = Planner([bare], [], [pool(0, 1)], uncertain=[sf(1)])
    planner.check_listing(release_unlisted=True)
    assert planner.pools[0].claimed == [sf(1)]


# ------------------------------------------------------------------ item 5: deterministic choice


def test_the_choice_does_not_depend_on_the_order_of_the_offer():
    numbers = [sf(n) for n in range(10, 30)]
    spam = {sf(10): 0.4, sf(11): 0.4}
    choices = set()
    for seed in range(6):
        shuffled = list(numbers)
        random.Random(seed).shuffle(shuffled)
        planner = Planner([], [], [pool(0, 4)])
        planner.choose(planner.pools[0], offer(*shuffled, spam=spam))
        choices.add((tuple(planner.pools[0].buy), tuple(planner.pools[0].spares)))
    assert len(choices) == 1
    ((buy, spares),) = choices
    # The lowest spam score first, then the lowest number.
    assert list(buy) == [sf(12), sf(13), sf(14), sf(15)]
    assert spares[-2:] == (sf(10), sf(11))


def test_a_fresh_listing_before_the_purchase_counts_what_a_concurrent_run_bought():
    planner = Planner([], [NumberEntry(0, ny(1), None, "present")], [pool(1, 3, rule="R")])
    planner.choose(planner.pools[0], offer(sf(1), sf(2), sf(3), sf(4)))
    planner.finish()
    assert planner.plan.purchased == [ny(1), sf(1), sf(2), sf(3)]
    # Meanwhile another run bought sf(2) (a candidate of ours) and sf(9) for the same pool.
    routes = planner.refresh([rec(sf(2), rules=["R"]), rec(sf(9), rules=["X"])])
    assert planner.pools[0].claimed == [sf(2), sf(9)]
    assert planner.pools[0].buy == [sf(1)]
    assert planner.plan.purchased == [ny(1), sf(1)]
    assert [(r.number, r.rule) for r in routes] == [(sf(9), "R")]


def test_a_fresh_listing_showing_a_full_pool_leaves_nothing_to_buy():
    planner = Planner([], [], [pool(0, 2)])
    planner.choose(planner.pools[0], offer(sf(1), sf(2), sf(3)))
    planner.finish()
    planner.refresh([rec(sf(7)), rec(sf(8)), rec(sf(9))])
    assert planner.plan.purchased == [] and planner.pools[0].claimed == [sf(7), sf(8)]


# ------------------------------------------------------------------ item 6: the oldest stay


def test_an_overfilled_pool_keeps_the_numbers_held_longest():
    current = [
        rec(sf(5), rules=["R"], assigned="2026-12-01T09:00:00.5Z"),
        rec(sf(1), rules=["R"], assigned="2026-12-01T09:00:01Z"),
        rec(sf(9), rules=["R"], assigned="2025-01-01T00:00:00Z"),
        rec(sf(3), rules=["R"], assigned="2026-12-01T09:00:00.25Z"),
        rec(sf(2), rules=["R"]),
    ]
    planner = Planner(current, [], [pool(0, 2, rule="R")])
    assert planner.pools[0].claimed == [sf(9), sf(3)]
    plan = planner.finish(release_unlisted=True)
    assert sorted(plan.releases) == [sf(1), sf(2), sf(5)]


def test_among_numbers_held_as_long_routed_ones_are_kept_first():
    same = "2026-12-01T09:00:00Z"
    current = [rec(sf(1), assigned=same), rec(sf(2), rules=["R"], assigned=same)]
    assert Planner(current, [], [pool(0, 1, rule="R")]).pools[0].claimed == [sf(2)]


@pytest.mark.parametrize(
    "record, key",
    [
        ({"assigned_at": "2026-12-01T09:00:00Z"}, "2026-12-01T09:00:00.000000000"),
        ({"assigned_at": "2026-12-01T09:00:00.5Z"}, "2026-12-01T09:00:00.500000000"),
        ({"created_at": "2026-12-01T09:00:00.123456Z"}, "2026-12-01T09:00:00.123456000"),
        ({}, "~"),
    ],
)
def test_held_since_sorts_timestamps_of_any_precision(record, key):
    assert held_since(record) == key


# ------------------------------------------------------------------ item 12: one search per pool


def test_explicit_entries_elsewhere_leave_the_search_limit_alone():
    explicit = [NumberEntry(i, ny(i), None, "absent") for i in range(1000)]
    explicit += [NumberEntry(1000, sf(1), None, "present")]
    planner = Planner([], explicit, [pool(2000, 3)])
    assert planner.search_limit(planner.pools[0]) == 3 + 5
    # Only the named number in the pool's own area code may need room, if it is offered.
    assert planner.exclusion_room(planner.pools[0]) == 1


@pytest.mark.parametrize(
    "entry, number, expected",
    [
        (pool(0, 1), sf(1), True),
        (pool(0, 1), ny(1), False),
        (pool(0, 1, area=""), ny(1), True),
        (pool(0, 1, area="", country="CA"), ny(1), False),
        (pool(0, 1, area="", country="CA"), "+14165550100", True),
        (pool(0, 1, area=""), "+18005550100", True),  # toll-free: any NANP country
        (pool(0, 1, area=""), "+442071234567", False),
        (pool(0, 1, area="20", country="GB"), "+442071234567", True),
        (pool(0, 1, area="20", country="GB"), sf(1), False),
    ],
)
def test_may_match_reads_the_digits(entry, number, expected):
    assert may_match(entry, number) is expected
