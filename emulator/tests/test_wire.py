"""The JSON variants, input forms and Twirp errors of the transport."""

from __future__ import annotations

import json
import re

import pytest

from livekit_sip_emulator import wire

from .helpers import PREFIX, TIMESTAMP, Api, assert_twirp_error


def test_default_output_uses_proto_names_and_emits_defaults(api):
    response = api.post("ListPhoneNumbers", {})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert int(response.headers["Content-Length"]) == len(response.content)
    assert response.json() == {
        "items": [],
        "next_page_token": None,
        "total_count": 0,
        "offline_count": 0,
    }
    record = api.buy(1)[0]
    assert record["sip_dispatch_rule_id"] == "" and record["released_at"] is None
    assert isinstance(record["spam_score"], (int, float))
    assert record["number_type"].startswith("PHONE_NUMBER_TYPE_") and record["status"].startswith(
        "PHONE_NUMBER_STATUS_"
    )


def test_camel_case_variant(api, emulator):
    emulator.admin.reset(json_names="camel")
    api.buy(3, rule="SDR_1")
    result = api.ok("ListPhoneNumbers", {"limit": 2})
    assert set(result) == {"items", "nextPageToken", "totalCount", "offlineCount"}
    item = result["items"][0]
    assert {
        "e164Format",
        "countryCode",
        "sipDispatchRuleIds",
        "sipDispatchRuleId",
        "createdAt",
        "releasedAt",
    } <= set(item)
    assert not any("_" in key for key in item)
    assert result["nextPageToken"]["token"]


def test_skip_defaults_variant(api, emulator):
    emulator.admin.reset(skip_defaults=True)
    assert api.ok("ListPhoneNumbers", {}) == {}
    offer = api.ok("SearchPhoneNumbers", {"country_code": "US", "limit": 1})
    assert set(offer) == {"items", "next_page_token"}
    assert not {
        "id",
        "status",
        "created_at",
        "sip_dispatch_rule_ids",
        "sip_dispatch_rule_id",
    } & set(offer["items"][0])
    record = api.ok("PurchasePhoneNumber", {"phone_numbers": [offer["items"][0]["e164_format"]]})[
        "phone_numbers"
    ][0]
    assert "released_at" not in record and "sip_dispatch_rule_ids" not in record
    assert record["status"] == "PHONE_NUMBER_STATUS_OFFLINE" and record["id"].startswith("PN_")
    result = api.ok("ListPhoneNumbers", {})
    assert result["total_count"] == result["offline_count"] == 1


def test_variants_as_start_up_switches(emulator_factory):
    emulator = emulator_factory(json_names="camel", skip_defaults=True)
    api = Api(emulator)
    assert api.ok("ListPhoneNumbers", {}) == {}
    api.buy(1, rule="SDR_1")
    result = api.ok("ListPhoneNumbers", {})
    assert result["totalCount"] == 1 and "offlineCount" not in result
    assert result["items"][0]["sipDispatchRuleIds"] == ["SDR_1"]


def test_input_accepts_camel_case_names_enum_numbers_and_numeric_strings(api):
    numbers = api.available(3, area_code="512")
    bought = api.ok(
        "PurchasePhoneNumber", {"phoneNumbers": numbers[:2], "sipDispatchRuleId": "SDR_c"}
    )["phone_numbers"]
    assert [record["sip_dispatch_rule_id"] for record in bought] == ["SDR_c", "SDR_c"]
    page = api.ok("SearchPhoneNumbers", {"countryCode": "US", "areaCode": "512", "limit": "2"})
    assert len(page["items"]) == 2
    after = api.ok(
        "SearchPhoneNumbers",
        {"countryCode": "US", "areaCode": "512", "limit": 2, "pageToken": page["next_page_token"]},
    )
    assert after["items"][0]["e164_format"] not in [item["e164_format"] for item in page["items"]]
    assert (
        api.ok("ListPhoneNumbers", {"statuses": [1], "sipDispatchRuleId": "SDR_c"})["total_count"]
        == 2
    )
    assert (
        api.ok("ListPhoneNumbers", {"statuses": ["PHONE_NUMBER_STATUS_OFFLINE", 2]})["total_count"]
        == 0
    )
    got = api.ok("GetPhoneNumber", {"phoneNumber": numbers[0]})["phone_number"]
    assert got["id"] == bought[0]["id"]
    api.ok("UpdatePhoneNumber", {"phoneNumber": numbers[0], "sipDispatchRuleIds": ["SDR_d"]})
    api.ok("ReleasePhoneNumbers", {"phoneNumbers": [numbers[0]]})
    assert api.get(numbers[0])["status"] == "PHONE_NUMBER_STATUS_RELEASED"
    assert api.ok("ListPhoneNumbers", {"limit": 1.0})["total_count"] == 2


