"""Pools with search filters against the emulator over HTTP."""

from __future__ import annotations

import re

from tests.integration.helpers import calls, run

pytest_plugins = ["livekit_sip_emulator.fixtures"]

TOLL_FREE = 3


def offered(emulator, country, area_code, accept):
    store = emulator.store
    return [
        listing
        for listing in store.inventory.candidates(country, area_code)
        if listing.e164_format not in store.held and accept(listing)
    ]


def chosen(matching, count, spares=5):
    """What a pool buys: the scan reads matches until it has the shortfall and its spares, and
    the planner takes the lowest spam scores among them (then the lowest numbers), whatever the
    order of the offer."""
    read = sorted(matching[: count + spares], key=lambda li: (li.spam_score, li.e164_format))
    return [li.e164_format for li in read[:count]]


def test_a_pool_of_toll_free_numbers_with_sms(emulator):
    expected = offered(
        emulator, "US", "888", lambda li: li.number_type == TOLL_FREE and "sms" in li.capabilities
    )
    pool = {
        "country_code": "US",
        "area_code": "888",
        "number_type": "toll_free",
        "capabilities": ["sms"],
        "count": 3,
        "sip_dispatch_rule_id": "SDR_support",
    }
    result = run(emulator, "phone_number_fleet", entries=[pool])
    assert result["purchased"] == chosen(expected, 3)
    records = result["phone_numbers"]
    assert all(r["number_type"] == "toll_free" and "sms" in r["capabilities"] for r in records)
    assert result["pools"][0]["held"] == result["purchased"]
    again = run(emulator, "phone_number_fleet", entries=[pool])
    assert again["changed"] is False
    assert calls(emulator.admin.counters(), "PurchasePhoneNumber") == 1


def test_held_numbers_that_miss_the_filters_do_not_count(emulator):
    voice_only = offered(emulator, "US", "800", lambda li: li.capabilities == ("voice",))[:2]
    emulator.admin.load(
        {
            "numbers": [
                {"e164_format": li.e164_format, "sip_dispatch_rule_ids": ["SDR_1"]}
                for li in voice_only
            ]
        }
    )
    pool = {"country_code": "US", "area_code": "800", "capabilities": ["sms"], "count": 1}
    checked = run(emulator, "phone_number_fleet", check_mode=True, entries=[pool])
    assert len(checked["purchased"]) == 1
    assert sorted(checked["unlisted"]) == sorted(li.e164_format for li in voice_only)
    plain = run(
        emulator,
        "phone_number_fleet",
        check_mode=True,
        entries=[{"country_code": "US", "area_code": "800", "count": 1}],
    )
    assert plain["purchased"] == [] and plain["pools"][0]["held"] == [voice_only[0].e164_format]


def test_a_vanity_pool_pages_through_the_offer(emulator):
    emulator.admin.reset(max_page_size=10)
    pattern = re.compile(r"415\d{3}77")
    # The scan reads at most 20 pages, here of 10 numbers each.
    within_bound = offered(emulator, "US", "415", lambda li: True)[: 20 * 10]
    matching = [li for li in within_bound if pattern.search(li.e164_format[1:])]
    wanted = chosen(matching, 2)
    assert len(wanted) == 2
    pool = {"country_code": "US", "area_code": "415", "contains": "415***77", "count": 2}
    result = run(emulator, "phone_number_fleet", entries=[pool])
    assert result["purchased"] == wanted
    assert calls(emulator.admin.counters(), "SearchPhoneNumbers") > 1


def test_a_pool_the_page_bound_cannot_fill_fails_before_buying(emulator):
    emulator.admin.reset(max_page_size=5)
    pool = {"country_code": "US", "area_code": "415", "contains": "999999", "count": 1}
    result = run(emulator, "phone_number_fleet", entries=[pool])
    assert result["failed"] is True and result["error"]["code"] == "pool_shortfall"
    assert "contains=999999" in result["msg"] and "bound of 20 pages" in result["msg"]
    counters = emulator.admin.counters()
    assert calls(counters, "SearchPhoneNumbers") == 20
    assert calls(counters, "PurchasePhoneNumber") == 0


def test_bad_pool_filters_fail_before_any_call(emulator):
    result = run(
        emulator,
        "phone_number_fleet",
        entries=[{"country_code": "US", "count": 1, "number_type": "landline"}],
    )
    assert result["failed"] is True and "entries[0]" in result["msg"]
    assert sum(emulator.admin.counters()["calls"].values()) == 0
