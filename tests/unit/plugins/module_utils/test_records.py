"""Record normalisation across the server's JSON variants and vintages."""

from __future__ import annotations

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._records import (
    RECORD_FIELDS,
    camel,
    empty_record,
    inbound_status_name,
    is_held,
    merge_records,
    missing_fields,
    nanp_fields,
    normalize_record,
    normalize_records,
    number_type_name,
    outbound_status_name,
    record_status,
    status_is_known,
    status_name,
    status_to_api,
    status_to_number,
    timestamp,
)

PROTO_FULL = {
    "id": "PN_abc",
    "name": "Support line",
    "e164_format": "+14155550100",
    "country_code": "US",
    "area_code": "415",
    "number_type": "PHONE_NUMBER_TYPE_LOCAL",
    "locality": "San Francisco",
    "region": "CA",
    "spam_score": 0.25,
    "created_at": "2025-09-08T12:00:00Z",
    "updated_at": "2025-09-08T12:00:05.123Z",
    "capabilities": ["voice", "sms"],
    "status": "PHONE_NUMBER_STATUS_ACTIVE",
    "inbound_status": "PHONE_NUMBER_IN_STATUS_ACTIVE",
    "outbound_status": "PHONE_NUMBER_OUT_STATUS_UNAVAILABLE",
    "assigned_at": "2025-09-08T12:00:00.123456Z",
    "released_at": None,
    "sip_dispatch_rule_id": "SDR_a",
    "sip_dispatch_rule_ids": ["SDR_a", "SDR_b"],
}

EXPECTED_FULL = {
    "id": "PN_abc",
    "name": "Support line",
    "e164_format": "+14155550100",
    "country_code": "US",
    "area_code": "415",
    "number_type": "local",
    "locality": "San Francisco",
    "region": "CA",
    "spam_score": 0.25,
    "capabilities": ["voice", "sms"],
    "status": "active",
    "inbound_status": "active",
    "outbound_status": "unavailable",
    "sip_dispatch_rule_id": "SDR_a",
    "sip_dispatch_rule_ids": ["SDR_a", "SDR_b"],
    "created_at": "2025-09-08T12:00:00Z",
    "updated_at": "2025-09-08T12:00:05.123Z",
    "assigned_at": "2025-09-08T12:00:00.123456Z",
    "released_at": None,
}


def to_camel(raw):
    return {camel(k): v for k, v in raw.items()}


def test_proto_names():
    assert normalize_record(PROTO_FULL) == EXPECTED_FULL


def test_camel_names_give_the_same_record():
    camel_raw = to_camel(PROTO_FULL)
    assert "e164Format" in camel_raw and "sipDispatchRuleIds" in camel_raw
    assert normalize_record(camel_raw) == EXPECTED_FULL


def test_every_field_present_in_output_in_order():
    assert list(normalize_record({})) == [name for name, dummy in RECORD_FIELDS]


def test_skip_defaults_gives_zero_values():
    # protojson with skip-defaults leaves out "", 0, [], the zero enum and unset timestamps.
    raw = {"id": "PN_x", "e164Format": "+14155550100", "status": "PHONE_NUMBER_STATUS_OFFLINE"}
    record = normalize_record(raw)
    # Country and area code of a +1 number are derived from its digits when left out.
    assert record == {
        "id": "PN_x",
        "name": "",
        "e164_format": "+14155550100",
        "country_code": "US",
        "area_code": "415",
        "number_type": "unknown",
        "locality": "",
        "region": "",
        "spam_score": 0.0,
        "capabilities": [],
        "status": "offline",
        "inbound_status": "unspecified",
        "outbound_status": "unspecified",
        "sip_dispatch_rule_id": "",
        "sip_dispatch_rule_ids": [],
        "created_at": None,
        "updated_at": None,
        "assigned_at": None,
        "released_at": None,
    }


