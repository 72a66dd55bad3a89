"""The issues' targets, checked against measured steps.

Counting targets (writes, calls) hold at any size and latency, so the smoke checks them too.
Time targets are stated for 1,000 numbers at 50 ms per request and are checked only there; the
large-fleet targets (against the floor) for 20,000 numbers and more at 50 ms.

The floor of a run is what it cannot go below: the empty one-task playbook (measured in the same
benchmark, ``benchmarks/playbooks/floor.yml`` with no desired state in the inventory) plus the
calls the run needs, one after the other, at the emulator's latency: for a first run, the
listing of the empty project and one purchase per dispatch rule and batch; for a no-op re-run,
the pages of one listing.
"""

from __future__ import annotations

import math
import statistics

from benchmarks import scenario

WRITE_METHODS = ("PurchasePhoneNumber", "UpdatePhoneNumber", "ReleasePhoneNumbers")
TIME_LIMITS = {"a": 10.0, "b": 5.0, "c": 10.0, "d": 5.0}
TIMED_SIZE = 1000
TIMED_LATENCY_MS = 50
MIN_RATIO = 40.0
SCALE_SIZE = 20000
# (a) within 2 x its floor; (b) with pages of 1,000 within 2 x its floor; (b) with the server
# capping pages at 100 within 1.5 x the pages-of-1,000 figure.
FLOOR_RATIO = 2.0
SMALL_PAGES_RATIO = 1.5
MEMORY_LIMIT_MB = 150.0
# The runs benchmarks.memory measures: as a module, and the action plugin's way in a worker.
MEMORY_RUNS = {
    "first": "first run, as a module",
    "noop": "no-op re-run, as a module",
    "worker_first": "first run, in the worker",
    "worker_noop": "no-op re-run, in the worker",
}


def total_calls(step):
    return sum(step["calls"].values())


def _writes(counts):
    return ", ".join(
        "%s %d" % (kind, counts.get(kind, 0)) for kind in ("purchased", "routed", "released")
    )


def page(step, settings):
    """The page size a listing gets: the module's page_size, capped by the server."""
    return min(settings["page_size"], step.get("page_cap") or settings["page_size"])


def listing_pages(held, page_size):
    return max(1, int(math.ceil(held / float(page_size))))


def floor_calls(name, size, settings, page_size):
    """The calls a run cannot do without (see the module docstring)."""
    if name == "a":
        per_rule = int(math.ceil(size / float(settings["rules"])))
        return 1 + settings["rules"] * scenario.batches(per_rule, settings["batch_size"])
    if name == "b":
        return listing_pages(size, page_size)
    raise ValueError(name)


def floor_seconds(floor, calls, settings, kind="bare"):
    """The floor of a run making ``calls`` calls, from a floor record of benchmarks.run."""
    return statistics.median(floor[kind]) + calls * settings["latency_ms"] / 1000.0


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
    pages = int(math.ceil(scenario.held_before(name, size) / float(page(step, settings))))
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
        lists = calls.get("ListPhoneNumbers", 0)
        checks.append(
            (
                "one listing: %d List calls" % pages,
                not clean or lists == pages,
                "%d List calls" % lists,
            )
        )
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
    timed = (
        size == TIMED_SIZE
        and settings["latency_ms"] == TIMED_LATENCY_MS
        and clean
        and page(step, settings) == settings["page_size"]
    )
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


def _median(steps, size, name, cap):
    runs = [
        s["seconds"]
        for s in steps
        if (s["approach"], s["size"], s["step"], s.get("variant", "clean"), s.get("page_cap"))
        == ("fleet", size, name, "clean", cap)
        and s["rc"] == 0
    ]
    return statistics.median(runs) if runs else None


def scale_checks(steps, settings, floors, memory=None):
    """[(target, ok, detail)]: the large-fleet targets, on medians, at 20,000 numbers and more."""
    checks = []
    caps = settings.get("page_caps") or []
    if settings["latency_ms"] != TIMED_LATENCY_MS or not caps:
        return checks
    by_size = {floor["size"]: floor for floor in floors or ()}
    for size in sorted(by_size):
        if size < SCALE_SIZE:
            continue
        floor = by_size[size]
        big = caps[0]
        first = _median(steps, size, "a", big)
        if first is not None:
            limit = FLOOR_RATIO * floor_seconds(
                floor, floor_calls("a", size, settings, big), settings
            )
            checks.append(
                (
                    "%d numbers, first run within %gx its floor (%.2f s)"
                    % (size, FLOOR_RATIO, limit / FLOOR_RATIO),
                    first <= limit,
                    "%.2f s, %.2fx" % (first, first / (limit / FLOOR_RATIO)),
                )
            )
        noop = _median(steps, size, "b", big)
        if noop is not None:
            pages = floor_calls("b", size, settings, min(big, settings["page_size"]))
            limit = FLOOR_RATIO * floor_seconds(floor, pages, settings)
            checks.append(
                (
                    "%d numbers, no-op re-run with pages of %d within %gx its floor (%.2f s)"
                    % (size, big, FLOOR_RATIO, limit / FLOOR_RATIO),
                    noop <= limit,
                    "%.2f s, %.2fx" % (noop, noop / (limit / FLOOR_RATIO)),
                )
            )
            for cap in caps[1:]:
                small = _median(steps, size, "b", cap)
                if small is None:
                    continue
                checks.append(
                    (
                        "%d numbers, no-op re-run with pages of %d within %gx the pages-of-%d "
                        "figure (%.2f s)" % (size, cap, SMALL_PAGES_RATIO, big, noop),
                        small <= SMALL_PAGES_RATIO * noop,
                        "%.2f s, %.2fx" % (small, small / noop),
                    )
                )
    if memory:
        runs = [run for run in MEMORY_RUNS if run in memory]
        for run in runs:
            peak = memory[run]["peak_rss_mb"]
            checks.append(
                (
                    "%d numbers, peak memory of the module (%s) under %g MB"
                    % (memory["size"], MEMORY_RUNS[run], MEMORY_LIMIT_MB),
                    peak is not None and peak < MEMORY_LIMIT_MB and not memory[run]["failed"],
                    "%s MB" % peak if not memory[run]["failed"] else "the run failed",
                )
            )
    return checks


def failures(steps, settings, floors=None, memory=None):
    """Every failed check, as text; empty when all targets are met."""
    failed = []
    for target, ok, detail in scale_checks(steps, settings, floors, memory):
        if not ok:
            failed.append("%s (%s)" % (target, detail))
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
