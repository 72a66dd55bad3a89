"""phone_number_search's filters against the emulator over HTTP: pages read, bound reported."""

from __future__ import annotations

import re

from tests.integration.helpers import calls, run, warning_texts, writes

pytest_plugins = ["livekit_sip_emulator.fixtures"]


def offered(emulator, country, area_code, accept):
    """What the emulator offers, in its order, read from its inventory (no API call counted)."""
    store = emulator.store
    return [
        listing
        for listing in store.inventory.candidates(country, area_code)
        if listing.e164_format not in store.held and accept(listing)
    ]


def test_vanity_contains_pages_until_enough_match(emulator):
    emulator.admin.reset(max_page_size=10)
    pattern = re.compile(r"5\d5")
    expected = offered(emulator, "US", "415", lambda li: pattern.search(li.e164_format[1:]))
    assert len(expected) >= 3
    result = run(
        emulator, "phone_number_search", country_code="US", area_code="415", contains="5*5", limit=3
    )
    assert result["changed"] is False
    assert [n["e164_format"] for n in result["phone_numbers"]] == [
        li.e164_format for li in expected[:3]
    ]
    scan = result["scan"]
    assert scan["matched"] == 3 and scan["bound_reached"] is False and scan["exhausted"] is False
    pages = calls(emulator.admin.counters(), "SearchPhoneNumbers")
    assert pages == scan["pages"] > 1
    assert scan["offered"] == pages * 10
    assert writes(emulator.admin.counters()) == 0


def test_vanity_letters_are_keypad_digits(emulator):
    # 7 is P, Q, R or S on a keypad: "R" finds the numbers "7" finds.
    by_digit = run(
        emulator, "phone_number_search", country_code="US", area_code="212", contains="77", limit=4
    )
    by_letter = run(
        emulator, "phone_number_search", country_code="US", area_code="212", contains="rS", limit=4
    )
    assert by_letter["phone_numbers"] == by_digit["phone_numbers"]
    assert all("77" in n["e164_format"] for n in by_digit["phone_numbers"])


def test_toll_free_with_sms(emulator):
    result = run(
        emulator,
        "phone_number_search",
        country_code="US",
        number_type="toll_free",
        capabilities=["sms", "voice"],
        # Toll-free numbers come last in the emulator's offer, after every local one.
        max_pages=100,
        limit=5,
    )
    numbers = result["phone_numbers"]
    assert len(numbers) == 5
    assert all(n["number_type"] == "toll_free" for n in numbers)
    assert all({"sms", "voice"} <= set(n["capabilities"]) for n in numbers)
    expected = offered(
        emulator, "US", None, lambda li: li.number_type == 3 and "sms" in li.capabilities
    )
    assert [n["e164_format"] for n in numbers] == [li.e164_format for li in expected[:5]]


def test_locality_region_and_spam_score(emulator):
    result = run(
        emulator,
        "phone_number_search",
        country_code="US",
        locality="austin",
        region="tx",
        max_spam_score=0.0,
        limit=20,
    )
    numbers = result["phone_numbers"]
    assert len(numbers) == 20
    assert all(n["locality"] == "Austin" and n["region"] == "TX" for n in numbers)
    assert all(n["spam_score"] == 0.0 for n in numbers)
    assert result["scan"]["offered"] > 20


def test_the_page_bound_stops_the_search_and_warns(emulator):
    emulator.admin.reset(max_page_size=10)
    result = run(
        emulator,
        "phone_number_search",
        country_code="US",
        area_code="415",
        contains="99999",
        max_pages=2,
        limit=5,
    )
    assert result["scan"]["bound_reached"] is True
    assert result["scan"]["pages"] == 2 and result["scan"]["offered"] == 20
    assert calls(emulator.admin.counters(), "SearchPhoneNumbers") == 2
    assert any("max_pages=2" in warning for warning in warning_texts(result))


def test_a_search_that_reads_the_whole_offer_says_it_is_exhausted(emulator):
    emulator.admin.reset(inventory_size=300, max_page_size=50)
    expected = offered(emulator, "GB", "20", lambda li: li.e164_format.endswith("0"))
    everything = offered(emulator, "GB", "20", lambda li: True)
    assert 0 < len(expected) < len(everything)
    result = run(
        emulator,
        "phone_number_search",
        country_code="GB",
        area_code="20",
        # Twelve digits, 44 20 and eight more: the pattern matches the numbers ending in 0.
        contains="4420*******0",
        limit=1000,
    )
    numbers = [n["e164_format"] for n in result["phone_numbers"]]
    assert numbers == [li.e164_format for li in expected]
    assert result["scan"]["exhausted"] is True and result["scan"]["bound_reached"] is False
    assert result["scan"]["offered"] == len(everything)
    assert warning_texts(result) == []


def test_a_bad_pattern_fails_before_any_call(emulator):
    result = run(emulator, "phone_number_search", country_code="US", contains="55!5")
    assert result["failed"] is True
    assert result["error"]["code"] == "invalid_parameter"
    assert "contains" in result["msg"]
    assert sum(emulator.admin.counters()["calls"].values()) == 0


def test_searches_without_filters_report_no_scan(emulator):
    result = run(emulator, "phone_number_search", country_code="US", limit=2)
    assert "scan" not in result
