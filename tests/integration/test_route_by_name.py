"""Routing by rule name, and rules defined beside a fleet's entries, against the emulator over HTTP."""

from __future__ import annotations

import pytest

from tests.integration.helpers import available, calls, connection, run_module, writes

pytest_plugins = ["livekit_sip_emulator.fixtures"]

RULE_WRITES = ("CreateSIPDispatchRule", "UpdateSIPDispatchRule", "DeleteSIPDispatchRule")


def run(emulator, module, check_mode=False, diff=False, **args):
    return run_module(module, dict(connection(emulator), **args), check_mode=check_mode, diff=diff)


def all_writes(emulator):
    """Phone-number and dispatch-rule write calls made so far."""
    counters = emulator.admin.counters()
    return writes(counters) + sum(calls(counters, m) for m in RULE_WRITES)


def make_rule(emulator, name, prefix=None):
    # A trunk of its own: two rules for every trunk would conflict.
    done = run(
        emulator,
        "sip_dispatch_rule",
        name=name,
        type="callee",
        room_prefix=prefix or name + "-",
        trunk_ids=["ST_" + name],
    )
    assert done.get("failed") is not True, done
    return done["sip_dispatch_rule"]["id"]


@pytest.fixture
def strict(emulator_factory):
    """An emulator refusing to buy or route numbers for rules that do not exist (a start-up switch)."""
    return emulator_factory(check_rule_ids=True)


def rule_ids(emulator):
    return [r["id"] for r in run(emulator, "sip_dispatch_rule_info")["sip_dispatch_rules"]]


def held(emulator, number):
    found = run(emulator, "phone_number_info", phone_number=number)
    return found["phone_numbers"][0]


# ------------------------------------------------------------------------------ phone_number


def test_phone_number_routes_by_rule_name(strict):
    emulator = strict
    sales = make_rule(emulator, "sales")
    support = make_rule(emulator, "support")
    number = available(emulator, "US", "415", 1)[0]
    emulator.admin.reset_counters()

    bought = run(emulator, "phone_number", phone_number=number, sip_dispatch_rule="sales")
    assert bought["changed"] is True and bought["purchased"] == [number]
    assert bought["phone_numbers"][0]["sip_dispatch_rule_ids"] == [sales]
    counters = emulator.admin.counters()
    # One listing of the rules (the first page, then the empty one that ends it), one of numbers.
    assert (
        calls(counters, "ListSIPDispatchRule") == 2 and calls(counters, "PurchasePhoneNumber") == 1
    )

    moved = run(emulator, "phone_number", phone_number=number, sip_dispatch_rule="support")
    assert moved["routed"] == [number] and held(emulator, number)["sip_dispatch_rule_ids"] == [
        support
    ]
    emulator.admin.reset_counters()
    again = run(emulator, "phone_number", phone_number=number, sip_dispatch_rule="support")
    assert again["changed"] is False and all_writes(emulator) == 0


def test_phone_number_with_an_unknown_name_fails_before_any_write(emulator):
    make_rule(emulator, "sales")
    make_rule(emulator, "support")
    number = available(emulator, "US", "415", 1)[0]
    emulator.admin.reset_counters()
    failed = run(emulator, "phone_number", phone_number=number, sip_dispatch_rule="suport")
    assert failed["failed"] is True and failed["error"]["code"] == "unknown_rule"
    assert (
        "no SIP dispatch rule is named 'suport'; the project's rules are named: sales, support"
        in failed["msg"]
    )
    counters = emulator.admin.counters()
    assert all_writes(emulator) == 0 and calls(counters, "ListPhoneNumbers") == 0

    both = run(
        emulator,
        "phone_number",
        phone_number=number,
        sip_dispatch_rule="sales",
        sip_dispatch_rule_id="SDR_x",
    )
    assert both["failed"] is True and "mutually exclusive" in both["msg"]


