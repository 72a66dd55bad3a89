"""ListPhoneNumbers, GetPhoneNumber, UpdatePhoneNumber and ReleasePhoneNumbers."""

from __future__ import annotations

import base64
import json

from .helpers import decode_page_token, moment


def test_list_of_an_empty_project(api):
    assert api.ok("ListPhoneNumbers", {}) == {
        "items": [],
        "next_page_token": None,
        "total_count": 0,
        "offline_count": 0,
    }


def test_list_pages_in_creation_order_with_counts(api):
    bought = [record["id"] for record in api.buy(12, rule="SDR_1")] + [
        record["id"] for record in api.buy(13, country="GB")
    ]
    seen, token, pages = [], None, 0
    while True:
        body = {"limit": 10}
        if token:
            body["page_token"] = token
        result = api.ok("ListPhoneNumbers", body)
        pages += 1
        assert (result["total_count"], result["offline_count"]) == (25, 13)
        seen += [item["id"] for item in result["items"]]
        token = result["next_page_token"]
        if token is None:
            break
        assert decode_page_token(token) == {"offset": 10 * pages, "limit": 10}
    assert pages == 3 and seen == bought


def test_page_token_is_padded_base64url_json_and_unpadded_is_accepted(api):
    api.buy(5)
    token = api.ok("ListPhoneNumbers", {"limit": 2})["next_page_token"]["token"]
    assert base64.urlsafe_b64decode(token) == b'{"offset":2,"limit":2}'
    assert token.endswith("=")
    unpadded = api.ok("ListPhoneNumbers", {"page_token": {"token": token.rstrip("=")}})
    assert len(unpadded["items"]) == 2 and decode_page_token(unpadded["next_page_token"]) == {
        "offset": 4,
        "limit": 2,
    }
    assert (
        api.ok("ListPhoneNumbers", {"limit": 3, "page_token": {"token": token}})["items"][0]["id"]
        == api.list_all()["items"][2]["id"]
    )
    assert len(api.ok("ListPhoneNumbers", {"page_token": {"token": ""}})["items"]) == 5


def test_invalid_page_tokens_are_rejected(api):
    not_json = base64.urlsafe_b64encode(b"offset=3").decode()
    negative = base64.urlsafe_b64encode(json.dumps({"offset": -1, "limit": 5}).encode()).decode()
    for token in ("!!!", not_json, negative):
        error = api.fails("ListPhoneNumbers", {"page_token": {"token": token}})
        assert "page_token" in error["msg"]
    api.fails("SearchPhoneNumbers", {"country_code": "US", "page_token": {"token": "%%%"}})
    # "{}" (offset 0) is a valid first-page token for the protocol library.
    assert api.ok("ListPhoneNumbers", {"page_token": {"token": "e30="}})["total_count"] == 0


def test_list_filters_by_status_names_and_numbers(api):
    routed = api.buy(2, rule="SDR_1")
    bare = api.buy(3, country="CA")
    api.ok("ReleasePhoneNumbers", {"ids": [bare[0]["id"]]})
    by_name = api.list_all(statuses=["PHONE_NUMBER_STATUS_ACTIVE", "PHONE_NUMBER_STATUS_RELEASED"])
    assert [item["id"] for item in by_name["items"]] == [
        routed[0]["id"],
        routed[1]["id"],
        bare[0]["id"],
    ]
    assert by_name["offline_count"] == 0
    by_number = api.list_all(statuses=[4])
    assert by_number["total_count"] == by_number["offline_count"] == 2
    assert api.list_all(statuses=[3])["items"][0]["released_at"] is not None
    everything = api.list_all()
    assert (everything["total_count"], everything["offline_count"]) == (5, 2)


def test_unknown_status_names_are_dropped_like_protojson_does(api):
    api.buy(2)
    # "active" is not an enum name: dropped, leaving no filter at all.
    assert api.list_all(statuses=["active"])["total_count"] == 2
    assert api.list_all(statuses=["active", "PHONE_NUMBER_STATUS_ACTIVE"])["total_count"] == 0


def test_list_filters_by_dispatch_rule(api):
    first = api.buy(2, rule="SDR_a")
    api.buy(2, rule="SDR_b")
    result = api.list_all(sip_dispatch_rule_id="SDR_a")
    assert [item["id"] for item in result["items"]] == [record["id"] for record in first]
    assert result["total_count"] == 2
    assert api.list_all(sip_dispatch_rule_id="SDR_none")["total_count"] == 0
    assert api.list_all(sip_dispatch_rule_id="")["total_count"] == 4


def test_get_by_id_or_number(api):
    record = api.buy(1, rule="SDR_1")[0]
    by_id = api.ok("GetPhoneNumber", {"id": record["id"]})["phone_number"]
    by_number = api.ok("GetPhoneNumber", {"phone_number": record["e164_format"]})["phone_number"]
    assert by_id == by_number == record
    assert (
        api.ok("GetPhoneNumber", {"id": record["id"], "phone_number": record["e164_format"]})[
            "phone_number"
        ]
        == record
    )


def test_get_errors(api):
    record = api.buy(1)[0]
    api.fails("GetPhoneNumber", {})
    api.fails("GetPhoneNumber", {"id": "", "phone_number": ""})
    assert "PN_missing" in api.fails("GetPhoneNumber", {"id": "PN_missing"}, "not_found")["msg"]
    assert (
        "+14155550000"
        in api.fails("GetPhoneNumber", {"phone_number": "+14155550000"}, "not_found")["msg"]
    )
    api.fails("GetPhoneNumber", {"phone_number": "415-555-0000"})
    api.fails("GetPhoneNumber", {"id": record["id"], "phone_number": "+14155550000"})


