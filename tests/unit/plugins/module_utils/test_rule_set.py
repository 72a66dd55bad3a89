"""Rules planned together with a fleet, and rule names of entries turned into ids. No I/O."""

from __future__ import annotations

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._dispatch_rules import (
    DuplicateRuleName,
    RuleInUse,
    UnknownRuleName,
)
from ansible_collections.livekit.sip.plugins.module_utils._entries import (
    RuleName,
    parse_entries,
    rule_names,
    with_rule_ids,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import ParameterError
from ansible_collections.livekit.sip.plugins.module_utils._plan import Planner, predict
from ansible_collections.livekit.sip.plugins.module_utils._records import normalize_record
from ansible_collections.livekit.sip.plugins.module_utils._rule_set import (
    RULE_OPTIONS,
    RuleSet,
    parse_definitions,
    planned_id,
)
from ansible_collections.livekit.sip.plugins.module_utils._sip_api import RuleRecord


def definition(name, **given):
    """A definition as AnsibleModule hands it over: every option present, unset ones None."""
    params = {option: spec.get("default") for option, spec in RULE_OPTIONS.items()}
    params.update(name=name, **given)
    return params


def server_rule(rule_id, name, prefix="call-"):
    return RuleRecord(
        {
            "sip_dispatch_rule_id": rule_id,
            "name": name,
            "rule": {"dispatch_rule_individual": {"room_prefix": prefix}},
        }
    )


def number(e164, rules=()):
    return normalize_record(
        {
            "id": "PN_" + e164[-4:],
            "e164_format": e164,
            "country_code": "US",
            "area_code": e164[2:5],
            "status": "PHONE_NUMBER_STATUS_ACTIVE" if rules else "PHONE_NUMBER_STATUS_OFFLINE",
            "sip_dispatch_rule_ids": list(rules),
        }
    )


def rule_set(definitions, records=()):
    return RuleSet(parse_definitions(definitions), records)


# ------------------------------------------------------------------------------ entries


def test_entries_name_their_rule_by_name_or_by_id_but_not_both():
    numbers, pools = parse_entries(
        [
            {"phone_number": "+14155550001", "sip_dispatch_rule": " support "},
            {"phone_number": "+14155550002", "sip_dispatch_rule_id": "SDR_a"},
            {"country_code": "US", "count": 2, "sip_dispatch_rule": "sales"},
        ]
    )
    assert numbers[0].rule == RuleName("support") and numbers[1].rule == "SDR_a"
    assert pools[0].rule == RuleName("sales")
    assert RuleName("SDR_a") != "SDR_a" and RuleName("a") != RuleName("b")
    assert rule_names(numbers, pools) == ["support", "sales"]
    nulls = parse_entries(
        [
            {
                "phone_number": "+14155550001",
                "sip_dispatch_rule": None,
                "sip_dispatch_rule_id": "SDR_a",
            }
        ]
    )[0]
    assert nulls[0].rule == "SDR_a"
    resolved = with_rule_ids(numbers, {"support": "SDR_s"})
    assert [entry.rule for entry in resolved] == ["SDR_s", "SDR_a"]

    with pytest.raises(ParameterError) as both:
        parse_entries(
            [
                {
                    "phone_number": "+14155550001",
                    "sip_dispatch_rule": "a",
                    "sip_dispatch_rule_id": "b",
                }
            ]
        )
    assert "entries[0]: give the dispatch rule by sip_dispatch_rule (its name)" in str(both.value)
    with pytest.raises(ParameterError, match="entries\\[0\\]: sip_dispatch_rule must not be empty"):
        parse_entries([{"country_code": "US", "count": 1, "sip_dispatch_rule": " "}])


def test_one_number_named_by_rule_name_and_by_id_is_a_disagreement():
    with pytest.raises(ParameterError) as raised:
        parse_entries(
            [
                {"phone_number": "+14155550001", "sip_dispatch_rule": "support"},
                {"phone_number": "+14155550001", "sip_dispatch_rule_id": "SDR_x"},
            ]
        )
    assert "entries[0] and entries[1] both name +14155550001 but disagree" in str(raised.value)
    assert "'support' (by name)/SDR_x" in str(raised.value)


# ------------------------------------------------------------------------------ definitions


def test_definitions_are_checked_together_naming_each():
    with pytest.raises(ParameterError) as raised:
        parse_definitions(
            [
                definition("support", type="individual"),
                definition("support", type="direct", room_name="r"),
                definition(" ", type="direct"),
                definition("tags", type="direct", room_name="r", attributes={"k": ""}),
            ]
        )
    text = str(raised.value)
    assert "sip_dispatch_rules[0] and sip_dispatch_rules[1] both define the rule 'support'" in text
    assert "sip_dispatch_rules[2]: name is required" in text
    assert "sip_dispatch_rules[3] (tags): attributes: 'k' has an empty value" in text


def test_a_definition_that_cannot_be_planned_names_itself():
    with pytest.raises(
        ParameterError, match=r"sip_dispatch_rules\[0\] \(lobby\): type is required"
    ):
        rule_set([definition("lobby", room_name="r")])


def test_plans_of_every_definition_and_the_rules_no_definition_names():
    records = [
        server_rule("SDR_1", "support"),
        server_rule("SDR_2", "old"),
        server_rule("SDR_3", ""),
    ]
    rules = rule_set(
        [
            definition("support", room_prefix="help-"),
            definition("sales", type="callee", room_prefix="sales-"),
            definition("gone", state="absent"),
        ],
        records,
    )
    assert [(t.name, t.plan.action) for t in rules.tasks] == [
        ("support", "update"),
        ("sales", "create"),
        ("gone", "none"),
    ]
    assert rules.unlisted == [{"id": "SDR_2", "name": "old"}, {"id": "SDR_3", "name": ""}]
    assert rules.summary() == {
        "created": ["sales"],
        "updated": ["support"],
        "deleted": [],
        "unlisted": ["old", "SDR_3"],
    }
    # Nothing is done yet: a summary of what was done is empty.
    assert rules.summary(done_only=True)["created"] == []
    assert [r["action"] for r in rules.results()] == ["update", "create", "none"]
    assert list(rules.diff()["after"]) == ["sip_dispatch_rule support", "sip_dispatch_rule sales"]


def test_two_rules_with_a_defined_name_fail_naming_both_ids():
    records = [server_rule("SDR_1", "twin"), server_rule("SDR_2", "twin")]
    with pytest.raises(DuplicateRuleName, match="SDR_1, SDR_2"):
        rule_set([definition("twin", metadata="m")], records)


# ------------------------------------------------------------------------------ names -> ids


def test_names_resolve_to_existing_ids_and_to_stand_ins_for_rules_to_create():
    rules = rule_set(
        [definition("support", type="individual")],
        [server_rule("SDR_9", "sales")],
    )
    assert rules.resolve(["support", "sales"]) == {
        "support": planned_id("support"),
        "sales": "SDR_9",
    }
    assert planned_id("support") == "(created by this run: support)"


def test_an_unknown_name_says_which_names_exist_and_which_the_run_creates():
    rules = rule_set([definition("support", type="individual")], [server_rule("SDR_9", "sales")])
    with pytest.raises(UnknownRuleName) as raised:
        rules.resolve(["suport"])
    assert "no SIP dispatch rule is named 'suport'" in str(raised.value)
    assert "named: sales; this run creates: support" in str(raised.value)
    bare = rule_set([], [])
    with pytest.raises(UnknownRuleName, match=r"named: \(none\)$"):
        bare.resolve(["x"])


def test_a_name_two_rules_share_fails_naming_both_ids():
    rules = rule_set([], [server_rule("SDR_1", "twin"), server_rule("SDR_2", "twin")])
    with pytest.raises(
        DuplicateRuleName, match=r"2 SIP dispatch rules are named 'twin' \(SDR_1, SDR_2\)"
    ):
        rules.resolve(["twin"])


def test_entries_cannot_route_to_a_rule_the_run_deletes():
    rules = rule_set([definition("old", state="absent")], [server_rule("SDR_1", "old")])
    with pytest.raises(ParameterError, match="entries route numbers to 'old', which"):
        rules.resolve(["old"])


# ------------------------------------------------------------------------------ deletions


def test_deleting_a_rule_numbers_stay_routed_to_is_refused_unless_forced():
    held = [
        number("+14155550001", ["SDR_1"]),
        number("+14155550002", ["SDR_1"]),
        number("+14155550003", ["SDR_1"]),
    ]
    records = [server_rule("SDR_1", "old"), server_rule("SDR_2", "new")]
    numbers, pools = parse_entries(
        [
            {"phone_number": "+14155550001", "sip_dispatch_rule_id": "SDR_2"},
            {"phone_number": "+14155550002", "state": "absent"},
            {"phone_number": "+14155550003"},
        ]
    )
    planner = Planner(held, numbers, pools)
    plan = planner.finish()
    rules = rule_set([definition("old", state="absent")], records)
    with pytest.raises(RuleInUse) as raised:
        rules.check_deletions(held, plan)
    # The number routed elsewhere and the one released do not count; the third does.
    assert raised.value.numbers == ["+14155550003"]
    assert "SDR_1 (old) that sip_dispatch_rules[0] deletes: +14155550003" in str(raised.value)

    forced = rule_set([definition("old", state="absent", force=True)], records)
    forced.check_deletions(held, plan)
    assert forced.results()[0]["unrouted_numbers"] == ["+14155550003"]


# ------------------------------------------------------------------------------ stand-in ids


def test_stand_in_ids_are_planned_and_then_swapped_for_the_real_ones():
    stand_in = planned_id("support")
    held = [number("+14155550001"), number("+14155550002", ["SDR_old"])]
    numbers, pools = parse_entries(
        [
            {"phone_number": "+14155550001", "sip_dispatch_rule": "support"},
            {"phone_number": "+14155550009", "sip_dispatch_rule": "support"},
            {"country_code": "US", "area_code": "415", "count": 1, "sip_dispatch_rule": "support"},
        ]
    )
    ids = {"support": stand_in}
    planner = Planner(held, with_rule_ids(numbers, ids), with_rule_ids(pools, ids))
    plan = planner.finish()
    assert plan.purchases == [(stand_in, ["+14155550009"])]
    assert [(r.number, r.rule) for r in plan.routes] == [
        ("+14155550001", stand_in),
        ("+14155550002", stand_in),
    ]
    # Check mode shows the stand-in as the numbers' rule.
    shown = {r["e164_format"]: r["sip_dispatch_rule_ids"] for r in predict(held, plan)}
    assert shown["+14155550009"] == [stand_in]

    planner.rename_rules({stand_in: "SDR_new"})
    assert plan.purchases == [("SDR_new", ["+14155550009"])]
    assert {r.rule for r in plan.routes} == {"SDR_new"}
    assert planner.pools[0].entry.rule == "SDR_new"
    assert {e.rule for e in planner.numbers} == {"SDR_new"}
    assert planner.pool_results()[0]["sip_dispatch_rule_id"] == "SDR_new"


def test_entries_cannot_buy_or_route_by_id_for_a_rule_the_run_deletes():
    records = [server_rule("SDR_1", "old")]
    numbers, pools = parse_entries(
        [{"phone_number": "+14155550001", "sip_dispatch_rule_id": "SDR_1"}]
    )
    plan = Planner([], numbers, pools).finish()
    rules = rule_set([definition("old", state="absent", force=True)], records)
    with pytest.raises(ParameterError, match="entries buy or route numbers for 'old' by id"):
        rules.check_deletions([], plan)
