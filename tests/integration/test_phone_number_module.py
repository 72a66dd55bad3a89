"""phone_number against the emulator over HTTP: check mode, apply, idempotence, routing, release."""

from __future__ import annotations

import pytest

from tests.integration.helpers import available, calls, run, writes

pytest_plugins = ["livekit_sip_emulator.fixtures"]


def held_numbers(emulator):
    return sorted(
        n["e164_format"] for n in emulator.admin.dump()["numbers"] if not n.get("released_at")
    )


def test_check_mode_apply_and_apply_again(emulator):
    numbers = available(emulator, count=3)

    checked = run(
        emulator,
        "phone_number",
        phone_numbers=numbers,
        sip_dispatch_rule_id="SDR_1",
        check_mode=True,
    )
    assert checked["changed"] is True
    assert checked["purchased"] == numbers
    assert checked["routed"] == [] and checked["released"] == []
    assert [n["e164_format"] for n in checked["phone_numbers"]] == numbers
    assert all(
        n["status"] == "pending" and n["sip_dispatch_rule_ids"] == ["SDR_1"]
        for n in checked["phone_numbers"]
    )
    counters = emulator.admin.counters()
    assert writes(counters) == 0
    assert counters["writes"] == {"purchased": 0, "routed": 0, "released": 0}

    applied = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_1")
    assert applied["changed"] is True
    assert applied["purchased"] == numbers
    assert [n["e164_format"] for n in applied["phone_numbers"]] == numbers
    assert all(n["id"].startswith("PN_") for n in applied["phone_numbers"])
    assert all(n["status"] == "active" for n in applied["phone_numbers"])
    assert all(n["locality"] == "San Francisco" for n in applied["phone_numbers"])
    counters = emulator.admin.counters()
    assert calls(counters, "PurchasePhoneNumber") == 1  # one call for every number sharing the rule
    assert counters["purchases_by_number"] == dict.fromkeys(numbers, 1)
    assert held_numbers(emulator) == sorted(numbers)

    emulator.admin.reset_counters()
    again = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_1")
    assert again["changed"] is False
    assert again["purchased"] == again["routed"] == again["released"] == []
    assert again["phone_numbers"] == applied["phone_numbers"]
    counters = emulator.admin.counters()
    assert writes(counters) == 0
    assert calls(counters, "ListPhoneNumbers") == 1
    assert calls(counters, "GetPhoneNumber") == 0


def test_single_number_as_a_string_with_formatting(emulator):
    number = available(emulator, count=1)[0]
    formatted = f"{number[:2]} ({number[2:5]}) {number[5:8]}-{number[8:]}"
    result = run(emulator, "phone_number", phone_number=formatted)
    assert result["purchased"] == [number]
    # No rule given: bought without one, so it is offline.
    assert result["phone_numbers"][0]["status"] == "offline"
    assert result["phone_numbers"][0]["sip_dispatch_rule_ids"] == []


def test_current_state_is_one_paged_listing(emulator):
    emulator.admin.reset(max_page_size=10)
    numbers = available(emulator, count=25)
    emulator.admin.load(
        {
            "numbers": [
                {
                    "e164_format": n,
                    "status": "PHONE_NUMBER_STATUS_ACTIVE",
                    "sip_dispatch_rule_ids": ["SDR_1"],
                }
                for n in numbers
            ]
        }
    )
    result = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_1")
    assert result["changed"] is False
    assert len(result["phone_numbers"]) == 25
    counters = emulator.admin.counters()
    assert calls(counters, "ListPhoneNumbers") == 3
    assert calls(counters, "GetPhoneNumber") == 0
    assert writes(counters) == 0


def test_routing_runs_concurrently_and_is_idempotent(emulator):
    numbers = available(emulator, count=12)
    run(emulator, "phone_number", phone_numbers=numbers[:6], sip_dispatch_rule_id="SDR_old")
    run(emulator, "phone_number", phone_numbers=numbers[6:])
    emulator.admin.reset_counters()
    emulator.admin.set_faults(latency_ms=100, methods=["UpdatePhoneNumber"])

    result = run(
        emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_new", workers=12
    )
    assert result["changed"] is True
    assert result["routed"] == numbers
    assert result["purchased"] == []
    assert all(
        n["sip_dispatch_rule_ids"] == ["SDR_new"] and n["status"] == "active"
        for n in result["phone_numbers"]
    )
    counters = emulator.admin.counters()
    assert calls(counters, "UpdatePhoneNumber") == 12
    assert counters["writes"]["routed"] == 12

    emulator.admin.clear_faults()
    emulator.admin.reset_counters()
    again = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_new")
    assert again["changed"] is False
    assert writes(emulator.admin.counters()) == 0