def test_unknown_fields_and_nulls_are_ignored(api):
    result = api.ok(
        "SearchPhoneNumbers",
        {
            "country_code": "GB",
            "limit": 2,
            "colour": "blue",
            "page_token": None,
            "nested": {"a": [1, 2]},
        },
    )
    assert len(result["items"]) == 2


@pytest.mark.parametrize("data", ["{", "", "[]", "null", "42", '"text"', "\xff"])
def test_a_body_that_is_not_a_json_object_is_malformed(api, data):
    api.fails("ListPhoneNumbers", data=data.encode("latin-1"), code="malformed")


@pytest.mark.parametrize(
    "method, body",
    [
        ("ListPhoneNumbers", {"limit": "abc"}),
        ("ListPhoneNumbers", {"limit": True}),
        ("ListPhoneNumbers", {"limit": 2.5}),
        ("ListPhoneNumbers", {"limit": 2**31}),
        ("ListPhoneNumbers", {"statuses": "PHONE_NUMBER_STATUS_ACTIVE"}),
        ("ListPhoneNumbers", {"statuses": [None]}),
        ("ListPhoneNumbers", {"page_token": "opaque"}),
        ("SearchPhoneNumbers", {"country_code": 1}),
        ("PurchasePhoneNumber", {"phone_numbers": "+14155550100"}),
        ("PurchasePhoneNumber", {"phone_numbers": [14155550100]}),
        ("ReleasePhoneNumbers", {"ids": [None]}),
        ("GetPhoneNumber", {"id": ["PN_1"]}),
        ("GetPhoneNumber", {"phone_number": "+14155550100", "phoneNumber": "+14155550100"}),
    ],
)
def test_wrong_types_are_malformed(api, method, body):
    api.fails(method, body, "malformed")


def test_repeated_keys_are_malformed(api):
    api.fails("ListPhoneNumbers", data='{"limit": 1, "limit": 2}', code="malformed")


@pytest.mark.parametrize("verb", ["GET", "PUT", "DELETE", "PATCH"])
def test_verbs_other_than_post_are_bad_route(api, verb):
    response = api.session.request(verb, api.url + PREFIX + "ListPhoneNumbers")
    error = assert_twirp_error(response, "bad_route")
    assert verb in error["msg"]


@pytest.mark.parametrize(
    "path",
    [
        PREFIX + "DeletePhoneNumber",
        "/twirp/livekit.SIP/ListPhoneNumbers",
        "/",
        "/twirp",
        "/twirp/livekit.PhoneNumberService/",
        "//twirp/livekit.PhoneNumberService/ListPhoneNumbers",
    ],
)
def test_unknown_paths_are_bad_route(api, path):
    response = api.session.post(
        api.url + path, json={}, headers={"Authorization": "Bearer " + api.token()}
    )
    assert_twirp_error(response, "bad_route")


def test_content_type_must_be_json(api):
    for content_type in ("text/plain", "application/protobuf", ""):
        response = api.post("ListPhoneNumbers", {}, headers={"Content-Type": content_type})
        assert_twirp_error(response, "bad_route")
    assert (
        api.post(
            "ListPhoneNumbers", {}, headers={"Content-Type": "application/json; charset=utf-8"}
        ).status_code
        == 200
    )


def test_timestamps_are_rfc3339_utc():
    for nanos, text in (
        (0, "1970-01-01T00:00:00Z"),
        (1500000000, "1970-01-01T00:00:01.500Z"),
        (1000001000, "1970-01-01T00:00:01.000001Z"),
        (1000000001, "1970-01-01T00:00:01.000000001Z"),
        (1757332800 * 10**9, "2025-09-08T12:00:00Z"),
    ):
        assert wire.format_timestamp(nanos) == text
        assert re.match(TIMESTAMP, text)
        assert wire.parse_timestamp(text) == nanos
    assert wire.parse_timestamp("2025-09-08T14:00:00+02:00") == 1757332800 * 10**9
    with pytest.raises(ValueError):
        wire.parse_timestamp("2025-09-08 12:00")


def test_error_bodies_are_compact_twirp_json(api):
    response = api.post("GetPhoneNumber", {"id": "PN_x"})
    assert json.loads(response.content) == {
        "code": "not_found",
        "msg": "phone number not found: PN_x",
        "meta": {"id": "PN_x"},
    }
    assert int(response.headers["Content-Length"]) == len(response.content)
