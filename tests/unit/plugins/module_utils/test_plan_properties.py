"""Properties of planning, for random projects and random desired states (hypothesis).

A plan is carried out here by a faithful model of the server (``apply``), then checked against
what the user asked: the desired state is reached, planning again plans nothing, no held number
is bought, nothing is released that the user did not ask to release, nothing else is touched,
and the spend guard is exact. test_fleet.py already checks that a second fleet run changes
nothing and fills every pool; this file adds the rest for phone_number's planning (plan_numbers) and the fleet, and the fleet
run that finds some candidates bought meanwhile by a concurrent run of the same project.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.livekit.sip.plugins.module_utils._api import ListResult
from ansible_collections.livekit.sip.plugins.module_utils._entries import NumberEntry, PoolEntry
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    PurchaseLimitExceeded,
    UnknownIds,
)
from ansible_collections.livekit.sip.plugins.module_utils._execute import Settings, read_and_plan
from ansible_collections.livekit.sip.plugins.module_utils._plan import matches, plan_numbers
from ansible_collections.livekit.sip.plugins.module_utils._records import is_held, normalize_record

RULES = [None, "A", "B"]
RULE_SETS = [(), ("A",), ("B",), ("A", "B")]


def rec(e164, status="active", rules=(), ident=None):
    return normalize_record(
        {
            "id": ident or "PN_" + e164[1:],
            "e164_format": e164,
            "country_code": "US",
            "area_code": e164[2:5],
            "status": "PHONE_NUMBER_STATUS_" + status.upper(),
            "sip_dispatch_rule_ids": list(rules),
        }
    )


def apply(current, plan):
    """The project after the server carried out ``plan``; asserts the writes make sense to it."""
    held = {r["e164_format"]: r for r in current if is_held(r)}
    others = [r for r in current if not is_held(r)]
    bought = plan.purchased
    assert len(bought) == len(set(bought)), "a number planned to be bought twice"
    for rule, numbers in plan.purchases:
        for number in numbers:
            assert number not in held, f"plans to buy {number}, which the project holds"
            held[number] = rec(
                number, "pending", [rule] if rule else [], ident="PN_new" + number[1:]
            )
    for route in plan.routes:
        assert route.number in held, (
            f"plans to route {route.number}, which the project does not hold"
        )
        held[route.number] = dict(
            held[route.number], sip_dispatch_rule_ids=[route.rule], sip_dispatch_rule_id=route.rule
        )
    for number in plan.releases:
        others.append(dict(held.pop(number), status="released"))
    return list(held.values()) + others


def make_plan(current, **request):
    """phone_number's planning: the one-entry-list case of the planner."""
    return plan_numbers(current, **request).plan


def held_rules(records):
    return {r["e164_format"]: r["sip_dispatch_rule_ids"] for r in records if is_held(r)}


# ------------------------------------------------------------------------------ make_plan

NUMBERS = ["+1415555%04d" % n for n in range(10)]


@st.composite
def projects(draw):
    """Held numbers (any held status, any rules) and released records, in any order."""
    held = draw(st.lists(st.sampled_from(NUMBERS), unique=True, max_size=8))
    records = [
        rec(
            n,
            draw(st.sampled_from(["active", "offline", "pending"])),
            draw(st.sampled_from(RULE_SETS)),
        )
        for n in held
    ]
    released = draw(st.lists(st.sampled_from(NUMBERS), max_size=3))
    records += [rec(n, "released", ident="PN_old%d" % i) for i, n in enumerate(released)]
    return draw(st.permutations(records))


