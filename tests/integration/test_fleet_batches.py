"""phone_number_fleet's batch_size: purchases and releases split into calls of bounded size."""

from __future__ import annotations

from tests.integration.helpers import available, calls, run

pytest_plugins = ["livekit_sip_emulator.fixtures"]


def held(emulator):
    return {
        n["e164_format"]: n["sip_dispatch_rule_ids"]
        for n in emulator.admin.dump()["numbers"]
        if not n.get("released_at")
    }


def test_purchases_and_releases_are_split_by_batch_size(emulator):
    numbers = available(emulator, "US", "415", 7)
    entries = [{"phone_number": n, "sip_dispatch_rule_id": "SDR_a"} for n in numbers]
    bought = run(emulator, "phone_number_fleet", entries=entries, batch_size=3, max_purchase=7)
    assert bought["purchased"] == numbers
    assert held(emulator) == dict.fromkeys(numbers, ["SDR_a"])
    # 7 numbers for one rule in batches of 3: 3 + 3 + 1.
    assert calls(emulator.admin.counters(), "PurchasePhoneNumber") == 3

    emulator.admin.reset_counters()
    gone = run(
        emulator,
        "phone_number_fleet",
        batch_size=3,
        entries=[{"phone_number": n, "state": "absent"} for n in numbers[:5]] + entries[5:],
    )
    assert gone["released"] == numbers[:5]
    assert sorted(held(emulator)) == sorted(numbers[5:])
    assert calls(emulator.admin.counters(), "ReleasePhoneNumbers") == 2


def test_the_default_batch_buys_one_rule_in_one_call(emulator):
    numbers = available(emulator, "US", "650", 12)
    run(
        emulator,
        "phone_number_fleet",
        entries=[{"phone_number": n} for n in numbers],
        max_purchase=12,
    )
    assert calls(emulator.admin.counters(), "PurchasePhoneNumber") == 1


def test_batch_size_out_of_range_is_refused_before_any_call(emulator):
    for size in (0, 1001):
        result = run(
            emulator,
            "phone_number_fleet",
            entries=[{"phone_number": "+14155550100"}],
            batch_size=size,
        )
        assert result["failed"] is True
        assert "batch_size must be between 1 and 1000, not %d" % size in result["msg"]
    assert sum(emulator.admin.counters()["calls"].values()) == 0
