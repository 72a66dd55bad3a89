"""The modules' listings over HTTP, with pages asked for in parallel or one by one.

The emulator writes page tokens either as the protocol library does (base64url JSON of an offset,
which the modules predict and fan out) or as opaque cursors (which they can only follow). Either
way a listing must hold every number exactly once: a number missed would be bought again or not
released, one counted twice would skew a pool.
"""

from __future__ import annotations

import pytest

from tests.integration.helpers import available, run

pytest_plugins = ["livekit_sip_emulator.fixtures"]

HELD = 95
CAP = 10


def hold(emulator, numbers):
    emulator.admin.load(
        {
            "numbers": [
                {
                    "e164_format": n,
                    "status": "PHONE_NUMBER_STATUS_ACTIVE",
                    "sip_dispatch_rule_ids": ["SDR_%d" % (i % 3)],
                }
                for i, n in enumerate(numbers)
            ]
        }
    )
    emulator.admin.reset_counters()


@pytest.fixture(params=["offset", "cursor"])
def paged(request, emulator_factory):
    emulator = emulator_factory(max_page_size=CAP, page_tokens=request.param, inventory_size=3000)
    numbers = available(emulator, "US", None, HELD)
    assert len(numbers) == HELD
    hold(emulator, numbers)
    return emulator, numbers


def lists(emulator):
    return emulator.admin.counters()["calls"]["ListPhoneNumbers"]


def test_a_no_op_run_reads_every_page_once_and_finds_every_number(paged):
    emulator, numbers = paged
    entries = [
        {"phone_number": n, "sip_dispatch_rule_id": "SDR_%d" % (i % 3)}
        for i, n in enumerate(numbers)
    ]
    result = run(emulator, "phone_number_fleet", entries=entries, page_size=1000)
    assert result["changed"] is False, result
    assert result["unlisted"] == [] and result["purchased"] == []
    assert result["counts"]["held"] == HELD == result["counts"]["unchanged"]
    # One listing: ten pages of at most ten, whatever form the tokens take; none asked twice.
    assert lists(emulator) == 10


def test_releasing_the_unlisted_releases_exactly_the_numbers_no_entry_names(paged):
    emulator, numbers = paged
    keep = numbers[::2]
    result = run(
        emulator,
        "phone_number_fleet",
        entries=[{"phone_number": n} for n in keep],
        release_unlisted=True,
        page_size=1000,
    )
    assert sorted(result["released"]) == sorted(set(numbers) - set(keep))
    assert emulator.admin.counters()["writes"]["released"] == HELD - len(keep)
    assert result["counts"]["held"] == len(keep)


def test_the_info_module_lists_every_number_once(paged):
    emulator, numbers = paged
    result = run(emulator, "phone_number_info")
    assert sorted(r["e164_format"] for r in result["phone_numbers"]) == sorted(numbers)
    assert lists(emulator) == 10


def test_long_option_lists_are_not_echoed_back_and_the_secret_never_is(emulator):
    numbers = ["+1415555%04d" % i for i in range(1001)]
    entries = [{"phone_number": n, "state": "absent"} for n in numbers]
    result = run(emulator, "phone_number_fleet", entries=entries)
    assert result["changed"] is False and result["counts"]["held"] == 0
    echoed = result["invocation"]["module_args"]
    assert echoed["entries"] == "(1001 items, not echoed)"
    assert echoed["api_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    short = run(emulator, "phone_number_fleet", entries=entries[:3])
    assert [e["phone_number"] for e in short["invocation"]["module_args"]["entries"]] == numbers[:3]