@st.composite
def requests(draw, current):
    """make_plan's arguments: numbers (repeats allowed), ids (some unknown), rules, a limit."""
    ids = [r["id"] for r in current] + ["PN_unknown"]
    numbers = draw(st.lists(st.sampled_from(NUMBERS), max_size=6))
    return {
        "state": draw(st.sampled_from(["present", "absent"])),
        "numbers": numbers,
        "ids": draw(st.lists(st.sampled_from(ids), max_size=3)),
        "rule": draw(st.sampled_from(RULES)),
        "rules": draw(
            st.dictionaries(st.sampled_from(NUMBERS), st.sampled_from(["A", "B"]), max_size=3)
        )
        or None,
        "max_purchase": draw(st.one_of(st.none(), st.integers(0, 6))),
    }


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_make_plan_reaches_the_desired_state_and_touches_nothing_else(data):
    current = data.draw(projects())
    request = data.draw(requests(current))
    before = held_rules(current)
    by_id = {r["id"]: r["e164_format"] for r in current if is_held(r)}
    targets = set(request["numbers"]) | {by_id[i] for i in request["ids"] if i in by_id}
    to_buy = (
        [n for n in set(request["numbers"]) if n not in before]
        if request["state"] == "present"
        else []
    )

    if request["state"] == "present" and any(i not in by_id for i in request["ids"]):
        with pytest.raises(UnknownIds):
            make_plan(current, **request)
        return
    limit = request["max_purchase"]
    if limit is not None and len(to_buy) > limit:
        # The spend guard is exact: it refuses exactly the plans that buy more than allowed.
        with pytest.raises(PurchaseLimitExceeded, match="would buy %d numbers" % len(to_buy)):
            make_plan(current, **request)
        return
    plan = make_plan(current, **request)
    assert sorted(plan.purchased) == sorted(to_buy)
    # Releases only in state absent, and only of numbers the user named.
    assert set(plan.releases) <= targets and (not plan.releases or request["state"] == "absent")

    after_records = apply(current, plan)
    after = held_rules(after_records)
    for number in targets:
        if request["state"] == "absent":
            assert number not in after
            continue
        wanted = (request["rules"] or {}).get(number, request["rule"])
        assert after[number] == ([wanted] if wanted else before.get(number, []))
    assert {n: r for n, r in after.items() if n not in targets} == {
        n: r for n, r in before.items() if n not in targets
    }, "touched a number nobody asked about"
    assert not make_plan(after_records, **request).changed


# ------------------------------------------------------------------------------ fleet

AREAS = ["415", "212"]


def e164(n, area):
    return "+1%s555%04d" % (area, n)


STOCK = [e164(n, area) for area in AREAS for n in range(100, 140)]


@st.composite
def fleets(draw):
    """(current records, number entries, pool entries, release_unlisted)."""
    held = draw(
        st.lists(
            st.tuples(st.integers(0, 9), st.sampled_from(AREAS), st.sampled_from(RULE_SETS)),
            max_size=10,
            unique_by=lambda t: (t[0], t[1]),
        )
    )
    current = [
        rec(e164(n, area), draw(st.sampled_from(["active", "offline", "pending"])), rules)
        for n, area, rules in held
    ]
    current += [
        rec(e164(n, "415"), "released", ident="PN_old%d" % n)
        for n in draw(st.lists(st.integers(0, 9), max_size=2))
    ]
    explicit = draw(
        st.lists(
            st.tuples(
                st.integers(0, 9),
                st.sampled_from(AREAS),
                st.sampled_from(RULES),
                st.sampled_from(["present", "absent"]),
            ),
            max_size=5,
            unique_by=lambda t: (t[0], t[1]),
        )
    )
    numbers = [
        NumberEntry(i, e164(n, area), rule, state)
        for i, (n, area, rule, state) in enumerate(explicit)
    ]
    pools = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["", "415", "212"]), st.integers(0, 4), st.sampled_from(RULES)
            ),
            max_size=3,
        )
    )
    pools = [
        PoolEntry(len(numbers) + i, "US", area, count, rule)
        for i, (area, count, rule) in enumerate(pools)
    ]
    return draw(st.permutations(current)), numbers, pools, draw(st.booleans())


class StockApi:
    """The reads phone_number_fleet makes before writing: the project, and searches in STOCK."""

    def __init__(self, current):
        self.current = current

    def list(self, statuses=None, page_size=None):
        return ListResult(list(self.current), len(self.current), 0, 1)

    def holdings(self, page_size=None):
        return self.list(page_size=page_size)

    def lookup(self, numbers):
        known = {r["e164_format"]: r for r in self.current}
        return {number: known.get(number) for number in numbers}

    def search(self, country_code, area_code=None, limit=50, page_size=50):
        held = {r["e164_format"] for r in self.current if is_held(r)}
        offered = [
            rec(n, "unspecified", ident="")
            for n in STOCK
            if n not in held and (not area_code or n[2:5] == area_code)
        ]
        return offered[:limit]


