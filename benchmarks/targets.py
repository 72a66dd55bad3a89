"""The issue's targets, checked against measured steps.

Counting targets (writes, calls) hold at any size and latency, so the smoke checks them too.
Time targets are stated for 1,000 numbers at 50 ms per request and are checked only there.
"""

from __future__ import annotations

import math

from benchmarks import scenario

WRITE_METHODS = ("PurchasePhoneNumber", "UpdatePhoneNumber", "ReleasePhoneNumbers")
TIME_LIMITS = {"a": 10.0, "b": 5.0, "c": 10.0, "d": 5.0}
TIMED_SIZE = 1000
TIMED_LATENCY_MS = 50
MIN_RATIO = 40.0


def total_calls(step):
    return sum(step["calls"].values())


def _writes(counts):
    return ", ".join(
        "%s %d" % (kind, counts.get(kind, 0)) for kind in ("purchased", "routed", "released")
    )


def check_step(step, settings):
    """[(target, ok, detail)] for one measured step (a dict written by benchmarks.run)."""
    size, name = step["size"], step["step"]
    checks = [("playbook succeeded", step["rc"] == 0, "exit status {}".format(step["rc"]))]
    want = scenario.expected_writes(name, size)
    checks.append((f"writes: {_writes(want)}", step["writes"] == want, _writes(step["writes"])))
    if step["approach"] != "fleet":
        return checks
    calls = step["calls"]
    # With injected faults a retried request is counted again; the bounds are for clean runs.
    clean = not step.get("faults")
    pages = int(math.ceil(scenario.held_before(name, size) / float(settings["page_size"])))
    batch = settings["batch_size"]
    if name == "a":
        per_rule = int(math.ceil(size / float(settings["rules"])))
        most = settings["rules"] * scenario.batches(per_rule, batch)
        checks.append(
            (
                "at most %d purchase calls" % most,
                not clean or calls.get("PurchasePhoneNumber", 0) <= most,
                "%d" % calls.get("PurchasePhoneNumber", 0),
            )
        )
    if name == "b":
        bound = pages + 5
        checks.append(
            (
                "no write call",
                sum(calls.get(m, 0) for m in WRITE_METHODS) == 0,
                "%d write calls" % sum(calls.get(m, 0) for m in WRITE_METHODS),
            )
        )
        checks.append(
            (
                "at most held/page_size + 5 = %d calls" % bound,
                not clean or total_calls(step) <= bound,
                "%d calls" % total_calls(step),
            )
        )
    if name == "c":
        checks.append(
            (
                "one update per moved number",
                not clean or calls.get("UpdatePhoneNumber", 0) == scenario.moved(size),
                "%d updates" % calls.get("UpdatePhoneNumber", 0),
            )
        )
    if name == "d":
        most = scenario.batches(scenario.released(size), batch)
        checks.append(
            (
                "%d release call(s)" % most,
                not clean or calls.get("ReleasePhoneNumbers", 0) == most,
                "%d" % calls.get("ReleasePhoneNumbers", 0),
            )
        )
    timed = size == TIMED_SIZE and settings["latency_ms"] == TIMED_LATENCY_MS and clean
    if timed:
        limit = TIME_LIMITS[name]
        checks.append(
            (f"under {limit:g} s", step["seconds"] < limit, "{:.2f} s".format(step["seconds"]))
        )
    return checks


def check_ratio(fleet_seconds, loop_seconds):
    ratio = loop_seconds / fleet_seconds
    return (
        f"(a) at least {MIN_RATIO:g}x faster than the loop",
        ratio >= MIN_RATIO,
        f"{ratio:.0f}x",
    )


def failures(steps, settings):
    """Every failed check, as text; empty when all targets are met."""
    failed = []
    for step in steps:
        for target, ok, detail in check_step(step, settings):
            if not ok:
                failed.append(
                    "%s %s step (%s) size %d: %s (%s)"
                    % (
                        step["approach"],
                        step["step"],
                        scenario.STEP_NAMES[step["step"]],
                        step["size"],
                        target,
                        detail,
                    )
                )
    return failed
