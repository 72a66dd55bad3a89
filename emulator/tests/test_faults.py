from __future__ import annotations

import time
import uuid

import pytest
import requests

from livekit_sip_emulator import AdminError

from .helpers import Api, assert_twirp_error


def outcome(api, method="ListPhoneNumbers", body=None):
    try:
        return api.post(method, body or {}).status_code
    except requests.ConnectionError:
        return "dropped"


def test_scripted_unavailable_then_ok(api, emulator):
    emulator.admin.set_faults(script={"ListPhoneNumbers": ["unavailable", "ok", "unavailable"]})
    assert_twirp_error(api.post("ListPhoneNumbers", {}), "unavailable")
    assert api.post("ListPhoneNumbers", {}).status_code == 200
    assert api.post("ListPhoneNumbers", {}).status_code == 503
    assert api.post("ListPhoneNumbers", {}).status_code == 200
    assert api.post("GetPhoneNumber", {"id": "PN_x"}).status_code == 404
    counters = emulator.admin.counters()
    assert counters["faults"]["unavailable"] == 2 and counters["errors"]["unavailable"] == 2
    assert counters["calls"]["ListPhoneNumbers"] == 4


def test_rate_limited_carries_retry_after(api, emulator):
    emulator.admin.set_faults(script={"SearchPhoneNumbers": ["rate_limited"]})
    response = api.post("SearchPhoneNumbers", {"country_code": "US"})
    assert_twirp_error(response, "resource_exhausted")
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    emulator.admin.set_faults(retry_after=2.5, script={"SearchPhoneNumbers": ["rate_limited"]})
    assert api.post("SearchPhoneNumbers", {"country_code": "US"}).headers["Retry-After"] == "3"
    assert emulator.admin.counters()["faults"]["rate_limited"] == 2


def test_drop_closes_the_connection_before_executing(api, emulator):
    number = api.available(1)
    emulator.admin.set_faults(script={"PurchasePhoneNumber": ["drop"]})
    with pytest.raises(requests.ConnectionError):
        api.post("PurchasePhoneNumber", {"phone_numbers": number})
    assert emulator.admin.counters()["writes"]["purchased"] == 0
    assert emulator.admin.dump()["numbers"] == []
    assert api.post("PurchasePhoneNumber", {"phone_numbers": number}).status_code == 200
    assert emulator.admin.counters()["faults"]["drop"] == 1


def test_lost_response_commits_the_write(api, emulator):
    number = api.available(1)
    request_id = str(uuid.uuid4())
    emulator.admin.set_faults(script={"PurchasePhoneNumber": ["lost_response"]})
    with pytest.raises(requests.ConnectionError):
        api.post(
            "PurchasePhoneNumber",
            {"phone_numbers": number},
            headers={"X-Livekit-Request-Id": request_id},
        )
    held = emulator.admin.dump()["numbers"]
    assert [entry["e164_format"] for entry in held] == number
    # The retry of the same call gets the answer that was lost; nothing is bought twice.
    retry = api.ok(
        "PurchasePhoneNumber",
        {"phone_numbers": number},
        headers={"X-Livekit-Request-Id": request_id},
    )
    assert retry["phone_numbers"][0]["id"] == held[0]["id"]
    counters = emulator.admin.counters()
    assert counters["purchases_by_number"] == {number[0]: 1} and counters["replays"] == 1
    # A naive retry without the id finds the number already held.
    api.fails("PurchasePhoneNumber", {"phone_numbers": number}, "failed_precondition")


def test_a_lost_response_stays_lost_for_a_refused_call(api, emulator):
    emulator.admin.set_faults(script={"ListPhoneNumbers": ["lost_response"]})
    with pytest.raises(requests.ConnectionError):
        api.post("ListPhoneNumbers", {}, auth="Bearer nope")
    assert api.post("ListPhoneNumbers", {}, auth="Bearer nope").status_code == 401
    assert emulator.admin.counters()["faults"]["lost_response"] == 1


