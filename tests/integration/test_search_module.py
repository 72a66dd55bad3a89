"""phone_number_search against the emulator over HTTP."""

from __future__ import annotations

from tests.integration.helpers import calls, run, writes

pytest_plugins = ["livekit_sip_emulator.fixtures"]


def test_search_pages_until_limit(emulator):
    emulator.admin.reset(max_page_size=10)
    result = run(emulator, "phone_number_search", country_code="us", area_code="415", limit=25)
    assert result["changed"] is False
    numbers = result["phone_numbers"]
    assert len(numbers) == 25
    assert len({n["e164_format"] for n in numbers}) == 25
    assert all(n["e164_format"].startswith("+1415") for n in numbers)
    assert all(n["country_code"] == "US" and n["area_code"] == "415" for n in numbers)
    assert all(n["status"] == "unspecified" and n["id"] == "" for n in numbers)
    assert {n["number_type"] for n in numbers} <= {"local", "mobile"}
    counters = emulator.admin.counters()
    assert calls(counters, "SearchPhoneNumbers") == 3
    assert writes(counters) == 0


def test_search_stops_when_the_server_has_no_more(emulator):
    emulator.admin.reset(inventory_size=200, max_page_size=7)
    result = run(emulator, "phone_number_search", country_code="GB", area_code="20", limit=1000)
    assert 0 < len(result["phone_numbers"]) < 1000
    pages = calls(emulator.admin.counters(), "SearchPhoneNumbers")
    assert pages == len(result["phone_numbers"]) // 7 + 1


def test_search_in_check_mode_is_the_same(emulator):
    normal = run(emulator, "phone_number_search", country_code="CA", limit=5)
    checked = run(emulator, "phone_number_search", country_code="CA", limit=5, check_mode=True)
    assert checked["phone_numbers"] == normal["phone_numbers"]
    assert checked["changed"] is False


def test_search_gives_the_same_records_for_every_json_variant(emulator):
    emulator.admin.reset(json_names="proto", skip_defaults=False)
    proto = run(emulator, "phone_number_search", country_code="US", area_code="800", limit=5)[
        "phone_numbers"
    ]
    emulator.admin.reset(json_names="camel", skip_defaults=True)
    camel = run(emulator, "phone_number_search", country_code="US", area_code="800", limit=5)[
        "phone_numbers"
    ]
    assert camel == proto
    assert proto[0]["number_type"] == "toll_free"


def test_bought_numbers_are_no_longer_offered(emulator):
    first = run(emulator, "phone_number_search", country_code="US", area_code="212", limit=2)[
        "phone_numbers"
    ]
    run(emulator, "phone_number", phone_numbers=[first[0]["e164_format"]])
    again = run(emulator, "phone_number_search", country_code="US", area_code="212", limit=2)[
        "phone_numbers"
    ]
    assert first[0]["e164_format"] not in [n["e164_format"] for n in again]


def test_bad_country_code_fails_before_any_call(emulator):
    result = run(emulator, "phone_number_search", country_code="USA")
    assert result["failed"] is True
    assert "'USA'" in result["msg"]
    assert result["error"]["code"] == "invalid_parameter"
    assert sum(emulator.admin.counters()["calls"].values()) == 0


def test_bad_limit_fails_before_any_call(emulator):
    result = run(emulator, "phone_number_search", country_code="US", limit=0)
    assert result["failed"] is True
    assert "limit" in result["msg"]
    assert sum(emulator.admin.counters()["calls"].values()) == 0