def test_defaults_emitted_equal_defaults_skipped():
    emitted = {
        "id": "",
        "name": "",
        "e164_format": "+14155550100",
        "country_code": "",
        "area_code": "",
        "number_type": "PHONE_NUMBER_TYPE_UNKNOWN",
        "locality": "",
        "region": "",
        "spam_score": 0,
        "created_at": None,
        "updated_at": None,
        "capabilities": [],
        "status": "PHONE_NUMBER_STATUS_UNSPECIFIED",
        "inbound_status": "PHONE_NUMBER_IN_STATUS_UNSPECIFIED",
        "outbound_status": "PHONE_NUMBER_OUT_STATUS_UNSPECIFIED",
        "assigned_at": None,
        "released_at": None,
        "sip_dispatch_rule_id": "",
        "sip_dispatch_rule_ids": [],
    }
    assert normalize_record(emitted) == normalize_record({"e164_format": "+14155550100"})


def test_old_vintage_record_falls_back_to_the_singular_rule():
    # As the first public page documented it: no list field, no OFFLINE, no created/updated.
    old = {
        "id": "PN_old",
        "e164_format": "+16505550010",
        "country_code": "US",
        "area_code": "650",
        "number_type": "PHONE_NUMBER_TYPE_MOBILE",
        "locality": "Palo Alto",
        "region": "CA",
        "capabilities": ["voice"],
        "status": "PHONE_NUMBER_STATUS_PENDING",
        "sip_dispatch_rule_id": "SDR_old",
        "released_at": None,
    }
    record = normalize_record(old)
    assert record["sip_dispatch_rule_ids"] == ["SDR_old"]
    assert record["sip_dispatch_rule_id"] == "SDR_old"
    assert record["number_type"] == "mobile"
    assert record["status"] == "pending"
    assert record["spam_score"] == 0.0
    assert record["created_at"] is None and record["updated_at"] is None


def test_empty_list_field_falls_back_to_singular():
    record = normalize_record({"sip_dispatch_rule_ids": [], "sip_dispatch_rule_id": "SDR_1"})
    assert record["sip_dispatch_rule_ids"] == ["SDR_1"]


def test_list_field_wins_and_singular_is_its_first():
    record = normalize_record(
        {"sip_dispatch_rule_ids": ["SDR_2", "SDR_3"], "sip_dispatch_rule_id": "SDR_1"}
    )
    assert record["sip_dispatch_rule_ids"] == ["SDR_2", "SDR_3"]
    assert record["sip_dispatch_rule_id"] == "SDR_2"


@pytest.mark.parametrize(
    "given, expected",
    [
        ("PHONE_NUMBER_STATUS_ACTIVE", "active"),
        ("PHONE_NUMBER_STATUS_PENDING", "pending"),
        ("PHONE_NUMBER_STATUS_RELEASED", "released"),
        ("PHONE_NUMBER_STATUS_OFFLINE", "offline"),
        ("PHONE_NUMBER_STATUS_UNSPECIFIED", "unspecified"),
        ("active", "active"),
        ("OFFLINE", "offline"),
        (1, "active"),
        (2, "pending"),
        (3, "released"),
        (4, "offline"),
        (0, "unspecified"),
        ("4", "offline"),
        (99, "unspecified"),
        ("PHONE_NUMBER_STATUS_SUSPENDED", "unspecified"),
        (None, "unspecified"),
        (True, "unspecified"),
    ],
)
def test_status_names(given, expected):
    assert status_name(given) == expected


@pytest.mark.parametrize(
    "given, expected",
    [
        ("PHONE_NUMBER_TYPE_MOBILE", "mobile"),
        ("PHONE_NUMBER_TYPE_LOCAL", "local"),
        ("PHONE_NUMBER_TYPE_TOLL_FREE", "toll_free"),
        ("PHONE_NUMBER_TYPE_UNKNOWN", "unknown"),
        ("toll-free", "toll_free"),
        (1, "mobile"),
        (2, "local"),
        (3, "toll_free"),
        (0, "unknown"),
        (7, "unknown"),
        (None, "unknown"),
    ],
)
def test_number_type_names(given, expected):
    assert number_type_name(given) == expected


