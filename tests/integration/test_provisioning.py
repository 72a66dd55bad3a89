"""Provisioning delay through the role: numbers stay PENDING for seconds after a purchase.

`wait` must return only once every number the entries account for is held and no longer
pending, including numbers an earlier run bought (a run repeated after a wait_timeout), and
`wait_timeout` must fail naming the numbers still pending.
"""

from __future__ import annotations

import time

from tests.integration.helpers import available, calls, run
from tests.integration.playbooks import RolePlay

pytest_plugins = ["livekit_sip_emulator.fixtures"]

# Long enough that the role run below starts while the numbers are still PENDING, even on a
# loaded machine where ansible-playbook takes seconds to start.
DELAY = 10.0  # seconds a bought number stays PENDING


def play(emulator, tmp_path):
    return RolePlay(tmp_path, emulator.url, emulator.api_key, emulator.api_secret)


def test_wait_timeout_fails_naming_the_numbers_still_pending(emulator, tmp_path):
    emulator.admin.reset(provisioning_delay=60)
    numbers = available(emulator, "US", "206", 2)
    done = play(emulator, tmp_path).run(
        livekit_phone_numbers=[{"phone_number": n} for n in numbers],
        livekit_phone_numbers_wait=True,
        livekit_phone_numbers_wait_timeout=1,
    )
    assert done.returncode == 2 and "Traceback" not in done.output
    (message,) = done.failure_messages()
    assert message == "{} still pending after 1 seconds (wait_timeout)".format(", ".join(numbers))
    # The purchase itself went through; the failure is only about the wait.
    assert emulator.admin.counters()["purchases_by_number"] == dict.fromkeys(numbers, 1)


def test_a_repeated_run_waits_for_the_numbers_an_earlier_run_bought(emulator, tmp_path):
    emulator.admin.reset(provisioning_delay=DELAY)
    earlier = available(emulator, "US", "206", 2)
    # An earlier run bought two numbers without waiting (or timed out waiting): still PENDING.
    first = run(emulator, "phone_number_fleet", entries=[{"phone_number": n} for n in earlier])
    ready_at = time.monotonic() + DELAY
    assert [r["status"] for r in first["phone_numbers"]] == ["pending", "pending"]
    emulator.admin.reset_counters()

    # Nothing left to buy: the run used to return at once, with the numbers still PENDING.
    done = play(emulator, tmp_path).run(
        livekit_phone_numbers=[{"phone_number": n} for n in earlier],
        livekit_phone_numbers_wait=True,
        livekit_phone_numbers_wait_timeout=30,
        # The run changes nothing: the records it waited for come back with all.
        livekit_phone_numbers_return_records="all",
    )
    assert done.returncode == 0, done.failure_messages() or done.output[-3000:]
    assert time.monotonic() >= ready_at
    records = done.summary["phone_numbers"]
    assert [r["e164_format"] for r in records] == earlier
    assert [r["status"] for r in records] == [
        "offline",
        "offline",
    ]  # held (with no rule), not pending
    counters = emulator.admin.counters()
    # It polled: one listing to plan, then at least two while the numbers were provisioned.
    assert calls(counters, "ListPhoneNumbers") >= 3 and counters["writes"]["purchased"] == 0
