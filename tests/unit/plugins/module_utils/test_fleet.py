"""The planner with pools: entries, pools counting held numbers, candidates, the spend guard. No I/O."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._entries import (
    NumberEntry,
    PoolEntry,
    parse_entries,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    NumberUnavailable,
    ParameterError,
    PoolShortfall,
    PurchaseLimitExceeded,
    refused_numbers,
)
from ansible_collections.livekit.sip.plugins.module_utils._plan import (
    Planner,
    Route,
    diff,
    pool_order,
    predict,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import normalize_record


def sf(n):
    return "+1415555%04d" % n


def ny(n):
    return "+1212555%04d" % n


def rec(e164, status="active", rules=(), country="US", area=None):
    return normalize_record(
        {
            "id": "PN_" + e164[-6:],
            "e164_format": e164,
            "country_code": country,
            "area_code": area if area is not None else e164[2:5],
            "status": "PHONE_NUMBER_STATUS_" + status.upper(),
            "sip_dispatch_rule_ids": list(rules),
        }
    )


def offer(*numbers):
    """Search results, as the API returns them (normalised, no status)."""
    return [
        normalize_record({"e164_format": n, "country_code": "US", "area_code": n[2:5]})
        for n in numbers
    ]


def pool(index, count, area="415", rule=None, country="US"):
    return PoolEntry(index, country, area, count, rule)


def number(index, e164, rule=None, state="present"):
    return NumberEntry(index, e164, rule, state)


# ------------------------------------------------------------------------------ entries


def test_parse_number_and_pool_entries_normalises_them():
    numbers, pools = parse_entries(
        [
            {"phone_number": "+1 (415) 555-0001", "sip_dispatch_rule_id": " SDR_a "},
            {"country_code": "us", "area_code": 415, "count": "3"},
            {"phone_number": "+14155550002", "state": "absent"},
            {"country_code": "GB", "count": 0, "sip_dispatch_rule_id": "SDR_b"},
        ]
    )
    assert numbers == [number(0, sf(1), "SDR_a"), number(2, sf(2), None, "absent")]
    assert pools == [pool(1, 3), PoolEntry(3, "GB", "", 0, "SDR_b")]


@pytest.mark.parametrize(
    "entry, message",
    [
        ("+14155550001", "entries[0] must be a mapping"),
        (
            {"phone_number": "+14155550001", "count": 2},
            "entries[0] mixes a number (phone_number) with pool keys (count)",
        ),
        (
            {"phone_number": "+14155550001", "cuont": 2},
            "entries[0]: unknown key cuont (a number entry takes",
        ),
        (
            {"country_code": "US", "count": 1, "state": "absent"},
            "entries[0]: unknown key state (a pool entry takes",
        ),
        (
            {"area_code": "415", "count": 1},
            "entries[0] needs phone_number (one number) or country_code and count",
        ),
        (
            {"phone_number": 14155550001},
            "entries[0]: phone_number must be a quoted string starting with '+'",
        ),
        (
            {"phone_number": "0014155550001"},
            "entries[0]: phone number '0014155550001' is not E.164",
        ),
        (
            {"phone_number": "+14155550001", "state": "gone"},
            "entries[0]: state must be present or absent, not 'gone'",
        ),
        (
            {"phone_number": "+14155550001", "sip_dispatch_rule_id": " "},
            "entries[0]: sip_dispatch_rule_id must not be empty",
        ),
        (
            {"country_code": "USA", "count": 1},
            "entries[0]: country_code must be an ISO 3166-1 alpha-2 code",
        ),
        (
            {"country_code": "US", "area_code": "4l5", "count": 1},
            "entries[0]: area_code must contain digits only",
        ),
        ({"country_code": "US"}, "entries[0]: a pool needs count"),
        (
            {"country_code": "US", "count": -1},
            "entries[0]: count must be a whole number, 0 or more, not -1",
        ),
        ({"country_code": "US", "count": True}, "entries[0]: count must be a whole number"),
        ({"country_code": 1, "count": 1}, "entries[0]: country_code must be a string"),
    ],
)
def test_malformed_entries_are_refused_naming_the_entry(entry, message):
    with pytest.raises(ParameterError) as info:
        parse_entries([entry])
    assert message in str(info.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ParameterError) as info:
        parse_entries([{"phone_number": sf(1)}, {"country_code": "US"}, {"phone_number": "bad"}])
    text = str(info.value)
    assert "entries[1]" in text and "entries[2]" in text and "entries[0]" not in text


def test_entries_must_be_a_list():
    with pytest.raises(ParameterError, match="entries must be a list"):
        parse_entries({"phone_number": sf(1)})


def test_duplicate_numbers_merge_when_they_agree_and_fail_when_not():
    numbers, dummy = parse_entries(
        [{"phone_number": sf(1)}, {"phone_number": "+1 415 555 0001", "sip_dispatch_rule_id": "R"}]
    )
    assert numbers == [number(0, sf(1), "R")]
    with pytest.raises(
        ParameterError, match=r"entries\[0\] and entries\[1\] both name \+14155550001 but disagree"
    ):
        parse_entries(
            [
                {"phone_number": sf(1), "sip_dispatch_rule_id": "A"},
                {"phone_number": sf(1), "sip_dispatch_rule_id": "B"},
            ]
        )
    with pytest.raises(ParameterError, match="disagree"):
        parse_entries([{"phone_number": sf(1)}, {"phone_number": sf(1), "state": "absent"}])


# ------------------------------------------------------------------------------ pools count held numbers


def test_held_matching_numbers_count_and_only_the_shortfall_is_bought():
    current = [rec(sf(1), rules=["R"]), rec(sf(2), "offline"), rec(ny(1), rules=["R"])]
    fleet = Planner(current, [], [pool(0, 3, rule="R")])
    (p,) = fleet.pools
    assert p.claimed == [sf(1), sf(2)]
    assert p.shortfall == 1
    assert fleet.unlisted == [ny(1)]


def test_numbers_named_by_entries_do_not_count_for_pools():
    current = [rec(sf(1)), rec(sf(2)), rec(sf(3))]
    fleet = Planner(current, [number(0, sf(1)), number(1, sf(2), state="absent")], [pool(2, 2)])
    assert fleet.pools[0].claimed == [sf(3)]
    assert fleet.pools[0].shortfall == 1


def test_a_number_routed_elsewhere_counts_and_is_rerouted_to_the_pools_rule():
    current = [rec(sf(1), rules=["OTHER"])]
    fleet = Planner(current, [], [pool(0, 1, rule="R")])
    plan = fleet.finish(release_unlisted=False)
    assert fleet.pools[0].claimed == [sf(1)]
    assert plan.purchases == []
    assert plan.routes == [Route(sf(1), "PN_550001", ["OTHER"], "R")]


def test_a_pool_without_rule_leaves_routing_alone():
    fleet = Planner([rec(sf(1), rules=["OTHER"])], [], [pool(0, 1)])
    plan = fleet.finish(release_unlisted=False)
    assert not plan.changed


def test_numbers_already_on_the_rule_are_preferred_so_a_rerun_routes_nothing():
    current = [rec(sf(1), rules=["OTHER"]), rec(sf(2)), rec(sf(3), rules=["R"])]
    fleet = Planner(current, [], [pool(0, 1, rule="R")])
    assert fleet.pools[0].claimed == [sf(3)]
    # Unrouted numbers come before numbers routed to another rule.
    fleet = Planner(current, [], [pool(0, 2, rule="R2")])
    assert fleet.pools[0].claimed == [sf(2), sf(1)]


def test_area_pools_choose_before_country_pools():
    current = [rec(sf(1)), rec(ny(1))]
    wide = pool(0, 1, area="")
    narrow = pool(1, 1, area="415")
    fleet = Planner(current, [], [wide, narrow])
    assert pool_order([wide, narrow]) == [narrow, wide]
    assert [p.claimed for p in fleet.pools] == [[ny(1)], [sf(1)]]


def test_a_pool_accounts_for_count_numbers_and_the_rest_is_unlisted():
    current = [rec(sf(1)), rec(sf(2)), rec(sf(3), "released")]
    fleet = Planner(current, [], [pool(0, 1)])
    assert fleet.pools[0].claimed == [sf(1)]
    assert fleet.unlisted == [sf(2)]


def test_alpha3_country_codes_of_held_numbers_match():
    fleet = Planner([rec(sf(1), country="USA")], [], [pool(0, 1)])
    assert fleet.pools[0].claimed == [sf(1)]


# ------------------------------------------------------------------------------ spend guard and candidates


def test_spend_guard_names_explicit_numbers_and_pool_shortfalls():
    fleet = Planner([], [number(0, sf(1)), number(1, sf(2))], [pool(2, 3, area="212")])
    fleet.check_spend(5)
    with pytest.raises(PurchaseLimitExceeded) as info:
        fleet.check_spend(4)
    text = str(info.value)
    assert "would buy 5 numbers" in text and "max_purchase=4" in text
    assert "+14155550001, +14155550002" in text
    assert "3 for pool entries[2] (US area code 212)" in text
    assert "nothing was searched or bought" in text


def test_held_numbers_do_not_count_against_the_spend_guard():
    fleet = Planner([rec(sf(1)), rec(sf(2))], [number(0, sf(1))], [pool(1, 2)])
    fleet.check_spend(1)
    with pytest.raises(PurchaseLimitExceeded):
        fleet.check_spend(0)


def test_candidates_skip_held_named_and_other_pools_numbers():
    current = [rec(sf(1))]
    fleet = Planner(
        current,
        [number(0, sf(2), state="absent"), number(1, sf(3))],
        [pool(2, 2, rule="A"), pool(3, 3, rule="B")],
    )
    first, second = fleet.pools
    assert first.claimed == [sf(1)] and first.shortfall == 1 and second.shortfall == 3
    fleet.choose(first, offer(sf(1), sf(2), sf(3), sf(4), sf(5), ny(9)))
    assert first.buy == [sf(4)] and first.spares == [sf(5)]
    # A spare of another pool is fair game; only the numbers another pool buys are not.
    fleet.choose(second, offer(sf(4), sf(5), sf(6), sf(7), sf(8)))
    assert second.buy == [sf(5), sf(6), sf(7)] and second.spares == [sf(8)]
    fleet.check_shortfalls()
    fleet.finish(release_unlisted=False)
    # The first pool's spare is bought by the second: replacing a taken candidate skips it.
    with pytest.raises(PoolShortfall, match="no other candidate is left"):
        fleet.replace_taken([sf(4), sf(5), sf(6), sf(7)], [sf(4)])


def test_search_limit_leaves_room_for_spares_and_exclusions():
    fleet = Planner([], [number(0, sf(1)), number(1, sf(2))], [pool(2, 3), pool(3, 20)])
    small, large = fleet.pools
    # Room for the two named numbers is asked for only if the search offers them.
    assert fleet.search_limit(small) == 3 + 5
    assert fleet.exclusion_room(small) == 2
    fleet.choose(small, offer(*[sf(n) for n in range(10, 18)]))
    assert (
        fleet.search_limit(large) == 20 + 20 + 3
    )  # the 3 the small pool buys may be offered again


def test_a_pool_the_search_cannot_fill_fails_naming_the_shortfall():
    fleet = Planner([rec(sf(1))], [], [pool(0, 4), pool(1, 1, area="212")])
    fleet.choose(fleet.pools[0], offer(sf(2), sf(3)))
    fleet.choose(fleet.pools[1], offer(ny(1)))
    with pytest.raises(PoolShortfall) as info:
        fleet.check_shortfalls()
    assert str(info.value) == (
        "pool entries[0] (US area code 415) needs 3 more numbers (holds 1 of 4) but "
        "the search offered only 2; nothing was bought"
    )


# ------------------------------------------------------------------------------ the writes


def test_one_purchase_per_rule_across_numbers_and_pools_in_entry_order():
    current = [rec(sf(1), rules=["OLD"]), rec(sf(2)), rec(ny(1))]
    fleet = Planner(
        current,
        [
            number(0, sf(1), "A"),
            number(1, sf(3), "A"),
            number(2, sf(4)),
            number(4, sf(2), state="absent"),
            number(5, sf(5), state="absent"),
        ],
        [pool(3, 2, area="212", rule="A")],
    )
    fleet.choose(fleet.pools[0], offer(ny(2), ny(3)))
    plan = fleet.finish(release_unlisted=False)
    assert plan.purchases == [("A", [sf(3), ny(2)]), ("", [sf(4)])]
    assert plan.routes == [
        Route(sf(1), "PN_550001", ["OLD"], "A"),
        Route(ny(1), "PN_550001", [], "A"),
    ]
    assert plan.releases == [sf(2)] and plan.release_ids == ["PN_550002"]
    assert fleet.unlisted == []
    assert plan.targets == [sf(1), sf(2), ny(1), sf(3), ny(2), sf(4)]


def test_unlisted_numbers_are_released_only_on_request():
    current = [rec(sf(1)), rec(sf(2)), rec(sf(3))]
    kept = Planner(current, [number(0, sf(1))], [])
    assert kept.finish(release_unlisted=False).releases == []
    assert kept.unlisted == [sf(2), sf(3)]
    released = Planner(current, [number(0, sf(1))], []).finish(release_unlisted=True)
    assert released.releases == [sf(2), sf(3)]


def test_predict_and_diff_show_the_fleet_after_the_run():
    current = [rec(sf(1), rules=["OLD"]), rec(sf(2))]
    fleet = Planner(
        current, [number(0, sf(1), "A"), number(1, sf(2), state="absent")], [pool(2, 1, rule="A")]
    )
    fleet.choose(fleet.pools[0], offer(sf(3)))
    plan = fleet.finish(release_unlisted=False)
    after = predict(current, plan)
    assert [(r["e164_format"], r["status"], r["sip_dispatch_rule_ids"]) for r in after] == [
        (sf(1), "active", ["A"]),
        (sf(3), "pending", ["A"]),
    ]
    changes = diff(current, plan)
    assert changes["before"][sf(3)] == {"state": "absent"}
    assert changes["after"][sf(2)] == {"state": "absent"}
    assert changes["after"][sf(1)]["sip_dispatch_rule_ids"] == ["A"]
    assert fleet.pool_results() == [
        {
            "entry": 2,
            "country_code": "US",
            "area_code": "415",
            "count": 1,
            "sip_dispatch_rule_id": "A",
            "filters": {},
            "held": [sf(3)],
            "purchased": [sf(3)],
        }
    ]


# ------------------------------------------------------------------------------ candidates taken meanwhile


def test_a_taken_candidate_is_replaced_by_the_next_one():
    fleet = Planner([], [number(0, sf(1), "A")], [pool(1, 2, rule="A")])
    fleet.choose(fleet.pools[0], offer(sf(2), sf(3), sf(4)))
    fleet.finish(release_unlisted=False)
    assert fleet.replace_taken([sf(1), sf(2), sf(3)], [sf(2)]) == [sf(1), sf(4), sf(3)]
    assert fleet.pools[0].buy == [sf(4), sf(3)]
    with pytest.raises(PoolShortfall) as info:
        fleet.replace_taken([sf(1), sf(4), sf(3)], [sf(3)])
    assert "2 of the 3 numbers the search offered (+14155550002, +14155550003)" in str(info.value)


def test_a_taken_explicit_number_has_no_replacement():
    fleet = Planner([], [number(0, sf(1))], [])
    fleet.finish(release_unlisted=False)
    with pytest.raises(NumberUnavailable, match=r"\+14155550001 is not available to buy"):
        fleet.replace_taken([sf(1)], [sf(1)])


def api_error(code, msg, **meta):
    body = '{{"code": "{}", "msg": "{}", "meta": {{{}}}}}'.format(
        code, msg, ", ".join('"{}": "{}"'.format(*item) for item in meta.items())
    )
    return errors.error_from_response(errors.TWIRP_STATUS[code], body.encode())


def test_refused_numbers_read_meta_or_message_and_only_requested_numbers():
    requested = [sf(1), sf(2), sf(3)]
    assert refused_numbers(
        api_error("failed_precondition", "not available", numbers=f"{sf(2)},{ny(1)}"), requested
    ) == [sf(2)]
    assert refused_numbers(
        api_error("not_found", f"numbers not available: {sf(3)}, {sf(1)}"), requested
    ) == [sf(1), sf(3)]
    assert (
        refused_numbers(api_error("resource_exhausted", "quota exceeded", numbers=sf(1)), requested)
        == []
    )
    assert refused_numbers(api_error("invalid_argument", "bad", numbers=sf(1)), requested) == []
    assert refused_numbers(None, requested) == []


# ------------------------------------------------------------------------------ idempotence


def apply(current, plan):
    """The project after carrying out ``plan`` (what a faithful server would hold)."""
    held = {r["e164_format"]: r for r in current}
    for rule, numbers in plan.purchases:
        for n in numbers:
            held[n] = rec(n, "pending", [rule] if rule else [])
    for route in plan.routes:
        held[route.number] = dict(held[route.number], sip_dispatch_rule_ids=[route.rule])
    for n in plan.releases:
        del held[n]
    return list(held.values())


POOL_RULES = st.sampled_from([None, "A", "B"])


@settings(max_examples=200, deadline=None)
@given(
    held=st.lists(
        st.tuples(
            st.integers(0, 11),
            st.sampled_from(["415", "212"]),
            st.sampled_from([(), ("A",), ("B",), ("C",)]),
        ),
        max_size=12,
        unique_by=lambda t: (t[0], t[1]),
    ),
    explicit=st.lists(
        st.tuples(
            st.integers(0, 11),
            st.sampled_from([None, "A", "C"]),
            st.sampled_from(["present", "absent"]),
        ),
        max_size=4,
        unique_by=lambda t: t[0],
    ),
    pools=st.lists(
        st.tuples(st.sampled_from(["", "415", "212"]), st.integers(0, 4), POOL_RULES), max_size=3
    ),
    release_unlisted=st.booleans(),
)
def test_a_second_run_changes_nothing(held, explicit, pools, release_unlisted):
    """Whatever the project holds and the entries ask, running the plan twice writes once."""

    def e164(n, area):
        return "+1%s555%04d" % (area, n)

    current = [rec(e164(n, area), rules=rules) for n, area, rules in held]
    numbers = [
        number(i, e164(n, "415"), rule, state) for i, (n, rule, state) in enumerate(explicit)
    ]
    pool_entries = [
        pool(len(numbers) + i, count, area, rule) for i, (area, count, rule) in enumerate(pools)
    ]
    stock = [e164(n, area) for area in ("415", "212") for n in range(100, 140)]

    def plan_once(records):
        fleet = Planner(records, numbers, pool_entries)
        for entry in pool_order(pool_entries):
            p = next(x for x in fleet.pools if x.entry is entry)
            if p.shortfall:
                p_offer = [n for n in stock if n not in {r["e164_format"] for r in records}]
                fleet.choose(p, offer(*p_offer))
        fleet.check_shortfalls()
        return fleet, fleet.finish(release_unlisted)

    fleet, first = plan_once(current)
    after = apply(current, first)
    again, second = plan_once(after)
    assert not second.changed, (
        first.purchases,
        first.routes,
        first.releases,
        second.routes,
        second.purchases,
    )
    for result in again.pool_results():
        assert len(result["held"]) == result["count"]
