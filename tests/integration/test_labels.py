"""Labels as code against the emulator over HTTP: one update per number, idempotent runs, and a
server that predates labels."""

from __future__ import annotations

from tests.integration.helpers import available, calls, run, writes

pytest_plugins = ["livekit_sip_emulator.fixtures"]


def held(emulator, numbers, rule="SDR_1", name=""):
    entries = [
        {"e164_format": n, "sip_dispatch_rule_ids": [rule] if rule else [], "name": name}
        for n in numbers
    ]
    emulator.admin.load({"numbers": entries})


def by_number(result):
    return {r["e164_format"]: r for r in result["phone_numbers"]}


def test_a_label_and_a_route_changed_in_one_run_make_one_update(emulator):
    number = available(emulator, count=1)[0]
    held(emulator, [number], rule="SDR_1", name="Old")
    result = run(
        emulator,
        "phone_number",
        phone_numbers=[number],
        sip_dispatch_rule_id="SDR_2",
        name="Support line",
    )
    assert result["changed"] is True
    assert result["routed"] == [number] and result["labelled"] == [number]
    record = by_number(result)[number]
    assert record["name"] == "Support line" and record["sip_dispatch_rule_ids"] == ["SDR_2"]
    counters = emulator.admin.counters()
    assert calls(counters, "UpdatePhoneNumber") == 1
    assert counters["labelled"] == 1 and counters["writes"]["routed"] == 1
    again = run(
        emulator,
        "phone_number",
        phone_numbers=[number],
        sip_dispatch_rule_id="SDR_2",
        name="Support line",
    )
    assert again["changed"] is False and again["labelled"] == [] and again["routed"] == []
    assert calls(emulator.admin.counters(), "UpdatePhoneNumber") == 1


def test_check_mode_and_diff_show_the_label_and_write_nothing(emulator):
    number = available(emulator, count=1)[0]
    held(emulator, [number], name="Old")
    result = run(
        emulator, "phone_number", check_mode=True, diff=True, phone_numbers=[number], name="New"
    )
    assert result["changed"] is True and result["labelled"] == [number]
    assert result["routed"] == []
    assert by_number(result)[number]["name"] == "New"
    assert result["diff"]["before"][number]["name"] == "Old"
    assert result["diff"]["after"][number]["name"] == "New"
    assert writes(emulator.admin.counters()) == 0
    assert emulator.admin.counters()["labelled"] == 0
    applied = run(emulator, "phone_number", diff=True, phone_numbers=[number], name="New")
    assert applied["diff"] == result["diff"]


def test_a_label_alone_leaves_routing_alone_and_no_name_leaves_labels_alone(emulator):
    number = available(emulator, count=1)[0]
    held(emulator, [number], rule="SDR_1", name="Keep")
    untouched = run(emulator, "phone_number", phone_numbers=[number], sip_dispatch_rule_id="SDR_1")
    assert untouched["changed"] is False
    cleared = run(emulator, "phone_number", phone_numbers=[number], name="")
    assert cleared["labelled"] == [number] and cleared["routed"] == []
    assert by_number(cleared)[number]["name"] == ""
    assert by_number(cleared)[number]["sip_dispatch_rule_ids"] == ["SDR_1"]


def test_fleet_labels_explicit_entries_and_bought_numbers(emulator):
    kept, bought = available(emulator, count=2)
    held(emulator, [kept], rule="SDR_1")
    entries = [
        {"phone_number": kept, "name": "Reception"},
        {"phone_number": bought, "sip_dispatch_rule_id": "SDR_2", "name": "Sales"},
    ]
    result = run(emulator, "phone_number_fleet", entries=entries)
    assert result["purchased"] == [bought]
    assert sorted(result["labelled"]) == sorted([kept, bought])
    records = by_number(result)
    assert records[kept]["name"] == "Reception" and records[bought]["name"] == "Sales"
    assert records[bought]["sip_dispatch_rule_ids"] == ["SDR_2"]
    counters = emulator.admin.counters()
    assert calls(counters, "UpdatePhoneNumber") == 2 and counters["writes"]["routed"] == 0
    again = run(emulator, "phone_number_fleet", entries=entries)
    assert again["changed"] is False
    assert writes(emulator.admin.counters()) == 3, "the second run writes nothing"


def test_a_server_before_labels_fails_clearly_and_every_run_says_so(emulator):
    number = available(emulator, count=1)[0]
    emulator.admin.reset(schema="pre-1.52")
    held(emulator, [number], rule="SDR_1")
    args = {"phone_numbers": [number], "sip_dispatch_rule_id": "SDR_2", "name": "Support line"}
    first = run(emulator, "phone_number", **args)
    assert first["failed"] is True
    assert first["error"]["code"] == "label_ignored"
    assert "ignores labels" in first["msg"] and "1.52" in first["msg"]
    # The route in the same call was set and is reported; the label was not.
    assert first["routed"] == [number] and first["labelled"] == []
    counters = emulator.admin.counters()
    assert calls(counters, "UpdatePhoneNumber") == 1 and counters["writes"]["routed"] == 1
    second = run(emulator, "phone_number", **args)
    assert second["failed"] is True and second["error"]["code"] == "label_ignored"
    assert second["routed"] == []
    assert emulator.admin.counters()["writes"]["routed"] == 1
    without = run(emulator, "phone_number", phone_numbers=[number], sip_dispatch_rule_id="SDR_2")
    assert without["changed"] is False and "failed" not in without