def test_a_name_two_rules_share_fails_naming_both_ids(emulator):
    # The server lets two rules carry one name (they differ in their trunks here).
    emulator.admin.load(
        {
            "sip_dispatch_rules": [
                {
                    "sip_dispatch_rule_id": rule_id,
                    "name": "twin",
                    "trunk_ids": [trunk],
                    "rule": {"dispatch_rule_direct": {"room_name": "r"}},
                }
                for rule_id, trunk in (("SDR_first", "ST_a"), ("SDR_second", "ST_b"))
            ]
        }
    )
    number = available(emulator, "US", "415", 1)[0]
    emulator.admin.reset_counters()
    for module, args in (
        ("phone_number", {"phone_number": number, "sip_dispatch_rule": "twin"}),
        (
            "phone_number_fleet",
            {"entries": [{"phone_number": number, "sip_dispatch_rule": "twin"}]},
        ),
    ):
        failed = run(emulator, module, **args)
        assert failed["failed"] is True and failed["error"]["code"] == "duplicate_name"
        assert "2 SIP dispatch rules are named 'twin' (SDR_first, SDR_second)" in failed["msg"]
    assert all_writes(emulator) == 0


# ------------------------------------------------------------------------------ fleet entries


def test_fleet_entries_and_pools_route_by_name(strict):
    emulator = strict
    support = make_rule(emulator, "support")
    sales = make_rule(emulator, "sales")
    explicit = available(emulator, "US", "415", 1)[0]
    entries = [
        {"phone_number": explicit, "sip_dispatch_rule": "support"},
        {"country_code": "US", "area_code": "650", "count": 2, "sip_dispatch_rule": "sales"},
    ]
    done = run(emulator, "phone_number_fleet", entries=entries)
    assert done["changed"] is True and len(done["purchased"]) == 3, done
    rules = {r["e164_format"]: r["sip_dispatch_rule_ids"] for r in done["phone_numbers"]}
    assert rules[explicit] == [support]
    assert [rules[n] for n in done["pools"][0]["held"]] == [[sales], [sales]]
    assert done["pools"][0]["sip_dispatch_rule"] == "sales"
    assert done["pools"][0]["sip_dispatch_rule_id"] == sales
    # Without definitions, rules are read but not reported.
    assert "rules_unlisted" not in done

    emulator.admin.reset_counters()
    again = run(emulator, "phone_number_fleet", entries=entries)
    assert again["changed"] is False and all_writes(emulator) == 0


def test_fleet_with_an_unknown_name_fails_before_any_write(emulator):
    make_rule(emulator, "support")
    emulator.admin.reset_counters()
    failed = run(
        emulator,
        "phone_number_fleet",
        entries=[{"country_code": "US", "count": 1, "sip_dispatch_rule": "sales"}],
        sip_dispatch_rules=[{"name": "reception", "type": "direct", "room_name": "lobby"}],
    )
    assert failed["failed"] is True and failed["error"]["code"] == "unknown_rule"
    assert (
        "no SIP dispatch rule is named 'sales'; the project's rules are named: support; "
        "this run creates: reception" in failed["msg"]
    )
    counters = emulator.admin.counters()
    assert all_writes(emulator) == 0 and calls(counters, "SearchPhoneNumbers") == 0


# ------------------------------------------------------------------------------ rules + numbers


LINE = [
    {
        "name": "support-line",
        "type": "individual",
        "room_prefix": "support-",
        "agents": [{"agent_name": "support-agent"}],
    },
    {"name": "after-hours", "type": "direct", "room_name": "voicemail", "trunk_ids": ["ST_1"]},
]