@pytest.mark.parametrize(
    "given, expected",
    [
        ("PHONE_NUMBER_IN_STATUS_UNSPECIFIED", "unspecified"),
        ("PHONE_NUMBER_IN_STATUS_ACTIVE", "active"),
        ("PHONE_NUMBER_IN_STATUS_UNAVAILABLE", "unavailable"),
        ("PHONE_NUMBER_IN_STATUS_DETACHED", "detached"),
        (3, "detached"),
        ("2", "unavailable"),
        ("detached", "detached"),
        # The name of the other enum is not this one's.
        ("PHONE_NUMBER_OUT_STATUS_ACTIVE", "unspecified"),
        (9, "unspecified"),
        (None, "unspecified"),
    ],
)
def test_inbound_status_names(given, expected):
    assert inbound_status_name(given) == expected


@pytest.mark.parametrize(
    "given, expected",
    [
        ("PHONE_NUMBER_OUT_STATUS_UNSPECIFIED", "unspecified"),
        ("PHONE_NUMBER_OUT_STATUS_ACTIVE", "active"),
        ("PHONE_NUMBER_OUT_STATUS_UNAVAILABLE", "unavailable"),
        (1, "active"),
        # DETACHED exists only for inbound calls.
        ("PHONE_NUMBER_OUT_STATUS_DETACHED", "unspecified"),
        (3, "unspecified"),
        ("", "unspecified"),
    ],
)
def test_outbound_status_names(given, expected):
    assert outbound_status_name(given) == expected


def test_new_fields_read_from_camel_case_and_enum_numbers():
    record = normalize_record({"name": "Sales", "inboundStatus": 3, "outboundStatus": 2})
    assert (record["name"], record["inbound_status"], record["outbound_status"]) == (
        "Sales",
        "detached",
        "unavailable",
    )


def test_a_server_before_labels_gives_zero_values():
    old = normalize_record({"id": "PN_1", "status": "PHONE_NUMBER_STATUS_ACTIVE"})
    assert old["name"] == ""
    assert old["inbound_status"] == "unspecified"
    assert old["outbound_status"] == "unspecified"


def test_status_to_api_and_number():
    assert status_to_api("active") == "PHONE_NUMBER_STATUS_ACTIVE"
    assert status_to_api("offline") == "PHONE_NUMBER_STATUS_OFFLINE"
    assert [status_to_number(s) for s in ("active", "pending", "released", "offline")] == [
        1,
        2,
        3,
        4,
    ]


@pytest.mark.parametrize(
    "given, expected",
    [
        ("2025-09-08T12:00:00Z", "2025-09-08T12:00:00Z"),
        ("2025-09-08T12:00:00.1Z", "2025-09-08T12:00:00.1Z"),
        ("2025-09-08T12:00:00.123Z", "2025-09-08T12:00:00.123Z"),
        ("2025-09-08T12:00:00.123456789Z", "2025-09-08T12:00:00.123456789Z"),
        ("2025-09-08T14:30:00+02:30", "2025-09-08T12:00:00Z"),
        ("2025-09-08T23:00:00.5-02:00", "2025-09-09T01:00:00.5Z"),
        ("2025-09-08t12:00:00z", "2025-09-08T12:00:00Z"),
        ("2025-09-08T12:00:00+00:00", "2025-09-08T12:00:00Z"),
        ("2025-09-08T12:00:00", "2025-09-08T12:00:00Z"),
        ("1970-01-01T00:00:00Z", None),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        (None, None),
        ({"seconds": 1757332800, "nanos": 500000000}, "2025-09-08T12:00:00.5Z"),
        ({"seconds": 0}, None),
        (1757332800, "2025-09-08T12:00:00Z"),
        ("yesterday", "yesterday"),
    ],
)
def test_timestamps(given, expected):
    assert timestamp(given) == expected


def test_timestamps_in_records():
    record = normalize_record({"createdAt": "2025-09-08T14:00:00+02:00", "releasedAt": None})
    assert record["created_at"] == "2025-09-08T12:00:00Z"
    assert record["released_at"] is None


@pytest.mark.parametrize(
    "given, expected",
    [
        (0.5, 0.5),
        (1, 1.0),
        ("0.75", 0.75),
        ("NaN", 0.0),
        ("Infinity", 0.0),
        (None, 0.0),
        ("x", 0.0),
    ],
)
def test_spam_score(given, expected):
    assert normalize_record({"spam_score": given})["spam_score"] == expected


def test_non_dict_items_become_empty_records():
    assert normalize_records([None]) == [empty_record()]
    assert normalize_records(None) == []


