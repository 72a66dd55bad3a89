"""The phone_numbers role with labels and pool filters, through ansible-playbook."""

from __future__ import annotations

import pytest

from tests.integration.helpers import available, calls
from tests.integration.test_role import Playbook

pytest_plugins = ["livekit_sip_emulator.fixtures"]


@pytest.fixture
def playbook(emulator, tmp_path):
    return Playbook(emulator, tmp_path)


def test_labels_and_a_filtered_pool_from_the_inventory(emulator, playbook):
    number = available(emulator, "US", "415", 1)[0]
    wanted = [
        {"phone_number": number, "sip_dispatch_rule_id": "SDR_main", "name": "Front desk"},
        {
            "country_code": "US",
            "area_code": "800",
            "number_type": "toll_free",
            "capabilities": ["sms"],
            "count": 2,
        },
    ]
    checked = playbook.run(check=True, livekit_phone_numbers=wanted)
    assert checked.returncode == 0, checked.output
    assert checked.summary["labelled"] == [number]
    assert f"Would label (1): {number}" in checked.output
    assert "Pool US 800 (number_type=toll_free, capabilities=sms) -> routing left alone" in (
        checked.output
    )
    assert checked.summary["pools"][0]["filters"] == {
        "number_type": "toll_free",
        "capabilities": ["sms"],
    }

    applied = playbook.run(livekit_phone_numbers=wanted)
    assert applied.returncode == 0, applied.output
    assert applied.summary["labelled"] == [number] and len(applied.summary["purchased"]) == 3
    records = {r["e164_format"]: r for r in applied.summary["phone_numbers"]}
    assert records[number]["name"] == "Front desk"
    pool = [r for n, r in records.items() if n != number]
    assert all(r["number_type"] == "toll_free" and "sms" in r["capabilities"] for r in pool)

    emulator.admin.reset_counters()
    again = playbook.run(livekit_phone_numbers=wanted)
    assert again.returncode == 0, again.output
    assert again.summary["changed"] is False and again.summary["labelled"] == []
    assert calls(emulator.admin.counters(), "UpdatePhoneNumber") == 0


def test_the_role_refuses_a_name_on_a_pool_before_any_call(emulator, playbook):
    wanted = [{"country_code": "US", "count": 1, "name": "Pool"}]
    failed = playbook.run(livekit_phone_numbers=wanted)
    assert failed.returncode != 0
    assert "name" in failed.output
    assert sum(emulator.admin.counters()["calls"].values()) == 0