def test_routing_waits_are_concurrent(emulator):
    import time

    numbers = available(emulator, count=8)
    run(emulator, "phone_number", phone_numbers=numbers)
    emulator.admin.set_faults(latency_ms=200, methods=["UpdatePhoneNumber"])
    started = time.monotonic()
    result = run(
        emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_x", workers=8
    )
    elapsed = time.monotonic() - started
    assert len(result["routed"]) == 8
    assert elapsed < 8 * 0.2 / 2  # sequential calls would take 1.6 s


def test_rate_limited_routing_honours_retry_after(emulator):
    numbers = available(emulator, count=3)
    run(emulator, "phone_number", phone_numbers=numbers)
    emulator.admin.set_faults(
        retry_after=0, script={"UpdatePhoneNumber": ["rate_limited", "rate_limited"]}
    )
    result = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_2")
    assert "failed" not in result
    assert result["routed"] == numbers
    counters = emulator.admin.counters()
    assert counters["faults"]["rate_limited"] == 2
    assert counters["writes"]["routed"] == 3


def test_absent_releases_in_one_call(emulator):
    numbers = available(emulator, count=4)
    run(emulator, "phone_number", phone_numbers=numbers[:3], sip_dispatch_rule_id="SDR_1")
    emulator.admin.reset_counters()

    checked = run(emulator, "phone_number", phone_numbers=numbers, state="absent", check_mode=True)
    assert checked["changed"] is True
    assert checked["released"] == numbers[:3]
    assert checked["phone_numbers"] == []
    assert writes(emulator.admin.counters()) == 0

    result = run(emulator, "phone_number", phone_numbers=numbers, state="absent")
    assert result["changed"] is True
    assert result["released"] == numbers[:3]  # the fourth was never held: no change
    assert result["phone_numbers"] == []
    counters = emulator.admin.counters()
    assert calls(counters, "ReleasePhoneNumbers") == 1
    assert counters["writes"]["released"] == 3
    assert held_numbers(emulator) == []

    emulator.admin.reset_counters()
    again = run(emulator, "phone_number", phone_numbers=numbers, state="absent")
    assert again["changed"] is False
    assert writes(emulator.admin.counters()) == 0


def test_released_numbers_count_as_absent_and_are_bought_again(emulator):
    number = available(emulator, count=1)[0]
    emulator.admin.load(
        {"numbers": [{"e164_format": number, "status": "PHONE_NUMBER_STATUS_RELEASED"}]}
    )
    assert run(emulator, "phone_number", phone_numbers=[number], state="absent")["changed"] is False
    result = run(emulator, "phone_number", phone_numbers=[number])
    assert result["purchased"] == [number]


def test_offline_and_pending_numbers_are_held(emulator):
    emulator.admin.reset(provisioning_delay=60)
    offline, pending = available(emulator, count=2)
    emulator.admin.load(
        {
            "numbers": [
                {"e164_format": offline, "status": "PHONE_NUMBER_STATUS_OFFLINE"},
                {
                    "e164_format": pending,
                    "status": "PHONE_NUMBER_STATUS_PENDING",
                    "sip_dispatch_rule_ids": ["SDR_1"],
                },
            ]
        }
    )
    unchanged = run(emulator, "phone_number", phone_numbers=[offline, pending])
    assert unchanged["changed"] is False
    assert [n["status"] for n in unchanged["phone_numbers"]] == ["offline", "pending"]

    routed = run(
        emulator, "phone_number", phone_numbers=[offline, pending], sip_dispatch_rule_id="SDR_1"
    )
    assert routed["routed"] == [offline]
    assert routed["purchased"] == []
    assert routed["phone_numbers"][0]["status"] == "active"
    assert emulator.admin.counters()["calls"]["PurchasePhoneNumber"] == 0


