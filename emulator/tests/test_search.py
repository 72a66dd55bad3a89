from __future__ import annotations

import re
import time

from .helpers import RECORD_FIELDS, decode_page_token


def test_search_offers_numbers_of_the_area_with_every_field(api):
    result = api.ok("SearchPhoneNumbers", {"country_code": "US", "area_code": "415", "limit": 5})
    assert len(result["items"]) == 5
    for item in result["items"]:
        assert tuple(item) == RECORD_FIELDS
        assert item["id"] == ""
        assert item["status"] == "PHONE_NUMBER_STATUS_UNSPECIFIED"
        assert re.match(r"^\+1415[2-9]\d{6}$", item["e164_format"])
        assert (item["country_code"], item["area_code"]) == ("US", "415")
        assert item["number_type"] in ("PHONE_NUMBER_TYPE_LOCAL", "PHONE_NUMBER_TYPE_MOBILE")
        assert (item["locality"], item["region"]) == ("San Francisco", "CA")
        assert item["capabilities"] and set(item["capabilities"]) <= {"voice", "sms"}
        assert isinstance(item["spam_score"], (int, float))
        assert item["created_at"] is None and item["released_at"] is None
        assert item["sip_dispatch_rule_id"] == "" and item["sip_dispatch_rule_ids"] == []
    numbers = [item["e164_format"] for item in result["items"]]
    assert numbers == sorted(numbers)


def test_country_code_is_case_insensitive_alpha2(api):
    upper = api.ok("SearchPhoneNumbers", {"country_code": "CA", "limit": 10})
    lower = api.ok("SearchPhoneNumbers", {"country_code": "ca", "limit": 10})
    assert upper == lower
    assert {item["country_code"] for item in upper["items"]} == {"CA"}


def test_country_code_is_required_and_must_be_alpha2(api):
    assert "country_code" in api.fails("SearchPhoneNumbers", {})["msg"]
    api.fails("SearchPhoneNumbers", {"country_code": ""})
    assert "USA" in api.fails("SearchPhoneNumbers", {"country_code": "USA"})["msg"]
    api.fails("SearchPhoneNumbers", {"country_code": "U1"})
    api.fails("SearchPhoneNumbers", {"country_code": "US", "area_code": "4l5"})


def test_unknown_country_or_area_finds_nothing(api):
    for body in ({"country_code": "FR"}, {"country_code": "US", "area_code": "999"}):
        result = api.ok("SearchPhoneNumbers", body)
        assert result == {"items": [], "next_page_token": None}


def test_three_countries_all_number_types_and_proper_e164(api):
    seen_types = set()
    for country, prefix in (("US", "+1"), ("CA", "+1"), ("GB", "+44")):
        items = api.ok("SearchPhoneNumbers", {"country_code": country, "limit": 1000})["items"]
        assert len({item["area_code"] for item in items}) >= 3
        assert all(item["e164_format"].startswith(prefix + item["area_code"]) for item in items)
        assert all(re.match(r"^\+[1-9]\d{1,14}$", item["e164_format"]) for item in items)
        assert any(item["locality"] for item in items) and any(item["region"] for item in items)
        seen_types |= {item["number_type"] for item in items}
    assert seen_types == {
        "PHONE_NUMBER_TYPE_LOCAL",
        "PHONE_NUMBER_TYPE_MOBILE",
        "PHONE_NUMBER_TYPE_TOLL_FREE",
    }
    london = api.ok("SearchPhoneNumbers", {"country_code": "GB", "area_code": "20", "limit": 3})[
        "items"
    ]
    assert all(len(item["e164_format"]) == 13 and item["locality"] == "London" for item in london)


def test_limit_defaults_to_50_and_is_capped(api, emulator):
    assert len(api.ok("SearchPhoneNumbers", {"country_code": "US"})["items"]) == 50
    emulator.admin.reset(max_page_size=7)
    result = api.ok("SearchPhoneNumbers", {"country_code": "US", "limit": 100})
    assert len(result["items"]) == 7
    assert decode_page_token(result["next_page_token"]) == {"offset": 7, "limit": 7}
    api.fails("SearchPhoneNumbers", {"country_code": "US", "limit": -1})


def test_pages_cover_the_area_without_overlap(api):
    everything = [
        item["e164_format"]
        for item in api.ok(
            "SearchPhoneNumbers", {"country_code": "US", "area_code": "650", "limit": 1000}
        )["items"]
    ]
    assert 40 < len(everything) < 1000
    pages, token = [], None
    while True:
        body = {"country_code": "US", "area_code": "650", "limit": 20}
        if token:
            body["page_token"] = token
        result = api.ok("SearchPhoneNumbers", body)
        pages.append([item["e164_format"] for item in result["items"]])
        token = result["next_page_token"]
        if token is None:
            break
        assert decode_page_token(token) == {"offset": 20 * len(pages), "limit": 20}
    assert len(pages) >= 3
    assert [number for page in pages for number in page] == everything


def test_held_numbers_are_not_offered_until_released(api):
    first = api.available(1, area_code="312")[0]
    record = api.ok("PurchasePhoneNumber", {"phone_numbers": [first]})["phone_numbers"][0]
    assert first not in api.available(50, area_code="312")
    api.ok("ReleasePhoneNumbers", {"ids": [record["id"]]})
    assert api.available(1, area_code="312")[0] == first


def test_inventory_is_deterministic_for_a_seed(api, emulator):
    body = {"country_code": "GB", "limit": 30}
    first = api.ok("SearchPhoneNumbers", body)
    emulator.admin.reset()
    assert api.ok("SearchPhoneNumbers", body) == first
    emulator.admin.reset(seed=12345)
    assert api.ok("SearchPhoneNumbers", body) != first


def test_inventory_of_twenty_thousand_numbers_builds_fast(api, emulator):
    started = time.monotonic()
    emulator.admin.reset(inventory_size=20000, seed=99)
    assert time.monotonic() - started < 3
    total = 0
    for country in ("US", "CA", "GB"):
        token = None
        while True:
            body = {"country_code": country, "limit": 1000}
            if token:
                body["page_token"] = token
            result = api.ok("SearchPhoneNumbers", body)
            total += len(result["items"])
            token = result["next_page_token"]
            if not token:
                break
    assert total == 20000
