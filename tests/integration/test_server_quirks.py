"""Servers that misbehave as real ones plausibly will: nothing bought or released on a guess.

Each test switches on an emulator quirk (see the emulator's quirks module) and runs the
modules over real HTTP. docs/reliability.md gives the figures before and after the fixes.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._api import PhoneNumberApi
from ansible_collections.livekit.sip.plugins.module_utils._auth import TokenSource
from ansible_collections.livekit.sip.plugins.module_utils._errors import ResponseError
from ansible_collections.livekit.sip.plugins.module_utils._twirp import TwirpClient
from tests.integration.helpers import available, calls, run
from tests.integration.playbooks import RolePlay

pytest_plugins = ["livekit_sip_emulator.fixtures"]

SUSPENDED = "PHONE_NUMBER_STATUS_SUSPENDED"
POOL = {"country_code": "US", "area_code": "415", "count": 3, "sip_dispatch_rule_id": "SDR_p"}


def held(emulator):
    return {
        n["e164_format"]: n["sip_dispatch_rule_ids"]
        for n in emulator.admin.dump()["numbers"]
        if not n.get("released_at")
    }


def hold(emulator, numbers, rules=(), assigned=None):
    """Make the project hold ``numbers`` without counting API calls."""
    state = emulator.admin.dump()
    state["numbers"] += [
        {
            "e164_format": n,
            "status": "PHONE_NUMBER_STATUS_ACTIVE" if rules else "PHONE_NUMBER_STATUS_OFFLINE",
            "sip_dispatch_rule_ids": list(rules),
            **({"assigned_at": assigned[i]} if assigned else {}),
        }
        for i, n in enumerate(numbers)
    ]
    emulator.admin.load(state)
    emulator.admin.reset_counters()


def fleet(emulator, entries, **options):
    return run(emulator, "phone_number_fleet", entries=entries, **options)


def warnings(result):
    return " ".join(str(w.get("msg", w)) if isinstance(w, dict) else w for w in result["warnings"])


# ------------------------------------------------------------------ 1. unknown statuses


def test_numbers_of_an_unknown_status_count_as_held_and_are_not_released(emulator):
    pool = available(emulator, "US", "415", 3)
    stray = available(emulator, "US", "212", 1)
    hold(emulator, pool, ["SDR_p"])
    hold(emulator, stray)
    emulator.admin.configure(status_override=SUSPENDED)
    result = fleet(emulator, [POOL], release_unlisted=True)
    assert "failed" not in result, result.get("msg")
    assert result["purchased"] == [] and result["released"] == []
    assert result["unlisted"] == stray
    said = warnings(result)
    assert "4 numbers with a status this collection does not know" in said
    assert "release_unlisted left 1 unlisted numbers held" in said
    assert emulator.admin.counters()["writes"] == {"purchased": 0, "routed": 0, "released": 0}
    # An explicit entry names it: that release was asked for.
    gone = run(emulator, "phone_number", phone_numbers=stray, state="absent")
    assert gone["released"] == stray and stray[0] not in held(emulator)


def test_an_explicit_number_of_an_unknown_status_is_not_bought_again(emulator):
    number = available(emulator, "US", "415", 1)
    hold(emulator, number)
    emulator.admin.configure(status_override=7)
    result = run(emulator, "phone_number", phone_numbers=number)
    assert "failed" not in result, result.get("msg")
    assert result["changed"] is False and result["phone_numbers"][0]["status"] == "unknown_7"
    assert calls(emulator.admin.counters(), "PurchasePhoneNumber") == 0


# ------------------------------------------------------------------ 2. and 3. pages that shift


@pytest.mark.parametrize("shift", [-1, 1])
def test_a_listing_that_shifts_is_listed_again_and_counts_each_number_once(emulator, shift):
    pool = available(emulator, "US", "415", 3)
    stray = available(emulator, "US", "212", 4)
    hold(emulator, pool, ["SDR_p"])
    hold(emulator, stray)
    emulator.admin.configure(shift_pages=shift)
    entries = [dict(POOL, count=5)] + [{"phone_number": n} for n in stray[1:]]
    result = fleet(emulator, entries, release_unlisted=True, page_size=2)
    assert "failed" not in result, result.get("msg")
    # 3 held + 2 bought; the one number no entry names released, nothing else.
    assert len(result["purchased"]) == 2 and result["released"] == stray[:1]
    assert len(held(emulator)) == 5 + 3
    counters = emulator.admin.counters()
    assert set(counters["purchases_by_number"].values()) == {1}
    # The first listing (pages of 2) could not be shown complete; it was listed again.
    assert calls(counters, "ListPhoneNumbers") > 4


@pytest.mark.parametrize(
    "quirks, reason",
    [
        ({"shift_pages": -1}, "records were read twice"),
        ({"shift_pages": 1}, "the server counts 7 numbers (total_count) but"),
        ({"shift_pages": 1, "omit_fields": ["total_count"]}, "the server sent no total_count"),
    ],
)
def test_a_listing_that_cannot_be_shown_complete_buys_and_releases_nothing(
    emulator, quirks, reason
):
    pool = available(emulator, "US", "415", 3)
    stray = available(emulator, "US", "212", 4)
    hold(emulator, pool, ["SDR_p"])
    hold(emulator, stray)
    # The server caps its pages: every listing takes several, and every one shifts.
    emulator.admin.configure(max_page_size=2, **quirks)
    result = fleet(emulator, [dict(POOL, count=5)], release_unlisted=True)
    assert result["failed"] is True and result["error"]["code"] == "incomplete_listing"
    assert reason in result["msg"]
    assert "Nothing was searched, bought or released" in result["msg"]
    counters = emulator.admin.counters()
    assert calls(counters, "SearchPhoneNumbers") == 0
    assert counters["writes"] == {"purchased": 0, "routed": 0, "released": 0}
    # Explicit entries do not rest on the count: they go ahead.
    explicit = fleet(emulator, [{"phone_number": stray[0], "state": "absent"}])
    assert explicit["released"] == stray[:1]


# ------------------------------------------------------------------ 4. missing fields


def test_records_without_country_and_area_are_counted_and_not_released(emulator):
    pool = available(emulator, "US", "415", 3)
    stray = available(emulator, "US", "212", 1)
    hold(emulator, pool, ["SDR_p"])
    hold(emulator, stray)
    emulator.admin.configure(omit_fields=["area_code", "country_code"])
    result = fleet(emulator, [POOL], release_unlisted=True)
    assert "failed" not in result, result.get("msg")
    assert result["purchased"] == [] and result["released"] == []
    assert sorted(result["pools"][0]["held"]) == sorted(pool)
    assert "the server left fields out of 4 records" in warnings(result)
    assert emulator.admin.counters()["writes"] == {"purchased": 0, "routed": 0, "released": 0}


# ------------------------------------------------------------------ 6. the oldest stay


def test_trimming_an_overfilled_pool_releases_the_newest_numbers(emulator):
    old = available(emulator, "US", "415", 3)
    hold(emulator, old, ["SDR_p"], assigned=["2025-01-0%dT00:00:00Z" % (i + 1) for i in range(3)])
    # Two more, bought later for the same pool (by an overlapping run), listed first.
    state = emulator.admin.dump()
    newer = [n for n in available(emulator, "US", "415", 5) if n not in old][:2]
    state["numbers"] = [
        {"e164_format": n, "sip_dispatch_rule_ids": ["SDR_p"], "status": 1} for n in newer
    ] + state["numbers"]
    emulator.admin.load(state)
    result = fleet(emulator, [POOL], release_unlisted=True)
    assert "failed" not in result, result.get("msg")
    assert sorted(result["released"]) == sorted(newer)
    assert sorted(held(emulator)) == sorted(old)


# ------------------------------------------------------------------ 8. no answer in time


def test_a_purchase_committed_after_the_timeout_is_found_not_bought_again(emulator):
    emulator.admin.configure(write_delay=1.5)
    result = fleet(emulator, [POOL], timeout=1, retries=0)
    assert "failed" not in result, result.get("msg")
    assert len(result["purchased"]) == 3 and len(held(emulator)) == 3


def test_a_purchase_still_unseen_after_the_grace_is_outcome_unknown(emulator):
    emulator.admin.configure(write_delay=3)
    result = fleet(emulator, [POOL], timeout=1, retries=0)
    assert result["failed"] is True and result["error"]["code"] == "outcome_unknown"
    assert "the server may still carry out the rest" in result["msg"]
    assert "nothing was bought" not in result["msg"]
    deadline = time.monotonic() + 10
    while len(held(emulator)) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    emulator.admin.configure(write_delay=0)
    again = fleet(emulator, [POOL])
    assert again["purchased"] == [] and len(held(emulator)) == 3


def test_a_release_carried_out_after_the_timeout_is_found(emulator):
    numbers = available(emulator, "US", "415", 2)
    hold(emulator, numbers)
    emulator.admin.configure(write_delay=1.5)
    result = run(
        emulator, "phone_number", phone_numbers=numbers, state="absent", timeout=1, retries=0
    )
    assert "failed" not in result, result.get("msg")
    assert result["released"] == numbers and held(emulator) == {}


# ------------------------------------------------------------------ 9. writes checked


def test_a_short_purchase_answer_of_a_whole_purchase_reports_every_number(emulator):
    emulator.admin.configure(short_purchase_answers=1)
    result = fleet(emulator, [POOL])
    assert "failed" not in result, result.get("msg")
    assert len(result["purchased"]) == 3 and sorted(held(emulator)) == sorted(result["purchased"])


def test_a_purchase_that_bought_less_reports_the_truth(emulator):
    emulator.admin.configure(short_purchases=1)
    result = fleet(emulator, [POOL])
    assert result["failed"] is True and result["error"]["code"] == "write_mismatch"
    assert sorted(result["purchased"]) == sorted(held(emulator)) and len(result["purchased"]) == 2
    assert "1 of them are not held" in result["msg"]


def test_a_release_that_released_nothing_is_not_reported_as_released(emulator):
    numbers = available(emulator, "US", "415", 2)
    hold(emulator, numbers)
    emulator.admin.configure(noop_releases=True)
    result = run(emulator, "phone_number", phone_numbers=numbers, state="absent")
    assert result["failed"] is True and result["error"]["code"] == "write_mismatch"
    assert result["released"] == [] and "still lists 2 of them as held" in result["msg"]


# ------------------------------------------------------------------ 10. looked up


def test_a_number_to_release_is_looked_up_when_the_listing_shows_nothing(emulator):
    numbers = available(emulator, "US", "415", 2)
    hold(emulator, numbers)
    emulator.admin.configure(omit_fields=["items", "total_count"])
    result = run(emulator, "phone_number", phone_numbers=numbers, state="absent")
    assert "failed" not in result, result.get("msg")
    assert result["released"] == numbers and held(emulator) == {}
    assert calls(emulator.admin.counters(), "GetPhoneNumber") == 2


# ------------------------------------------------------------------ 11. endless tokens


def test_endless_page_tokens_stop_at_once_naming_the_bounds(emulator):
    hold(emulator, available(emulator, "US", "415", 5))
    emulator.admin.configure(endless_tokens=True)
    started = time.monotonic()
    result = fleet(emulator, [POOL], page_size=2)
    assert result["failed"] is True and result["error"]["code"] == "pagination"
    assert "total_count 5" in result["msg"] and "at most 600 s" in result["msg"]
    assert calls(emulator.admin.counters(), "ListPhoneNumbers") <= 6
    assert time.monotonic() - started < 5


# ------------------------------------------------------------------ 12. one search per pool


def test_explicit_entries_do_not_multiply_search_calls(emulator):
    explicit = [{"phone_number": "+1312555%04d" % n, "state": "absent"} for n in range(1000)]
    pools = (
        [
            {"country_code": "US", "area_code": area, "count": 2}
            for area in ("415", "650", "212", "512", "206")
        ]
        + [{"country_code": "CA", "area_code": area, "count": 2} for area in ("416", "604", "514")]
        + [
            {"country_code": "GB", "area_code": "20", "count": 2},
            {"country_code": "US", "count": 2},
        ]
    )
    result = fleet(emulator, explicit + pools, max_purchase=20)
    assert "failed" not in result, result.get("msg")
    assert len(result["purchased"]) == 20
    assert calls(emulator.admin.counters(), "SearchPhoneNumbers") == 10


# ------------------------------------------------------------------ 13. messages and limits


def test_a_clock_off_by_a_minute_is_named(emulator):
    emulator.admin.configure(clock_offset=-60)
    result = fleet(emulator, [POOL])
    assert result["failed"] is True and result["error"]["code"] == "unauthenticated"
    assert "this host's clock is 60 s ahead of the server's" in result["msg"]


def test_a_response_larger_than_the_cap_fails(emulator):
    hold(emulator, available(emulator, "US", "415", 50))
    tokens = TokenSource(emulator.api_key, emulator.api_secret)
    api = PhoneNumberApi(TwirpClient(emulator.url, tokens, max_body=4096))
    with pytest.raises(ResponseError) as info:
        api.list(page_size=100)
    assert "larger than 4096 bytes" in str(info.value)


def test_phone_number_names_every_bad_number(emulator):
    bad = ["4155550100", "+1 415 555 0101", "0044 20 7946 0000", "+0 1"]
    result = run(emulator, "phone_number", phone_numbers=bad)
    assert result["failed"] is True
    assert result["msg"].startswith("3 of the 4 phone numbers are not E.164: [0] phone number")
    assert "[2] phone number '0044 20 7946 0000'" in result["msg"] and "[3]" in result["msg"]
    assert sum(emulator.admin.counters()["calls"].values()) == 0


# ------------------------------------------------------------------ 5. and 7. runs that overlap

ROLE_POOLS = [
    {"country_code": "US", "area_code": "415", "count": 5, "sip_dispatch_rule_id": "SDR_a"},
    {"country_code": "US", "area_code": "650", "count": 5, "sip_dispatch_rule_id": "SDR_b"},
    {"country_code": "US", "count": 5},
]


def plays(emulator, tmp_path, names):
    return [
        RolePlay(tmp_path / name, emulator.url, emulator.api_key, emulator.api_secret)
        for name in names
    ]


def test_five_runs_at_once_with_shuffled_search_fill_the_pools_exactly(emulator, tmp_path):
    emulator.admin.configure(shuffle_search=True)
    emulator.admin.set_faults(latency_ms=300)
    runs = plays(emulator, tmp_path, "abcde")
    for play in runs:
        play.start(livekit_phone_numbers=ROLE_POOLS, livekit_phone_numbers_max_purchase=15)
    outcomes = [play.finish() for play in runs]
    for outcome in outcomes:
        assert outcome.returncode == 0, outcome.failure_messages() or outcome.output[-3000:]
    counters = emulator.admin.counters()
    assert len(held(emulator)) == 15
    assert set(counters["purchases_by_number"].values()) == {1}
    assert sorted(n for o in outcomes for n in o.summary["purchased"]) == sorted(held(emulator))


def test_a_cancelled_run_whose_purchase_goes_through_and_a_rerun_converge(emulator, tmp_path):
    emulator.admin.configure(write_delay=3)
    first, second = plays(emulator, tmp_path, "ab")
    first.start(livekit_phone_numbers=ROLE_POOLS[:1], new_session=True)
    deadline = time.monotonic() + 60
    while calls(emulator.admin.counters(), "PurchasePhoneNumber") == 0:
        assert time.monotonic() < deadline and first.process.poll() is None
        time.sleep(0.05)
    # The job is cancelled while its purchase is on the wire: the server still carries it out.
    os.killpg(first.process.pid, signal.SIGKILL)
    first.finish()
    again = second.run(livekit_phone_numbers=ROLE_POOLS[:1])
    assert again.returncode == 0, again.failure_messages() or again.output[-3000:]
    assert len(held(emulator)) == 5
    assert set(emulator.admin.counters()["purchases_by_number"].values()) == {1}
    # The re-run counts the numbers the cancelled run bought; it bought nothing itself.
    assert again.summary["purchased"] == []


def test_a_short_answer_is_not_judged_by_a_listing_that_cannot_be_shown_complete(emulator):
    # Pages of 2 that each start one record late: the listing checking the short answer skips
    # the very number the answer left out. Its absence proves nothing.
    numbers = available(emulator, "US", "415", 3)
    emulator.admin.reset(max_page_size=2, shift_pages=1, short_purchase_answers=1)
    result = fleet(emulator, [{"phone_number": n} for n in numbers], page_size=2)
    assert result["failed"] is True and result["error"]["code"] == "outcome_unknown", result
    assert "could not be shown complete" in result["msg"] and "not bought" not in result["msg"]
    assert sorted(held(emulator)) == sorted(numbers)
    assert set(result["purchased"]) <= set(numbers)
