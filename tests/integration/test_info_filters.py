"""phone_number_info's listing filters (country, area code, label) against the emulator."""

from __future__ import annotations

from tests.integration.helpers import available, calls, run

pytest_plugins = ["livekit_sip_emulator.fixtures"]


def entry(e164, status="PHONE_NUMBER_STATUS_ACTIVE", **extra):
    rules = [] if status == "PHONE_NUMBER_STATUS_OFFLINE" else ["SDR_1"]
    data = {"e164_format": e164, "status": status, "sip_dispatch_rule_ids": rules}
    data.update(extra)
    return data


def load(emulator):
    sf = available(emulator, "US", "415", 4)
    ny = available(emulator, "US", "212", 3)
    london = available(emulator, "GB", "20", 2)
    entries = [entry(n) for n in sf[:3]] + [entry(sf[3], "PHONE_NUMBER_STATUS_OFFLINE")]
    entries += [entry(n) for n in ny] + [entry(n) for n in london]
    emulator.admin.load({"numbers": entries})
    return sf, ny, london


def numbers(result):
    return [n["e164_format"] for n in result["phone_numbers"]]


def test_country_and_area_code_filter_the_whole_listing(emulator):
    emulator.admin.reset(max_page_size=2)
    sf, ny, london = load(emulator)
    result = run(emulator, "phone_number_info", country_code="us", area_code="415")
    assert numbers(result) == sf
    assert result["total_count"] == 4 and result["offline_count"] == 1
    # Every page is read: the filter is the module's, not the server's.
    assert calls(emulator.admin.counters(), "ListPhoneNumbers") == 5
    assert numbers(run(emulator, "phone_number_info", country_code="GB")) == london


def test_limit_applies_after_the_filters(emulator):
    sf, ny, london = load(emulator)
    result = run(emulator, "phone_number_info", area_code="212", limit=2)
    assert numbers(result) == ny[:2]
    assert result["total_count"] == 3


def test_filters_combine_with_the_server_filters(emulator):
    sf, ny, london = load(emulator)
    result = run(emulator, "phone_number_info", area_code="415", statuses=["offline"])
    assert numbers(result) == [sf[3]]
    assert result["offline_count"] == 1


def test_an_empty_name_selects_the_unlabelled_numbers(emulator):
    sf, ny, london = load(emulator)
    result = run(emulator, "phone_number_info", name="")
    assert numbers(result) == sf + ny + london
    assert numbers(run(emulator, "phone_number_info", name="Support line")) == []


def test_the_name_filter_selects_by_label(emulator):
    sf = available(emulator, "US", "415", 3)
    emulator.admin.load(
        {
            "numbers": [
                entry(sf[0], name="Support line"),
                entry(sf[1], name="support line"),
                entry(sf[2], "PHONE_NUMBER_STATUS_OFFLINE", name="Support line"),
            ]
        }
    )
    result = run(emulator, "phone_number_info", name="Support line")
    assert numbers(result) == [sf[0], sf[2]]
    assert [n["name"] for n in result["phone_numbers"]] == ["Support line", "Support line"]
    assert result["total_count"] == 2 and result["offline_count"] == 1
    assert numbers(run(emulator, "phone_number_info", name="")) == []


def test_new_fields_are_the_same_in_every_json_variant(emulator):
    sf = available(emulator, "US", "415", 2)
    state = {
        "numbers": [
            entry(sf[0], name="Support line"),
            entry(sf[1], "PHONE_NUMBER_STATUS_OFFLINE"),
        ]
    }
    seen = []
    for json_names, skip_defaults in (("proto", False), ("camel", False), ("camel", True)):
        emulator.admin.reset(json_names=json_names, skip_defaults=skip_defaults)
        emulator.admin.load(state)
        records = run(emulator, "phone_number_info")["phone_numbers"]
        seen.append([(r["name"], r["inbound_status"], r["outbound_status"]) for r in records])
    assert seen[0] == [
        ("Support line", "active", "unavailable"),
        ("", "detached", "unavailable"),
    ]
    assert seen[1] == seen[0] and seen[2] == seen[0]


def test_a_server_before_labels_gives_zero_values(emulator):
    sf = available(emulator, "US", "415", 1)
    emulator.admin.reset(schema="pre-1.52")
    emulator.admin.load({"numbers": [entry(sf[0], name="Support line")]})
    record = run(emulator, "phone_number_info")["phone_numbers"][0]
    assert (record["name"], record["inbound_status"], record["outbound_status"]) == (
        "",
        "unspecified",
        "unspecified",
    )
    assert record["status"] == "active" and record["sip_dispatch_rule_ids"] == ["SDR_1"]
    # Every number is unlabelled there.
    assert numbers(run(emulator, "phone_number_info", name="")) == sf


def test_bad_filters_fail_before_any_call(emulator):
    for args in ({"country_code": "USA"}, {"area_code": "4l5"}):
        result = run(emulator, "phone_number_info", **args)
        assert result["failed"] is True and result["error"]["code"] == "invalid_parameter"
    result = run(emulator, "phone_number_info", id="PN_1", area_code="415")
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
    assert sum(emulator.admin.counters()["calls"].values()) == 0