def test_rules_and_numbers_in_one_task_check_mode_first(strict):
    emulator = strict
    left_alone = make_rule(emulator, "legacy")
    number = available(emulator, "US", "415", 1)[0]
    entries = [
        {"phone_number": number, "sip_dispatch_rule": "support-line"},
        {"country_code": "US", "area_code": "212", "count": 1, "sip_dispatch_rule": "after-hours"},
    ]
    emulator.admin.reset_counters()

    checked = run(
        emulator,
        "phone_number_fleet",
        check_mode=True,
        diff=True,
        entries=entries,
        sip_dispatch_rules=LINE,
    )
    assert checked["changed"] is True, checked
    assert checked["rules_created"] == ["support-line", "after-hours"]
    assert checked["rules_unlisted"] == ["legacy"]
    assert [r["action"] for r in checked["sip_dispatch_rules"]] == ["create", "create"]
    assert checked["sip_dispatch_rules"][0]["sip_dispatch_rule"]["id"] == ""
    predicted = {r["e164_format"]: r["sip_dispatch_rule_ids"] for r in checked["phone_numbers"]}
    assert predicted[number] == ["(created by this run: support-line)"]
    assert checked["pools"][0]["sip_dispatch_rule_id"] == "(created by this run: after-hours)"
    assert "sip_dispatch_rule support-line" in checked["diff"]["after"]
    assert number in checked["diff"]["after"]
    assert all_writes(emulator) == 0

    applied = run(emulator, "phone_number_fleet", entries=entries, sip_dispatch_rules=LINE)
    assert applied["changed"] is True, applied
    assert applied["rules_created"] == ["support-line", "after-hours"]
    ids = {r["name"]: r["sip_dispatch_rule"]["id"] for r in applied["sip_dispatch_rules"]}
    assert all(rule_id.startswith("SDR_") for rule_id in ids.values())
    after = {r["e164_format"]: r["sip_dispatch_rule_ids"] for r in applied["phone_numbers"]}
    assert after[number] == [ids["support-line"]]
    assert after[applied["pools"][0]["held"][0]] == [ids["after-hours"]]
    assert sorted(applied["purchased"]) == sorted(
        checked["purchased"][:1] + applied["pools"][0]["held"]
    )
    counters = emulator.admin.counters()
    assert counters["rule_writes"]["created"] == 2
    # Each rule's numbers in one purchase carrying the real id (the emulator refuses others).
    assert calls(counters, "PurchasePhoneNumber") == 2
    assert left_alone in rule_ids(emulator)

    emulator.admin.reset_counters()
    again = run(emulator, "phone_number_fleet", entries=entries, sip_dispatch_rules=LINE)
    assert again["changed"] is False and again["rules_created"] == []
    assert [r["action"] for r in again["sip_dispatch_rules"]] == ["none", "none"]
    assert all_writes(emulator) == 0


def test_an_updated_rule_and_a_deletion_after_the_numbers_moved(strict):
    emulator = strict
    number = available(emulator, "US", "415", 1)[0]
    first = run(
        emulator,
        "phone_number_fleet",
        entries=[{"phone_number": number, "sip_dispatch_rule": "support-line"}],
        sip_dispatch_rules=LINE[:1],
    )
    old_id = first["sip_dispatch_rules"][0]["sip_dispatch_rule"]["id"]

    # Deleting the rule the number is on, without moving the number: refused before any write.
    emulator.admin.reset_counters()
    refused = run(
        emulator,
        "phone_number_fleet",
        entries=[{"phone_number": number}],
        sip_dispatch_rules=[{"name": "support-line", "state": "absent"}],
    )
    assert refused["failed"] is True and refused["error"]["code"] == "rule_in_use"
    assert refused["routed_numbers"] == [number] and all_writes(emulator) == 0

    # Moving the number to a new rule in the same task lets the old one go; the new rule is
    # created before the number moves, the old one deleted after.
    moved = run(
        emulator,
        "phone_number_fleet",
        diff=True,
        entries=[{"phone_number": number, "sip_dispatch_rule": "after-hours"}],
        sip_dispatch_rules=[{"name": "support-line", "state": "absent"}, LINE[1]],
    )
    assert moved["changed"] is True, moved
    assert moved["rules_created"] == ["after-hours"] and moved["rules_deleted"] == ["support-line"]
    new_id = moved["sip_dispatch_rules"][1]["sip_dispatch_rule"]["id"]
    assert moved["routed"] == [number] and old_id not in rule_ids(emulator)
    assert held(emulator, number)["sip_dispatch_rule_ids"] == [new_id]

    updated = run(
        emulator,
        "phone_number_fleet",
        entries=[{"phone_number": number, "sip_dispatch_rule": "after-hours"}],
        sip_dispatch_rules=[dict(LINE[1], room_name="night")],
    )
    assert updated["rules_updated"] == ["after-hours"] and updated["routed"] == []
    assert updated["sip_dispatch_rules"][0]["changes"] == ["room_name"]
    assert updated["sip_dispatch_rules"][0]["sip_dispatch_rule"]["room_name"] == "night"