def test_a_seeded_rate_is_reproducible(api, emulator):
    emulator.admin.set_faults(rate=0.5, seed=7, kinds=["unavailable", "rate_limited", "drop"])
    first = [outcome(api) for _call in range(40)]
    emulator.admin.set_faults(rate=0.5, seed=7, kinds=["unavailable", "rate_limited", "drop"])
    second = [outcome(api) for _call in range(40)]
    assert first == second
    assert {200, 503, 429, "dropped"} == set(first)
    emulator.admin.set_faults(rate=0.5, seed=8, kinds=["unavailable", "rate_limited", "drop"])
    third = [outcome(api) for _call in range(40)]
    assert third != first
    faults = emulator.admin.counters()["faults"]
    assert faults["lost_response"] == 0
    assert sum(faults.values()) == sum(1 for item in first + second + third if item != 200)


def test_rate_applies_to_the_chosen_methods_and_kinds(api, emulator):
    emulator.admin.set_faults(rate=1.0, kinds="unavailable", methods="PurchasePhoneNumber")
    assert all(outcome(api) == 200 for _call in range(5))
    assert all(
        outcome(api, "PurchasePhoneNumber", {"phone_numbers": ["+14155550100"]}) == 503
        for _call in range(5)
    )


def test_faults_from_start_up_options(emulator_factory):
    emulator = emulator_factory(fault_rate=1.0, fault_kinds=("rate_limited",), retry_after=4)
    api = Api(emulator)
    response = api.post("ListPhoneNumbers", {})
    assert response.status_code == 429 and response.headers["Retry-After"] == "4"
    assert emulator.admin.health()["status"] == "ok"
    emulator.admin.clear_faults()
    assert api.post("ListPhoneNumbers", {}).status_code == 200


def test_latency_delays_api_calls_but_not_introspection(api, emulator):
    emulator.admin.set_faults(latency_ms=250)
    started = time.monotonic()
    assert api.post("ListPhoneNumbers", {}).status_code == 200
    assert time.monotonic() - started >= 0.25
    started = time.monotonic()
    emulator.admin.counters()
    assert time.monotonic() - started < 0.2
    emulator.admin.clear_faults()
    started = time.monotonic()
    api.post("ListPhoneNumbers", {})
    assert time.monotonic() - started < 0.2


def test_introspection_is_never_faulted(emulator):
    emulator.admin.set_faults(rate=1.0, kinds=["drop"])
    for _call in range(5):
        assert emulator.admin.health()["status"] == "ok"
    assert emulator.admin.faults()["rate"] == 1.0


def test_faults_are_cleared_by_an_empty_body_and_by_reset(api, emulator):
    emulator.admin.set_faults(rate=1.0, kinds=["unavailable"])
    emulator.admin.clear_faults()
    assert outcome(api) == 200
    emulator.admin.set_faults(
        rate=1.0, kinds=["unavailable"], latency_ms=10, script={"GetPhoneNumber": ["drop"]}
    )
    emulator.admin.reset()
    assert emulator.admin.faults() == {
        "rate": 0.0,
        "seed": 0,
        "kinds": ["unavailable", "rate_limited", "drop", "lost_response"],
        "methods": [],
        "latency_ms": 0.0,
        "retry_after": 1.0,
        "script": {},
    }
    assert outcome(api) == 200


@pytest.mark.parametrize(
    "settings",
    [
        {"rate": 2},
        {"kinds": ["explode"]},
        {"methods": ["Nope"]},
        {"script": {"Nope": ["drop"]}},
        {"script": {"GetPhoneNumber": ["explode"]}},
        {"latency_ms": -1},
        {"colour": "red"},
    ],
)
def test_invalid_fault_settings_are_refused(emulator, settings):
    with pytest.raises(AdminError) as caught:
        emulator.admin.set_faults(**settings)
    assert caught.value.status == 400
