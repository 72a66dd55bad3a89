"""The benchmark's desired states and target checks (benchmarks/), without running a playbook."""

from __future__ import annotations

from benchmarks import scenario, targets

SETTINGS = {"latency_ms": 50, "workers": 8, "rules": 5, "page_size": 500, "batch_size": 500}


def step(name, size=1000, seconds=1.0, rc=0, **calls):
    return {
        "approach": "fleet",
        "size": size,
        "step": name,
        "rc": rc,
        "seconds": seconds,
        "calls": calls,
        "writes": scenario.expected_writes(name, size),
        "faults": {},
    }


def test_numbers_are_distinct_and_spread_over_countries():
    numbers = scenario.pick_numbers(1000, pool_size=scenario.inventory_size(3000))
    assert len(set(numbers)) == 1000
    assert {n[:3] for n in numbers} >= {"+14", "+16", "+44"}


def test_each_step_changes_what_the_issue_says():
    numbers = scenario.pick_numbers(100)
    a, c, d = (scenario.desired(name, numbers, 5) for name in ("a", "c", "d"))
    assert len({e["sip_dispatch_rule_id"] for e in a}) == 5
    assert scenario.desired("b", numbers, 5) == a
    assert [e for e in c if e != a[c.index(e)]] == c[:20]
    assert all(e["sip_dispatch_rule_id"] == scenario.MOVED_RULE for e in c[:20])
    absent = [e["phone_number"] for e in d if e.get("state") == "absent"]
    assert absent == numbers[50:]
    assert d[:50] == c[:50]


def test_a_clean_run_meets_every_target():
    steps = [
        step("a", PurchasePhoneNumber=5, ListPhoneNumbers=3),
        step("b", ListPhoneNumbers=2),
        step("c", ListPhoneNumbers=4, UpdatePhoneNumber=200),
        step("d", ListPhoneNumbers=4, ReleasePhoneNumbers=1),
    ]
    assert targets.failures(steps, SETTINGS) == []


def test_writes_on_a_rerun_too_many_calls_and_slow_steps_are_missed():
    rerun = step("b", ListPhoneNumbers=7, UpdatePhoneNumber=1)
    slow = step("d", seconds=6.0, ListPhoneNumbers=2, ReleasePhoneNumbers=2)
    failed = targets.failures([rerun, slow], SETTINGS)
    assert any("no write call" in line for line in failed)
    assert any("at most held/page_size + 5 = 7 calls (8 calls)" in line for line in failed)
    assert any("1 release call(s) (2)" in line for line in failed)
    assert any("under 5 s (6.00 s)" in line for line in failed)


def test_time_targets_apply_only_at_the_stated_size_and_latency():
    assert (
        targets.failures([step("a", size=50, seconds=60.0, PurchasePhoneNumber=5)], SETTINGS) == []
    )
    assert targets.check_ratio(2.0, 79.0)[1] is False and targets.check_ratio(2.0, 80.0)[1] is True


SCALE = dict(SETTINGS, page_size=1000, page_caps=[1000, 100])
FLOOR = {"size": 20000, "bare": [0.8, 0.9, 1.0], "inventory": [1.5, 1.6, 1.7]}


def scale_step(name, cap, seconds, size=20000):
    return dict(step(name, size=size, seconds=seconds), variant="clean", page_cap=cap)


def test_the_floor_is_the_empty_playbook_plus_the_calls_a_run_needs():
    # a: the empty project's one page, then 5 rules x 8 batches of 500
    assert targets.floor_calls("a", 20000, SCALE, 1000) == 41
    # b: the pages of one listing
    assert targets.floor_calls("b", 20000, SCALE, 1000) == 20
    assert targets.floor_calls("b", 20000, SCALE, 100) == 200
    assert targets.floor_seconds(FLOOR, 20, SCALE) == 0.9 + 20 * 0.05