def test_wait_until_provisioned(emulator):
    emulator.admin.reset(provisioning_delay=1.0)
    numbers = available(emulator, count=2)
    result = run(
        emulator,
        "phone_number",
        phone_numbers=numbers,
        sip_dispatch_rule_id="SDR_1",
        wait=True,
        wait_timeout=30,
    )
    assert result["purchased"] == numbers
    assert [n["status"] for n in result["phone_numbers"]] == ["active", "active"]
    assert calls(emulator.admin.counters(), "ListPhoneNumbers") >= 3


def test_without_wait_fresh_numbers_are_pending(emulator):
    emulator.admin.reset(provisioning_delay=60)
    number = available(emulator, count=1)[0]
    result = run(emulator, "phone_number", phone_numbers=[number], sip_dispatch_rule_id="SDR_1")
    assert result["phone_numbers"][0]["status"] == "pending"


def test_wait_timeout_names_the_pending_numbers(emulator):
    emulator.admin.reset(provisioning_delay=60)
    numbers = available(emulator, count=2)
    result = run(emulator, "phone_number", phone_numbers=numbers, wait=True, wait_timeout=1)
    assert result["failed"] is True
    assert result["error"]["code"] == "wait_timeout"
    assert all(n in result["msg"] for n in numbers)
    assert result["pending"] == numbers
    # The purchase happened; the failure says so.
    assert result["purchased"] == numbers
    assert result["changed"] is True


def test_ids_route_held_numbers(emulator):
    numbers = available(emulator, count=2)
    bought = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_1")
    ids = [n["id"] for n in bought["phone_numbers"]]
    emulator.admin.reset_counters()
    result = run(emulator, "phone_number", ids=ids, sip_dispatch_rule_id="SDR_2")
    assert result["routed"] == numbers
    assert [n["id"] for n in result["phone_numbers"]] == ids
    assert calls(emulator.admin.counters(), "UpdatePhoneNumber") == 2

    released = run(emulator, "phone_number", ids=ids + ["PN_unknown"], state="absent")
    assert released["released"] == numbers


def test_unknown_id_fails_naming_it_without_writes(emulator):
    number = available(emulator, count=1)[0]
    bought = run(emulator, "phone_number", phone_numbers=[number])
    emulator.admin.reset_counters()
    result = run(
        emulator,
        "phone_number",
        ids=[bought["phone_numbers"][0]["id"], "PN_nosuchnumber"],
        sip_dispatch_rule_id="SDR_1",
    )
    assert result["failed"] is True
    assert "PN_nosuchnumber" in result["msg"]
    assert result["error"]["code"] == "unknown_id"
    assert writes(emulator.admin.counters()) == 0


def test_purchase_limit_fails_before_buying(emulator):
    numbers = available(emulator, count=3)
    run(emulator, "phone_number", phone_numbers=numbers[:1])
    emulator.admin.reset_counters()
    for check_mode in (True, False):
        result = run(
            emulator, "phone_number", phone_numbers=numbers, purchase_limit=1, check_mode=check_mode
        )
        assert result["failed"] is True
        assert "purchase_limit=1" in result["msg"]
        assert numbers[1] in result["msg"] and numbers[2] in result["msg"]
        assert result["error"]["code"] == "purchase_limit"
        assert result["purchased"] == []
    assert writes(emulator.admin.counters()) == 0
    ok = run(emulator, "phone_number", phone_numbers=numbers, purchase_limit=2)
    assert ok["purchased"] == numbers[1:]


def test_max_purchase_is_the_spend_guard_and_purchase_limit_its_alias(emulator):
    numbers = available(emulator, count=2)
    refused = run(emulator, "phone_number", phone_numbers=numbers, max_purchase=1)
    assert refused["failed"] is True and refused["error"]["code"] == "purchase_limit"
    assert "more than max_purchase=1" in refused["msg"] and "Raise max_purchase" in refused["msg"]
    negative = run(emulator, "phone_number", phone_numbers=numbers, max_purchase=-1)
    assert "max_purchase must be 0 or more" in negative["msg"]
    assert writes(emulator.admin.counters()) == 0
    ok = run(emulator, "phone_number", phone_numbers=numbers, max_purchase=2)
    assert ok["purchased"] == numbers
    # The writing modules return the same result keys: api_calls too.
    assert ok["api_calls"]["calls"] == ok["api_calls"]["attempts"] >= 2