def test_update_routes_and_status_follows(api, emulator):
    record = api.buy(1)[0]
    routed = api.ok("UpdatePhoneNumber", {"id": record["id"], "sip_dispatch_rule_id": "SDR_1"})[
        "phone_number"
    ]
    assert routed["status"] == "PHONE_NUMBER_STATUS_ACTIVE"
    assert (routed["sip_dispatch_rule_id"], routed["sip_dispatch_rule_ids"]) == ("SDR_1", ["SDR_1"])
    assert (
        moment(routed["updated_at"]) > moment(record["updated_at"])
        and routed["created_at"] == record["created_at"]
    )
    same = api.ok(
        "UpdatePhoneNumber",
        {"phone_number": record["e164_format"], "sip_dispatch_rule_id": "SDR_1"},
    )
    assert same["phone_number"]["updated_at"] == routed["updated_at"]
    # sip_dispatch_rule_ids is no request field: ignored, as the real server ignores it.
    ignored = api.ok(
        "UpdatePhoneNumber", {"id": record["id"], "sip_dispatch_rule_ids": ["SDR_2", "SDR_3"]}
    )["phone_number"]
    assert ignored == same["phone_number"]
    listed = api.ok("UpdatePhoneNumber", {"id": record["id"], "sip_dispatch_rule_id": "SDR_2"})[
        "phone_number"
    ]
    untouched = api.ok("UpdatePhoneNumber", {"id": record["id"]})["phone_number"]
    assert untouched == listed and untouched["sip_dispatch_rule_id"] == "SDR_2"
    cleared = api.ok("UpdatePhoneNumber", {"id": record["id"], "sip_dispatch_rule_id": ""})[
        "phone_number"
    ]
    assert (
        cleared["status"] == "PHONE_NUMBER_STATUS_OFFLINE"
        and cleared["sip_dispatch_rule_ids"] == []
    )
    api.ok("UpdatePhoneNumber", {"id": record["id"], "sip_dispatch_rule_id": ""})
    assert emulator.admin.counters()["writes"]["routed"] == 3
    assert api.get(record["e164_format"]) == cleared


def test_update_errors(api):
    record = api.buy(1)[0]
    api.fails("UpdatePhoneNumber", {"sip_dispatch_rule_id": "SDR_1"})
    api.fails("UpdatePhoneNumber", {"id": "PN_nope", "sip_dispatch_rule_id": "SDR_1"}, "not_found")
    api.fails(
        "UpdatePhoneNumber",
        {"phone_number": "+14155550000", "sip_dispatch_rule_id": "SDR_1"},
        "not_found",
    )
    api.ok("ReleasePhoneNumbers", {"ids": [record["id"]]})
    error = api.fails(
        "UpdatePhoneNumber",
        {"id": record["id"], "sip_dispatch_rule_id": "SDR_1"},
        "failed_precondition",
    )
    assert record["e164_format"] in error["msg"]


def test_release_marks_released_and_returns_to_inventory(api, emulator):
    records = api.buy(3, rule="SDR_1", area_code="206")
    assert (
        api.ok(
            "ReleasePhoneNumbers",
            {"ids": [records[0]["id"]], "phone_numbers": [records[1]["e164_format"]]},
        )
        == {}
    )
    for record in records[:2]:
        released = api.ok("GetPhoneNumber", {"id": record["id"]})["phone_number"]
        assert (
            released["status"] == "PHONE_NUMBER_STATUS_RELEASED"
            and released["released_at"] is not None
        )
        assert released["sip_dispatch_rule_ids"] == ["SDR_1"]
    assert api.get(records[2]["e164_format"])["status"] == "PHONE_NUMBER_STATUS_ACTIVE"
    offered = api.available(50, area_code="206")
    assert records[0]["e164_format"] in offered and records[2]["e164_format"] not in offered
    assert emulator.admin.counters()["writes"]["released"] == 2


def test_release_is_all_or_nothing_on_unknown_numbers(api, emulator):
    record = api.buy(1)[0]
    error = api.fails(
        "ReleasePhoneNumbers",
        {"ids": [record["id"], "PN_unknown"], "phone_numbers": ["+14155550000"]},
        "not_found",
    )
    assert (
        "PN_unknown" in error["msg"]
        and "+14155550000" in error["msg"]
        and record["id"] not in error["msg"]
    )
    assert api.get(record["e164_format"])["status"] == "PHONE_NUMBER_STATUS_OFFLINE"
    assert emulator.admin.counters()["writes"]["released"] == 0


def test_releasing_a_released_number_again_is_a_no_op(api, emulator):
    record = api.buy(1)[0]
    api.ok("ReleasePhoneNumbers", {"ids": [record["id"]]})
    first = api.get(record["e164_format"])
    assert api.ok("ReleasePhoneNumbers", {"phone_numbers": [record["e164_format"]]}) == {}
    assert api.ok("ReleasePhoneNumbers", {"ids": [record["id"]]}) == {}
    assert api.get(record["e164_format"]) == first
    assert emulator.admin.counters()["writes"]["released"] == 1


def test_release_needs_valid_input(api):
    api.fails("ReleasePhoneNumbers", {})
    api.fails("ReleasePhoneNumbers", {"ids": [], "phone_numbers": []})
    assert "555-0100" in api.fails("ReleasePhoneNumbers", {"phone_numbers": ["555-0100"]})["msg"]
