"""The planner for phone_number: numbers (or ids) in one state with one rule. No I/O."""

from __future__ import annotations

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    PurchaseLimitExceeded,
    UnknownIds,
)
from ansible_collections.livekit.sip.plugins.module_utils._plan import (
    Route,
    diff,
    plan_numbers,
    predict,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import normalize_record


def make_plan(*args, **kwargs):
    return plan_numbers(*args, **kwargs).plan


A, B, C, D, E = ("+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105")


def rec(e164, status="active", rules=(), ident=None):
    return normalize_record(
        {
            "id": ident or "PN_" + e164[-3:],
            "e164_format": e164,
            "status": "PHONE_NUMBER_STATUS_" + status.upper(),
            "sip_dispatch_rule_ids": list(rules),
            "locality": "San Francisco",
        }
    )


CURRENT = [
    rec(A, "active", ["SDR_1"]),
    rec(B, "pending", ["SDR_2"]),
    rec(C, "offline", []),
    rec(D, "released", ["SDR_1"]),
]


def test_present_buys_routes_and_leaves():
    plan = make_plan(CURRENT, "present", numbers=[A, B, C, D, E], rule="SDR_1")
    assert plan.purchases == [("SDR_1", [D, E])]
    assert plan.routes == [Route(B, "PN_102", ["SDR_2"], "SDR_1"), Route(C, "PN_103", [], "SDR_1")]
    assert plan.unchanged == [A]
    assert plan.releases == []
    assert plan.purchased == [D, E]
    assert plan.routed == [B, C]
    assert plan.targets == [A, B, C, D, E]
    assert plan.changed


def test_pending_and_offline_count_as_held():
    plan = make_plan(CURRENT, "present", numbers=[B, C])
    assert plan.purchases == []
    assert plan.unchanged == [B, C]
    assert not plan.changed


def test_released_counts_as_absent_and_is_bought_again():
    plan = make_plan(CURRENT, "present", numbers=[D])
    assert plan.purchases == [("", [D])]


def test_no_rule_leaves_routing_alone():
    plan = make_plan(CURRENT, "present", numbers=[A, B, C])
    assert plan.routes == []
    assert not plan.changed


def test_rule_compared_exactly():
    current = [rec(A, "active", ["SDR_1", "SDR_2"])]
    plan = make_plan(current, "present", numbers=[A], rule="SDR_1")
    assert plan.routes == [Route(A, "PN_101", ["SDR_1", "SDR_2"], "SDR_1")]


def test_purchases_grouped_by_rule_in_first_seen_order():
    plan = make_plan(
        [],
        "present",
        numbers=[A, B, C, D, E],
        rules={A: "SDR_x", B: "SDR_y", C: "SDR_x", D: None},
        rule="SDR_z",
    )
    # D maps to None explicitly (no rule); E falls back to the common rule.
    assert plan.purchases == [("SDR_x", [A, C]), ("SDR_y", [B]), ("", [D]), ("SDR_z", [E])]


def test_duplicates_are_planned_once():
    plan = make_plan([], "present", numbers=[A, A, B])
    assert plan.purchases == [("", [A, B])]
    assert plan.targets == [A, B]


def test_absent_releases_held_only():
    plan = make_plan(CURRENT, "absent", numbers=[A, B, C, D, E])
    assert plan.releases == [A, B, C]
    assert plan.release_ids == ["PN_101", "PN_102", "PN_103"]
    assert plan.unchanged == [D, E]
    assert plan.purchases == [] and plan.routes == []


def test_absent_of_unknown_numbers_is_no_change():
    plan = make_plan(CURRENT, "absent", numbers=[D, E])
    assert not plan.changed


def test_ids_route_held_numbers():
    plan = make_plan(CURRENT, "present", ids=["PN_101", "PN_103"], rule="SDR_9")
    assert plan.routed == [A, C]
    assert plan.routes[0].id == "PN_101"
    assert plan.targets == [A, C]


def test_unknown_or_released_ids_fail_for_present_naming_them():
    with pytest.raises(UnknownIds) as info:
        make_plan(CURRENT, "present", ids=["PN_101", "PN_nope", "PN_104"], rule="SDR_1")
    assert "PN_nope" in str(info.value) and "PN_104" in str(info.value)
    assert "PN_101" not in str(info.value)
    assert info.value.code == "unknown_id"


def test_unknown_ids_are_no_change_for_absent():
    plan = make_plan(CURRENT, "absent", ids=["PN_101", "PN_nope"])
    assert plan.releases == [A]
    assert plan.targets == [A]


@pytest.mark.parametrize("limit, ok", [(None, True), (3, True), (4, True), (2, False), (0, False)])
@pytest.mark.parametrize("option", ["max_purchase", "purchase_limit"])
def test_purchase_limit(limit, ok, option):
    numbers = ["+1415555020%d" % i for i in range(3)] + [A]
    if ok:
        plan = make_plan(CURRENT, "present", numbers=numbers, max_purchase=limit, option=option)
        assert len(plan.purchased) == 3
        return
    with pytest.raises(PurchaseLimitExceeded) as info:
        make_plan(CURRENT, "present", numbers=numbers, max_purchase=limit, option=option)
    text = str(info.value)
    # The message quotes the option as the task wrote it, so an alias user finds it.
    assert "would buy 3 numbers" in text and "%s=%d" % (option, limit) in text
    assert "nothing was bought. Raise %s" % option in text
    assert "+14155550200" in text
    assert info.value.code == "purchase_limit"


def test_purchase_limit_ignores_held_numbers():
    plan = make_plan(CURRENT, "present", numbers=[A, B, C], max_purchase=0)
    assert plan.purchased == []


def test_bad_state_is_a_programming_error():
    with pytest.raises(ValueError):
        make_plan([], "gone", numbers=[A])


def test_predict_present():
    plan = make_plan(CURRENT, "present", numbers=[A, C, E], rule="SDR_1")
    after = predict(CURRENT, plan)
    assert [r["e164_format"] for r in after] == [A, C, E]
    assert after[0] == CURRENT[0]
    assert (
        after[1]["sip_dispatch_rule_ids"] == ["SDR_1"]
        and after[1]["sip_dispatch_rule_id"] == "SDR_1"
    )
    assert after[1]["status"] == "active"  # was offline: routing gives it a rule
    assert after[1]["locality"] == "San Francisco"
    assert after[2]["status"] == "pending" and after[2]["sip_dispatch_rule_ids"] == ["SDR_1"]
    assert after[2]["id"] == ""
    # predicting never changes the input
    assert CURRENT[2]["sip_dispatch_rule_ids"] == []


def test_predict_absent_drops_released():
    plan = make_plan(CURRENT, "absent", numbers=[A, E])
    assert predict(CURRENT, plan) == []


def test_diff_shows_changed_numbers_only():
    plan = make_plan(CURRENT, "present", numbers=[A, C, E], rule="SDR_1")
    result = diff(CURRENT, plan)
    assert set(result["before"]) == {C, E}
    assert result["before"][E] == {"state": "absent"}
    assert result["after"][E] == {
        "state": "present",
        "id": "",
        "status": "pending",
        "sip_dispatch_rule_ids": ["SDR_1"],
        "name": "",
    }
    assert result["before"][C] == {
        "state": "present",
        "id": "PN_103",
        "status": "offline",
        "sip_dispatch_rule_ids": [],
        "name": "",
    }
    assert result["after"][C]["sip_dispatch_rule_ids"] == ["SDR_1"]
    assert result["after"][C]["status"] == "active"


def test_diff_uses_records_read_after_the_run():
    plan = make_plan(CURRENT, "present", numbers=[E], rule="SDR_1")
    read_back = [rec(E, "active", ["SDR_1"], ident="PN_new")]
    result = diff(CURRENT, plan, read_back)
    assert result["after"][E] == {
        "state": "present",
        "id": "PN_new",
        "status": "active",
        "sip_dispatch_rule_ids": ["SDR_1"],
        "name": "",
    }


def test_diff_absent():
    plan = make_plan(CURRENT, "absent", numbers=[B, D])
    result = diff(CURRENT, plan)
    assert result == {
        "before": {
            B: {
                "state": "present",
                "id": "PN_102",
                "status": "pending",
                "sip_dispatch_rule_ids": ["SDR_2"],
                "name": "",
            }
        },
        "after": {B: {"state": "absent"}},
    }


def test_diff_of_no_change_is_empty():
    plan = make_plan(CURRENT, "present", numbers=[A], rule="SDR_1")
    assert diff(CURRENT, plan) == {"before": {}, "after": {}}