def test_large_fleet_targets_on_medians_against_the_floor():
    floor_a, floor_b = 0.9 + 41 * 0.05, 0.9 + 20 * 0.05
    steps = [
        scale_step("a", 1000, 2 * floor_a - 0.01),
        scale_step("b", 1000, 2 * floor_b - 0.01),
        scale_step("b", 100, 1.5 * (2 * floor_b - 0.01) - 0.01),
    ]
    checks = targets.scale_checks(steps, SCALE, [FLOOR])
    assert [ok for _target, ok, _detail in checks] == [True, True, True]
    slow = [
        scale_step("a", 1000, 2 * floor_a + 0.05),
        scale_step("b", 1000, 2 * floor_b + 0.05),
        scale_step("b", 100, 1.5 * (2 * floor_b + 0.05) + 0.05),
    ]
    failed = targets.failures(slow, SCALE, [FLOOR])
    assert len([line for line in failed if "within" in line]) == 3
    # Below 20,000 numbers, or at another latency, only the counting targets apply.
    small = dict(FLOOR, size=5000)
    assert targets.scale_checks([scale_step("b", 1000, 60.0, size=5000)], SCALE, [small]) == []
    assert targets.scale_checks(slow, dict(SCALE, latency_ms=0), [FLOOR]) == []


def test_memory_over_the_limit_or_a_failed_run_is_missed():
    memory = {
        "size": 20000,
        "first": {"peak_rss_mb": 149.0, "failed": False},
        "noop": {"peak_rss_mb": 151.0, "failed": False},
    }
    checks = targets.scale_checks([], SCALE, [], memory)
    assert [ok for _target, ok, _detail in checks] == [True, False]
    memory["first"]["failed"] = True
    assert not targets.scale_checks([], SCALE, [], memory)[0][1]
    # The worker's runs are checked too when they were measured.
    memory["worker_noop"] = {"peak_rss_mb": 160.0, "failed": False, "base_rss_mb": 60.0}
    checks = targets.scale_checks([], SCALE, [], memory)
    assert (
        checks[-1][0]
        == "20000 numbers, peak memory of the module (no-op re-run, in the worker) under 150 MB"
    )
    assert checks[-1][1] is False and len(checks) == 3


def test_a_noop_rerun_lists_the_project_once():
    once = dict(step("b", size=20000, ListPhoneNumbers=200), page_cap=100)
    twice = dict(step("b", size=20000, ListPhoneNumbers=400), page_cap=100)
    assert not [line for line in targets.failures([once], SCALE) if "one listing" in line]
    assert any(
        "one listing: 200 List calls (400 List calls)" in line
        for line in targets.failures([twice], SCALE)
    )


def test_every_step_gets_the_latency_back_after_the_emulators_reset():
    from benchmarks import run

    assert run.fault_plan(50) == {"latency_ms": 50}
    rate_limited = run.fault_plan(50, {"rate": 0.1, "kinds": ["rate_limited"]})
    assert rate_limited == {"latency_ms": 50, "rate": 0.1, "kinds": ["rate_limited"]}


def test_a_reset_emulator_with_the_plan_applied_is_slow_again():
    """The benchmark's premise: after reset and set_faults(fault_plan(...)), calls take the latency."""
    import time
    import urllib.request

    from benchmarks import run
    from livekit_sip_emulator.emulator import Emulator

    emulator = Emulator(port=0, latency_ms=60).start()
    try:

        def list_once():
            request = urllib.request.Request(
                emulator.url + "/twirp/livekit.PhoneNumberService/ListPhoneNumbers",
                data=b"{}",
                headers={
                    "Content-Type": "application/json",
                    "Authorization": "Bearer " + emulator.token(),
                },
            )
            began = time.monotonic()
            urllib.request.urlopen(request, timeout=10).read()
            return time.monotonic() - began

        emulator.admin.reset(max_page_size=100)
        emulator.admin.set_faults(**run.fault_plan(60))
        assert list_once() >= 0.06
    finally:
        emulator.stop()
