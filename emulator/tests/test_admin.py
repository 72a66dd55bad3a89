from __future__ import annotations

import json

import pytest

from livekit_sip_emulator import AdminError

from .helpers import Api


def test_health(emulator):
    health = emulator.admin.health()
    assert health["status"] == "ok" and health["url"] == emulator.url


def test_reset_applies_overrides_and_clears_everything(api, emulator):
    api.buy(2)
    emulator.admin.set_faults(latency_ms=5)
    result = emulator.admin.reset(quota=1, seed=3, inventory_size=500)
    assert result["config"]["quota"] == 1 and result["config"]["inventory_size"] == 500
    assert api.list_all()["total_count"] == 0
    counters = emulator.admin.counters()
    assert counters["calls"]["PurchasePhoneNumber"] == 0 and counters["writes"]["purchased"] == 0
    assert emulator.admin.faults()["latency_ms"] == 0
    api.buy(1)
    api.fails("PurchasePhoneNumber", {"phone_numbers": api.available(1)}, "resource_exhausted")
    assert emulator.admin.reset()["config"]["quota"] == 10000


@pytest.mark.parametrize(
    "overrides",
    [
        {"colour": "red"},
        {"quota": -1},
        {"json_names": "snake"},
        {"skip_defaults": "yes"},
        {"max_page_size": 0},
        {"inventory_size": 1.5},
    ],
)
def test_reset_refuses_bad_overrides(emulator, overrides):
    with pytest.raises(AdminError) as caught:
        emulator.admin.reset(**overrides)
    assert caught.value.status == 400 and caught.value.payload["code"] == "invalid_argument"


def test_dump_and_load_round_trip(api, emulator):
    routed = api.buy(3, rule="SDR_1")
    api.buy(2, country="GB")
    api.ok("ReleasePhoneNumbers", {"ids": [routed[0]["id"]]})
    api.ok("UpdatePhoneNumber", {"id": routed[1]["id"], "sip_dispatch_rule_id": "SDR_2"})
    dump = emulator.admin.dump()
    listed = api.list_all()
    assert len(dump["numbers"]) == 5 and dump["config"]["seed"] == 0
    emulator.admin.reset(seed=4)
    assert api.list_all()["total_count"] == 0
    assert emulator.admin.load(state=dump)["numbers"] == 5
    assert emulator.admin.dump() == dump
    assert api.list_all() == listed
    next_record = api.buy(1)[0]
    assert next_record["id"] not in {entry["id"] for entry in dump["numbers"]}