def test_a_forced_deletion_reports_the_numbers_it_leaves_without_a_rule(emulator):
    number = available(emulator, "US", "415", 1)[0]
    run(
        emulator,
        "phone_number_fleet",
        entries=[{"phone_number": number, "sip_dispatch_rule": "support-line"}],
        sip_dispatch_rules=LINE[:1],
    )
    forced = run(
        emulator,
        "phone_number_fleet",
        entries=[{"phone_number": number}],
        sip_dispatch_rules=[{"name": "support-line", "state": "absent", "force": True}],
    )
    assert forced["rules_deleted"] == ["support-line"], forced
    assert forced["sip_dispatch_rules"][0]["unrouted_numbers"] == [number]
    assert forced["phone_numbers"][0]["sip_dispatch_rule_ids"] == []
    assert forced["phone_numbers"][0]["status"] == "offline"


def test_a_failed_rule_write_stops_before_any_number_is_bought(emulator):
    # Two catch-all rules conflict: the server refuses the second one.
    number = available(emulator, "US", "415", 1)[0]
    failed = run(
        emulator,
        "phone_number_fleet",
        entries=[{"phone_number": number, "sip_dispatch_rule": "b"}],
        sip_dispatch_rules=[
            {"name": "a", "type": "direct", "room_name": "r1"},
            {"name": "b", "type": "direct", "room_name": "r2"},
        ],
    )
    assert failed["failed"] is True and failed["error"]["code"] == "invalid_argument"
    assert failed["rules_created"] == ["a"] and failed["changed"] is True
    assert failed["purchased"] == [] and emulator.admin.health()["numbers_held"] == 0


def test_api_calls_grow_with_the_rules_not_with_the_numbers(strict):
    emulator = strict
    rules = [
        {"name": f"rule-{i}", "type": "direct", "room_name": f"room-{i}", "trunk_ids": [f"ST_{i}"]}
        for i in range(10)
    ]
    numbers = available(emulator, "US", None, 60)
    entries = [
        {"phone_number": n, "sip_dispatch_rule": f"rule-{i % 10}"} for i, n in enumerate(numbers)
    ]
    args = {"entries": entries, "sip_dispatch_rules": rules, "max_purchase": 60}
    emulator.admin.reset_counters()
    first = run(emulator, "phone_number_fleet", **args)
    assert first["changed"] is True and len(first["purchased"]) == 60, first
    used = {m: n for m, n in emulator.admin.counters()["calls"].items() if n}
    # The rules read once (the empty project's first page is empty), ten creations, one
    # purchase per rule, and the numbers listed once, before: the records returned are the
    # purchases' answers (return_records=changed).
    assert used == {
        "ListSIPDispatchRule": 1,
        "CreateSIPDispatchRule": 10,
        "PurchasePhoneNumber": 10,
        "ListPhoneNumbers": 1,
    }
    assert first["api_calls"]["calls"] == 22

    emulator.admin.reset_counters()
    again = run(emulator, "phone_number_fleet", **args)
    assert again["changed"] is False
    used = {m: n for m, n in emulator.admin.counters()["calls"].items() if n}
    assert used == {"ListSIPDispatchRule": 2, "ListPhoneNumbers": 1}