def test_diff_mode(emulator):
    numbers = available(emulator, count=3)
    run(emulator, "phone_number", phone_numbers=numbers[:2], sip_dispatch_rule_id="SDR_1")
    result = run(
        emulator,
        "phone_number",
        phone_numbers=numbers,
        sip_dispatch_rule_id="SDR_2",
        diff=True,
        check_mode=True,
    )
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert set(before) == set(after) == set(numbers)
    assert before[numbers[2]] == {"state": "absent"}
    assert after[numbers[2]]["state"] == "present" and after[numbers[2]][
        "sip_dispatch_rule_ids"
    ] == ["SDR_2"]
    assert before[numbers[0]]["sip_dispatch_rule_ids"] == ["SDR_1"]
    assert after[numbers[0]]["sip_dispatch_rule_ids"] == ["SDR_2"]
    assert before[numbers[0]]["id"] == after[numbers[0]]["id"]

    applied = run(
        emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_2", diff=True
    )
    assert applied["diff"]["before"] == before
    # After a real run the diff shows the records read back: the new number's id and status.
    bought = applied["diff"]["after"][numbers[2]]
    assert bought["id"].startswith("PN_") and bought["status"] == "active"
    assert bought["sip_dispatch_rule_ids"] == ["SDR_2"]
    assert applied["diff"]["after"][numbers[0]] == after[numbers[0]]
    unchanged = run(
        emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_2", diff=True
    )
    assert unchanged["diff"] == {"before": {}, "after": {}}
    released = run(emulator, "phone_number", phone_numbers=numbers[:1], state="absent", diff=True)
    assert released["diff"]["after"] == {numbers[0]: {"state": "absent"}}
    assert "diff" not in run(emulator, "phone_number", phone_numbers=numbers[1:])


@pytest.mark.parametrize(
    "variant",
    [
        {"json_names": "camel", "skip_defaults": True},
        {"json_names": "proto", "skip_defaults": True},
        {"json_names": "camel", "skip_defaults": False},
    ],
)
def test_json_variants(emulator, variant):
    emulator.admin.reset(**variant)
    numbers = available(emulator, count=2)
    applied = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_1")
    assert applied["purchased"] == numbers
    assert all(
        n["id"].startswith("PN_") and n["sip_dispatch_rule_ids"] == ["SDR_1"]
        for n in applied["phone_numbers"]
    )
    emulator.admin.reset_counters()
    assert (
        run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_1")[
            "changed"
        ]
        is False
    )
    routed = run(emulator, "phone_number", phone_numbers=numbers[:1])
    assert routed["changed"] is False
    offline_rule = run(
        emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_2"
    )
    assert offline_rule["routed"] == numbers
    released = run(emulator, "phone_number", phone_numbers=numbers, state="absent")
    assert released["released"] == numbers
    assert held_numbers(emulator) == []


@pytest.mark.parametrize(
    "args, words",
    [
        ({"phone_numbers": ["+1 415 CALL NOW"]}, "'+1 415 CALL NOW'"),
        ({"phone_numbers": ["+14155550100", "0044 20 7946 0958"]}, "'0044 20 7946 0958'"),
        ({"phone_numbers": ["+14155550100"], "workers": 0}, "workers"),
        ({"phone_numbers": ["+14155550100"], "workers": 33}, "workers"),
        ({"phone_numbers": ["+14155550100"], "page_size": 0}, "page_size"),
        ({"phone_numbers": ["+14155550100"], "sip_dispatch_rule_id": " "}, "sip_dispatch_rule_id"),
        ({"phone_numbers": ["+14155550100"], "purchase_limit": -1}, "purchase_limit"),
        ({"phone_numbers": ["+14155550100"], "wait_timeout": -1}, "wait_timeout"),
        ({"phone_numbers": []}, "at least one"),
        ({"ids": [""]}, "ids"),
    ],
)
def test_bad_input_fails_before_any_call(emulator, args, words):
    result = run(emulator, "phone_number", **args)
    assert result["failed"] is True
    assert words in result["msg"]
    assert result["error"]["code"] in ("invalid_phone_number", "invalid_parameter")
    assert sum(emulator.admin.counters()["calls"].values()) == 0


def test_numbers_and_ids_are_exclusive_and_one_is_required(emulator):
    both = run(emulator, "phone_number", phone_numbers=["+14155550100"], ids=["PN_1"])
    assert both["failed"] is True and "mutually exclusive" in both["msg"]
    neither = run(emulator, "phone_number", state="absent")
    assert neither["failed"] is True and "one of the following is required" in neither["msg"]