def test_load_from_a_file_and_a_hand_written_state(api, emulator, tmp_path):
    offer = api.available(2, country="CA")
    state = {
        "numbers": [
            {"e164_format": offer[0], "sip_dispatch_rule_ids": ["SDR_9"]},
            {"e164_format": offer[1], "status": "PHONE_NUMBER_STATUS_RELEASED"},
            {"e164_format": "+15005550006", "id": "PN_custom"},
        ]
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    emulator.admin.load(path=path)
    first = api.get(offer[0])
    assert first["status"] == "PHONE_NUMBER_STATUS_ACTIVE" and first["id"].startswith("PN_")
    assert (
        first["locality"]
        and first["country_code"] == "CA"
        and first["sip_dispatch_rule_id"] == "SDR_9"
    )
    assert api.get(offer[1])["status"] == "PHONE_NUMBER_STATUS_RELEASED"
    assert (
        api.ok("GetPhoneNumber", {"id": "PN_custom"})["phone_number"]["status"]
        == "PHONE_NUMBER_STATUS_OFFLINE"
    )
    assert offer[1] in api.available(50, country="CA") and offer[0] not in api.available(
        50, country="CA"
    )


@pytest.mark.parametrize(
    "state",
    [
        [],
        {"numbers": {}},
        {"numbers": [{"e164_format": "555"}]},
        {"numbers": [{"e164_format": "+15005550006"}, {"e164_format": "+15005550006"}]},
        {"numbers": [{"e164_format": "+15005550006", "created_at": "yesterday"}]},
        {"config": {"colour": "red"}},
    ],
)
def test_a_bad_state_is_refused_and_changes_nothing(api, emulator, state):
    api.buy(1)
    with pytest.raises(AdminError) as caught:
        emulator.admin.load(state=state)
    assert caught.value.status == 400
    assert api.list_all()["total_count"] == 1
    with pytest.raises(AdminError):
        emulator.admin.load(path="/nonexistent/state.json")


def test_state_given_at_start_up(api, emulator, emulator_factory, tmp_path):
    records = api.buy(2, rule="SDR_1")
    path = tmp_path / "state.json"
    path.write_text(json.dumps(emulator.admin.dump()))
    other = emulator_factory(state_file=str(path))
    listed = Api(other).list_all()
    assert [item["id"] for item in listed["items"]] == [record["id"] for record in records]


def test_counters(api, emulator):
    records = api.buy(2, rule="SDR_1")
    api.ok("UpdatePhoneNumber", {"id": records[0]["id"], "sip_dispatch_rule_id": "SDR_2"})
    api.ok("UpdatePhoneNumber", {"id": records[0]["id"], "sip_dispatch_rule_id": "SDR_2"})
    api.ok("ReleasePhoneNumbers", {"ids": [records[1]["id"]]})
    api.ok("ReleasePhoneNumbers", {"ids": [records[1]["id"]]})
    api.fails("GetPhoneNumber", {"id": "PN_x"}, "not_found")
    api.fails("GetPhoneNumber", {}, "invalid_argument")
    counters = emulator.admin.counters()
    assert counters["calls"] == {
        "SearchPhoneNumbers": 1,
        "PurchasePhoneNumber": 1,
        "ListPhoneNumbers": 0,
        "GetPhoneNumber": 2,
        "UpdatePhoneNumber": 2,
        "ReleasePhoneNumbers": 2,
        "CreateSIPDispatchRule": 0,
        "UpdateSIPDispatchRule": 0,
        "ListSIPDispatchRule": 0,
        "DeleteSIPDispatchRule": 0,
    }
    assert counters["errors"] == {"not_found": 1, "invalid_argument": 1}
    assert counters["writes"] == {"purchased": 2, "routed": 1, "released": 1}
    assert counters["purchases_by_number"] == {record["e164_format"]: 1 for record in records}
    assert counters["replays"] == 0 and set(counters["faults"]) == {
        "unavailable",
        "rate_limited",
        "drop",
        "lost_response",
    }
    emulator.admin.reset_counters()
    assert emulator.admin.counters()["writes"] == {"purchased": 0, "routed": 0, "released": 0}
    assert api.list_all()["total_count"] == 2


def test_reads_leave_the_write_counters_alone(api, emulator):
    record = api.buy(1)[0]
    emulator.admin.reset_counters()
    api.list_all()
    api.get(record["e164_format"])
    api.available(3)
    api.ok("UpdatePhoneNumber", {"id": record["id"]})
    assert emulator.admin.counters()["writes"] == {"purchased": 0, "routed": 0, "released": 0}


def test_runtime_configuration(api, emulator):
    config = emulator.admin.configure(quota=1, json_names="camel", max_page_size=2)
    assert config["quota"] == 1 and config["json_names"] == "camel" and "faults" in config
    record = api.buy(1)[0]
    assert "e164Format" in record
    assert len(api.ok("ListPhoneNumbers", {"limit": 10})["items"]) == 1
    api.fails("PurchasePhoneNumber", {"phone_numbers": api.available(1)}, "resource_exhausted")
    for bad in ({"inventory_size": 10}, {"seed": 2}, {"quota": "many"}):
        with pytest.raises(AdminError):
            emulator.admin.configure(**bad)
    assert emulator.admin.config()["quota"] == 1


def test_unknown_routes_and_verbs(emulator):
    with pytest.raises(AdminError) as caught:
        emulator.admin._call("GET", "nothing")  # pylint: disable=protected-access
    assert caught.value.status == 404
    with pytest.raises(AdminError) as caught:
        emulator.admin._call("GET", "reset")  # pylint: disable=protected-access
    assert caught.value.status == 405
    with pytest.raises(AdminError) as caught:
        emulator.admin._call("POST", "reset", [1, 2])  # pylint: disable=protected-access
    assert caught.value.status == 400
