from __future__ import annotations

import re
import time

from .helpers import RECORD_FIELDS, TIMESTAMP


def test_purchase_returns_full_records_with_ids_and_timestamps(api):
    numbers = api.available(2, area_code="212")
    records = api.ok(
        "PurchasePhoneNumber", {"phone_numbers": numbers, "sip_dispatch_rule_id": "SDR_main"}
    )["phone_numbers"]
    assert [record["e164_format"] for record in records] == numbers
    assert len({record["id"] for record in records}) == 2
    for record in records:
        assert tuple(record) == RECORD_FIELDS
        assert re.match(r"^PN_[0-9A-Za-z]{12}$", record["id"])
        assert record["status"] == "PHONE_NUMBER_STATUS_ACTIVE"
        assert record["sip_dispatch_rule_id"] == "SDR_main" and record["sip_dispatch_rule_ids"] == [
            "SDR_main"
        ]
        for field in ("created_at", "updated_at", "assigned_at"):
            assert re.match(TIMESTAMP, record[field]), record[field]
        assert record["assigned_at"] == record["created_at"] and record["released_at"] is None
        assert (record["locality"], record["region"]) == ("New York", "NY")


def test_purchase_without_rule_is_offline(api):
    record = api.buy(1)[0]
    assert record["status"] == "PHONE_NUMBER_STATUS_OFFLINE"
    assert record["sip_dispatch_rule_id"] == "" and record["sip_dispatch_rule_ids"] == []


def test_purchase_is_all_or_nothing_when_a_number_is_not_in_inventory(api, emulator):
    good = api.available(2)
    error = api.fails(
        "PurchasePhoneNumber",
        {"phone_numbers": [good[0], "+19995550100", good[1], "+19995550101"]},
        "not_found",
    )
    assert error["msg"] == "phone numbers not available: +19995550100, +19995550101"
    assert error["meta"]["numbers"] == "+19995550100,+19995550101"
    assert api.list_all()["total_count"] == 0
    assert emulator.admin.counters()["writes"]["purchased"] == 0


def test_purchase_of_held_numbers_is_a_failed_precondition_naming_them(api, emulator):
    held = api.buy(2)
    fresh = api.available(1)[0]
    wanted = [fresh] + [record["e164_format"] for record in held]
    error = api.fails("PurchasePhoneNumber", {"phone_numbers": wanted}, "failed_precondition")
    for record in held:
        assert (
            record["e164_format"] in error["msg"]
            and record["e164_format"] in error["meta"]["numbers"]
        )
    assert fresh not in error["msg"]
    assert api.list_all()["total_count"] == 2
    assert emulator.admin.counters()["purchases_by_number"].get(fresh) is None


def test_purchase_of_held_and_unknown_numbers_names_all_of_them(api):
    held = api.buy(1)[0]["e164_format"]
    error = api.fails("PurchasePhoneNumber", {"phone_numbers": [held, "+19995550100"]}, "not_found")
    assert error["msg"] == f"phone numbers not available: {held}, +19995550100"


def test_purchase_needs_numbers_in_e164(api):
    api.fails("PurchasePhoneNumber", {})
    api.fails("PurchasePhoneNumber", {"phone_numbers": []})
    for bad in ("4155550100", "+1 415 555 0100", "+0123", "+1415555010012345", "tel:+14155550100"):
        error = api.fails("PurchasePhoneNumber", {"phone_numbers": [bad]})
        assert bad in error["msg"]
    repeated = api.available(1)[0]
    assert (
        repeated in api.fails("PurchasePhoneNumber", {"phone_numbers": [repeated, repeated]})["msg"]
    )
    assert api.list_all()["total_count"] == 0


def test_quota_of_held_numbers(api, emulator):
    emulator.admin.reset(quota=3)
    first = api.buy(2)
    wanted = api.available(2)
    response = api.post("PurchasePhoneNumber", {"phone_numbers": wanted})
    assert response.status_code == 429
    error = response.json()
    assert error["code"] == "resource_exhausted"
    assert "quota" in error["msg"] and all(number in error["msg"] for number in wanted)
    assert error["meta"]["quota"] == "3" and error["meta"]["held"] == "2"
    api.ok("PurchasePhoneNumber", {"phone_numbers": wanted[:1]})
    api.fails("PurchasePhoneNumber", {"phone_numbers": wanted[1:]}, "resource_exhausted")
    api.ok("ReleasePhoneNumbers", {"ids": [first[0]["id"]]})
    api.ok("PurchasePhoneNumber", {"phone_numbers": wanted[1:]})
    assert emulator.admin.counters()["writes"]["purchased"] == 4


def test_provisioning_delay_keeps_numbers_pending(api, emulator):
    emulator.admin.reset(provisioning_delay=0.5)
    routed = api.buy(1, rule="SDR_x")[0]
    bare = api.buy(1, country="CA")[0]
    assert routed["status"] == bare["status"] == "PHONE_NUMBER_STATUS_PENDING"
    pending = api.list_all(statuses=["PHONE_NUMBER_STATUS_PENDING"])
    assert pending["total_count"] == 2
    time.sleep(0.6)
    assert api.get(routed["e164_format"])["status"] == "PHONE_NUMBER_STATUS_ACTIVE"
    assert api.get(bare["e164_format"])["status"] == "PHONE_NUMBER_STATUS_OFFLINE"
    assert api.list_all(statuses=["PHONE_NUMBER_STATUS_PENDING"])["total_count"] == 0


def test_provisioning_delay_changes_at_run_time_for_new_purchases(api, emulator):
    emulator.admin.configure(provisioning_delay=30)
    assert api.buy(1)[0]["status"] == "PHONE_NUMBER_STATUS_PENDING"
    emulator.admin.configure(provisioning_delay=0)
    assert api.buy(1)[0]["status"] == "PHONE_NUMBER_STATUS_OFFLINE"


def test_ids_follow_the_seed_and_purchase_order(api, emulator):
    first = [record["id"] for record in api.buy(3)]
    emulator.admin.reset()
    assert [record["id"] for record in api.buy(3)] == first
    emulator.admin.reset(seed=5)
    assert [record["id"] for record in api.buy(3)] != first


def test_a_released_number_can_be_bought_again_under_a_new_id(api, emulator):
    old = api.buy(1, rule="SDR_a")[0]
    api.ok("ReleasePhoneNumbers", {"phone_numbers": [old["e164_format"]]})
    new = api.ok("PurchasePhoneNumber", {"phone_numbers": [old["e164_format"]]})["phone_numbers"][0]
    assert new["id"] != old["id"] and new["status"] == "PHONE_NUMBER_STATUS_OFFLINE"
    listed = api.list_all()["items"]
    assert [(item["id"], item["status"]) for item in listed] == [
        (old["id"], "PHONE_NUMBER_STATUS_RELEASED"),
        (new["id"], "PHONE_NUMBER_STATUS_OFFLINE"),
    ]
    assert emulator.admin.counters()["purchases_by_number"] == {old["e164_format"]: 2}