def plan_fleet(current, numbers, pools, release_unlisted, max_purchase=None):
    """What phone_number_fleet does before writing (the executor's read_and_plan)."""
    run = Settings(workers=1, page_size=500, batch_size=500, wait=False, wait_timeout=0)
    dummy, fleet = read_and_plan(
        StockApi(current), run, numbers, pools, release_unlisted, max_purchase
    )
    return fleet


def check_desired(fleet, numbers, pools, after_records, before):
    after = held_rules(after_records)
    for entry in numbers:
        if entry.state == "absent":
            assert entry.number not in after
        else:
            assert after[entry.number] == (
                [entry.rule] if entry.rule else before.get(entry.number, [])
            )
    named = {entry.number for entry in numbers}
    seen = set()
    for result, entry in zip(fleet.pool_results(), pools):
        assert len(result["held"]) == entry.count
        for number in result["held"]:
            record = next(r for r in after_records if r["e164_format"] == number and is_held(r))
            assert matches(entry, record) and number not in named and number not in seen
            assert not entry.rule or after[number] == [entry.rule]
            seen.add(number)


@settings(max_examples=300, deadline=None)
@given(case=fleets(), guard=st.integers(-1, 1))
def test_fleet_reaches_the_desired_state_releases_only_what_was_asked_and_the_guard_is_exact(
    case, guard
):
    current, numbers, pools, release_unlisted = case
    before = held_rules(current)
    fleet = plan_fleet(current, numbers, pools, release_unlisted)
    plan = fleet.plan
    # The spend guard: a limit of exactly the purchases passes, one less refuses before any search.
    limit = len(plan.purchased) + guard
    if limit < 0:
        return
    if guard < 0:
        with pytest.raises(PurchaseLimitExceeded):
            plan_fleet(current, numbers, pools, release_unlisted, max_purchase=limit)
    else:
        assert (
            plan_fleet(current, numbers, pools, release_unlisted, max_purchase=limit).plan.purchased
            == plan.purchased
        )

    absent = {e.number for e in numbers if e.state == "absent"}
    allowed = absent | (set(fleet.unlisted) if release_unlisted else set())
    assert set(plan.releases) <= allowed, "releases a number nobody asked to release"
    after_records = apply(current, plan)
    check_desired(fleet, numbers, pools, after_records, before)
    # Numbers that no entry accounts for keep their records, unless release_unlisted released them.
    after = held_rules(after_records)
    for number in fleet.unlisted:
        assert after.get(number) == (None if release_unlisted else before[number])


@settings(max_examples=300, deadline=None)
@given(case=fleets(), data=st.data())
def test_candidates_a_concurrent_run_bought_count_as_held_and_nothing_is_bought_twice(case, data):
    """Some planned purchases are made meanwhile by another run on the same project: adopted,
    they complete the desired state, and no pool buys spares on top of them.

    The other run converges the same entries, so it buys a pool's candidate with the pool's
    rule; or it bought without a rule (by hand, say). An explicit number may carry any rule: it
    is routed to its entry's. (A run with other pool entries on the same project could route a
    candidate to another pool's rule; the run still reaches its desired state, but the next run
    may move numbers between the pools.)"""
    current, numbers, pools, release_unlisted = case
    fleet = plan_fleet(current, numbers, pools, release_unlisted)
    planned = fleet.plan.purchased
    theirs = data.draw(st.lists(st.sampled_from(planned), unique=True)) if planned else []
    planned_rule = {n: rule for rule, group in fleet.plan.purchases for n in group}

    def their_rules(number):
        if fleet.owner(number) is None:
            return st.sampled_from(RULE_SETS)
        return st.sampled_from([(planned_rule[number],) if planned_rule[number] else (), ()])

    bought_meanwhile = [rec(n, "pending", data.draw(their_rules(n))) for n in theirs]
    # Where an entry leaves routing alone, the other run's choice of rule stands.
    before = held_rules(current + bought_meanwhile)

    routes = fleet.adopt({r["e164_format"]: r for r in bought_meanwhile})
    fleet.plan.purchases = [
        (rule, [n for n in group if n not in theirs]) for rule, group in fleet.plan.purchases
    ]
    fleet.plan.routes.extend(routes)
    after_records = apply(current + bought_meanwhile, fleet.plan)
    assert sorted(fleet.plan.purchased + theirs) == sorted(planned)  # not one number more
    check_desired(fleet, numbers, pools, after_records, before)
    assert not plan_fleet(after_records, numbers, pools, release_unlisted).plan.changed
