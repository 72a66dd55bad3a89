"""phone_number_info against the emulator over HTTP."""

from __future__ import annotations

from tests.integration.helpers import available, calls, run, warning_texts, writes

pytest_plugins = ["livekit_sip_emulator.fixtures"]


def state(numbers):
    return {"numbers": numbers}


def held(e164, status="PHONE_NUMBER_STATUS_ACTIVE", rules=("SDR_1",)):
    entry = {"e164_format": e164, "status": status, "sip_dispatch_rule_ids": list(rules)}
    return entry


def load_mixed(emulator, active=7, offline=4, released=2):
    numbers = available(emulator, count=active + offline + released)
    entries = [held(n) for n in numbers[:active]]
    entries += [
        held(n, "PHONE_NUMBER_STATUS_OFFLINE", ()) for n in numbers[active : active + offline]
    ]
    entries += [held(n, "PHONE_NUMBER_STATUS_RELEASED") for n in numbers[active + offline :]]
    emulator.admin.load(state(entries))
    return numbers


def test_listing_follows_every_page(emulator):
    emulator.admin.reset(max_page_size=5)
    numbers = load_mixed(emulator)
    result = run(emulator, "phone_number_info")
    assert result["changed"] is False
    assert [n["e164_format"] for n in result["phone_numbers"]] == numbers
    assert result["total_count"] == 13
    assert result["offline_count"] == 4
    counters = emulator.admin.counters()
    assert calls(counters, "ListPhoneNumbers") == 3
    assert writes(counters) == 0


def test_page_size_is_what_is_asked(emulator):
    load_mixed(emulator)
    result = run(emulator, "phone_number_info", page_size=4)
    assert len(result["phone_numbers"]) == 13
    assert calls(emulator.admin.counters(), "ListPhoneNumbers") == 4


def test_status_filters_use_short_names(emulator):
    numbers = load_mixed(emulator)
    offline = run(emulator, "phone_number_info", statuses=["offline"])
    assert [n["e164_format"] for n in offline["phone_numbers"]] == numbers[7:11]
    assert all(
        n["status"] == "offline" and n["sip_dispatch_rule_ids"] == []
        for n in offline["phone_numbers"]
    )
    assert offline["total_count"] == 4 and offline["offline_count"] == 4
    released = run(emulator, "phone_number_info", statuses=["released"])
    assert [n["status"] for n in released["phone_numbers"]] == ["released", "released"]
    assert all(n["released_at"].endswith("Z") for n in released["phone_numbers"])
    held_now = run(emulator, "phone_number_info", statuses=["active", "pending", "offline"])
    assert held_now["total_count"] == 11


def test_rule_filter_and_limit(emulator):
    numbers = load_mixed(emulator)
    routed = run(emulator, "phone_number_info", sip_dispatch_rule_id="SDR_1", limit=3)
    assert [n["e164_format"] for n in routed["phone_numbers"]] == numbers[:3]
    assert all(n["sip_dispatch_rule_ids"] == ["SDR_1"] for n in routed["phone_numbers"])


def test_pending_numbers_while_provisioning(emulator):
    emulator.admin.reset(provisioning_delay=30)
    number = available(emulator, count=1)[0]
    assert run(emulator, "phone_number", phone_numbers=[number], sip_dispatch_rule_id="SDR_1")[
        "changed"
    ]
    pending = run(emulator, "phone_number_info", statuses=["pending"])
    assert [n["e164_format"] for n in pending["phone_numbers"]] == [number]
    assert pending["phone_numbers"][0]["status"] == "pending"


def test_lookup_by_formatted_number_and_by_id(emulator):
    numbers = load_mixed(emulator)
    e164 = numbers[0]
    formatted = f"{e164[:2]} ({e164[2:5]}) {e164[5:8]}-{e164[8:]}"
    one = run(emulator, "phone_number_info", phone_number=formatted)
    assert len(one["phone_numbers"]) == 1
    record = one["phone_numbers"][0]
    assert record["e164_format"] == e164
    assert one["total_count"] == 1 and one["offline_count"] == 0
    by_id = run(emulator, "phone_number_info", id=record["id"])
    assert by_id["phone_numbers"] == [record]
    assert calls(emulator.admin.counters(), "GetPhoneNumber") == 2


def test_unknown_number_or_id_is_an_empty_list(emulator):
    number = available(emulator, count=1)[0]
    for args in ({"phone_number": number}, {"id": "PN_doesnotexist"}):
        result = run(emulator, "phone_number_info", **args)
        assert "failed" not in result
        assert result["phone_numbers"] == []
        assert result["total_count"] == 0


def test_invalid_number_fails_before_any_call(emulator):
    result = run(emulator, "phone_number_info", phone_number="415-555-0100")
    assert result["failed"] is True
    assert "'415-555-0100'" in result["msg"]
    assert result["error"]["code"] == "invalid_phone_number"
    assert sum(emulator.admin.counters()["calls"].values()) == 0


def test_lookup_and_listing_options_are_exclusive(emulator):
    result = run(emulator, "phone_number_info", id="PN_1", statuses=["active"])
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"]


def test_page_size_bounds(emulator):
    result = run(emulator, "phone_number_info", page_size=1001)
    assert result["failed"] is True and "page_size" in result["msg"]
    assert sum(emulator.admin.counters()["calls"].values()) == 0


def test_both_json_variants_give_the_same_output(emulator):
    outputs = []
    for variant in (
        {"json_names": "proto", "skip_defaults": False},
        {"json_names": "camel", "skip_defaults": True},
    ):
        emulator.admin.reset(**variant)
        load_mixed(emulator)
        result = run(emulator, "phone_number_info")
        for record in result["phone_numbers"]:
            # Ids and timestamps come from the load; compare everything else.
            for key in ("id", "created_at", "updated_at", "assigned_at", "released_at"):
                record.pop(key)
        outputs.append((result["phone_numbers"], result["total_count"], result["offline_count"]))
    assert outputs[0] == outputs[1]
    assert outputs[0][2] == 4


def test_skip_defaults_record_has_every_key(emulator):
    emulator.admin.reset(json_names="camel", skip_defaults=True)
    load_mixed(emulator, active=0, offline=1, released=0)
    record = run(emulator, "phone_number_info")["phone_numbers"][0]
    assert record["sip_dispatch_rule_ids"] == [] and record["sip_dispatch_rule_id"] == ""
    assert record["released_at"] is None
    assert record["status"] == "offline"
    assert len(record) == 19
    assert (record["name"], record["inbound_status"], record["outbound_status"]) == (
        "",
        "detached",
        "unavailable",
    )


def test_a_listing_whose_pages_shift_is_reported_as_possibly_incomplete(emulator):
    load_mixed(emulator)
    quiet = run(emulator, "phone_number_info", page_size=4)
    assert not warning_texts(quiet)
    # Each page starts one record later than the token says: one record per page is skipped.
    emulator.admin.configure(shift_pages=1)
    shifted = run(emulator, "phone_number_info", page_size=4)
    assert "failed" not in shifted
    texts = warning_texts(shifted)
    assert len(texts) == 1 and "could not be shown complete" in texts[0], texts
    assert "the server counts 13 numbers (total_count)" in texts[0]
    # A listing cut at limit is short on purpose: no warning.
    assert not warning_texts(run(emulator, "phone_number_info", page_size=4, limit=5))
    # With a filter of the module's own, the whole listing is read, and the warning stands.
    filtered = run(emulator, "phone_number_info", page_size=4, limit=5, area_code="415")
    assert any("could not be shown complete" in t for t in warning_texts(filtered))