def test_capabilities_single_string_becomes_list():
    assert normalize_record({"capabilities": "voice"})["capabilities"] == ["voice"]


def test_merge_keeps_fuller_fields():
    full = normalize_record(PROTO_FULL)
    partial = normalize_record(
        {"id": "PN_abc", "e164_format": "+14155550100", "status": "PHONE_NUMBER_STATUS_PENDING"}
    )
    merged = merge_records(full, partial)
    assert merged["status"] == "pending"
    assert merged["locality"] == "San Francisco"
    assert merged["sip_dispatch_rule_ids"] == ["SDR_a", "SDR_b"]


@pytest.mark.parametrize(
    "status, held",
    [
        ("active", True),
        ("pending", True),
        ("offline", True),
        ("released", False),
        # A listed record never counts as absent because its status is unknown or missing.
        ("unspecified", True),
        ("suspended", True),
        ("unknown_7", True),
    ],
)
def test_is_held(status, held):
    assert is_held({"e164_format": "+14155550100", "status": status}) is held
    assert is_held({"id": "PN_x", "status": status}) is held
    # A record that names no number identifies nothing the project could hold.
    assert not is_held({"status": status})


def test_empty_record_is_not_held_and_lists_are_fresh():
    one = empty_record("+14155550100")
    two = empty_record()
    one["capabilities"].append("voice")
    assert two["capabilities"] == []
    assert not is_held(two)
    assert not is_held(None)


@pytest.mark.parametrize(
    "given, expected",
    [
        ("PHONE_NUMBER_STATUS_ACTIVE", "active"),
        (4, "offline"),
        ("PHONE_NUMBER_STATUS_SUSPENDED", "suspended"),
        ("PHONE_NUMBER_STATUS_PORTING-OUT", "porting_out"),
        (7, "unknown_7"),
        ("7", "unknown_7"),
        (0, "unspecified"),
        ("PHONE_NUMBER_STATUS_UNSPECIFIED", "unspecified"),
        (None, "unspecified"),
        ("", "unspecified"),
        (True, "unspecified"),
    ],
)
def test_record_status_keeps_unknown_statuses_visible(given, expected):
    assert record_status(given) == expected
    assert normalize_record({"e164_format": "+14155550100", "status": given})["status"] == expected


def test_only_the_protocols_statuses_are_known():
    assert [status_is_known(s) for s in ("active", "pending", "released", "offline")] == [True] * 4
    assert not any(status_is_known(s) for s in ("unspecified", "suspended", "unknown_7"))


@pytest.mark.parametrize(
    "number, expected",
    [
        ("+14155550100", ("US", "415")),
        ("+14165550100", ("CA", "416")),
        ("+16045550100", ("CA", "604")),
        ("+17875550100", ("PR", "787")),
        ("+18005550100", ("", "800")),  # toll-free: shared by every NANP country
        ("+18775550100", ("", "877")),
        ("+442071234567", ("", "")),  # not NANP
        ("+11155550100", ("", "")),  # an area code cannot start with 1
        ("+1415555010", ("", "")),  # too short
        ("", ("", "")),
    ],
)
def test_nanp_fields_from_the_digits(number, expected):
    assert nanp_fields(number) == expected


def test_missing_country_and_area_are_derived_but_given_ones_win():
    derived = normalize_record({"e164_format": "+16045550100", "status": 1})
    assert (derived["country_code"], derived["area_code"]) == ("CA", "604")
    given = normalize_record(
        {"e164_format": "+16045550100", "country_code": "XX", "area_code": "999"}
    )
    assert (given["country_code"], given["area_code"]) == ("XX", "999")
    partial = normalize_record({"e164_format": "+14155550100", "country_code": "USA"})
    assert (partial["country_code"], partial["area_code"]) == ("USA", "415")


def test_missing_fields_names_what_the_server_left_out():
    assert missing_fields(PROTO_FULL) == []
    assert missing_fields({"e164Format": "+14155550100", "status": 0}) == [
        "id",
        "country_code",
        "area_code",
        "status",
    ]
    assert missing_fields({"id": "PN_x", "e164_format": "+14155550100", "area_code": ""}) == [
        "country_code",
        "area_code",
        "status",
    ]
