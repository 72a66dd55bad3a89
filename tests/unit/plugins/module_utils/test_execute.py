"""Carrying out plans: verification of lost writes, concurrent routing, waiting."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._api import ListResult
from ansible_collections.livekit.sip.plugins.module_utils._entries import NumberEntry, PoolEntry
from ansible_collections.livekit.sip.plugins.module_utils._errors import StepError, WaitTimeout
from ansible_collections.livekit.sip.plugins.module_utils._execute import (
    Progress,
    Settings,
    batches,
    concurrent_purchases,
    execute,
    outcome_unknown,
    purchase,
    release,
    route_all,
    settle,
    wait_settled,
)
from ansible_collections.livekit.sip.plugins.module_utils._plan import Planner, Route
from ansible_collections.livekit.sip.plugins.module_utils._records import normalize_record

A, B, C = "+14155550101", "+14155550102", "+14155550103"


def rec(e164, status="active", rules=()):
    return normalize_record(
        {
            "id": "PN_" + e164[-3:],
            "e164_format": e164,
            "status": "PHONE_NUMBER_STATUS_" + status.upper(),
            "sip_dispatch_rule_ids": list(rules),
        }
    )


def api_error(status, code, msg="x", attempts=1):
    exc = errors.error_from_response(
        status, (f'{{"code": "{code}", "msg": "{msg}"}}').encode(), request_id="rid"
    )
    exc.attempts = attempts
    return exc


class FakeApi:
    """In-memory project: ``held`` maps E.164 to records; writes can be told to fail."""

    def __init__(
        self,
        held=(),
        purchase_error=None,
        apply_purchase=False,
        release_error=None,
        apply_release=False,
        update_errors=None,
        list_error=None,
    ):
        self.held = {r["e164_format"]: r for r in held}
        self.purchase_error = purchase_error
        self.apply_purchase = apply_purchase
        self.release_error = release_error
        self.apply_release = apply_release
        self.update_errors = update_errors or {}
        self.list_error = list_error
        self.calls = []
        self.lock = threading.Lock()
        self.threads = set()

    def list(self, statuses=None, sip_dispatch_rule_id=None, limit=None, page_size=500):
        self.calls.append(("list", statuses))
        if self.list_error:
            raise self.list_error
        return ListResult(list(self.held.values()), len(self.held), 0, 1)

    def holdings(self, page_size=500):
        return self.list(page_size=page_size)

    def purchase(self, numbers, sip_dispatch_rule_id=None, request_id=None):
        self.calls.append(("purchase", list(numbers), sip_dispatch_rule_id, request_id))
        if self.purchase_error is None or self.apply_purchase:
            for n in numbers:
                self.held[n] = rec(
                    n, "pending", [sip_dispatch_rule_id] if sip_dispatch_rule_id else []
                )
        if self.purchase_error is not None:
            raise self.purchase_error
        return [self.held[n] for n in numbers]

    def update(self, rule, id=None, phone_number=None, request_id=None):
        with self.lock:
            self.calls.append(("update", id or phone_number, rule))
            self.threads.add(threading.current_thread().name)
        key = phone_number or next(n for n, r in self.held.items() if r["id"] == id)
        if key in self.update_errors:
            raise self.update_errors[key]
        self.held[key] = dict(
            self.held[key], sip_dispatch_rule_ids=[rule], sip_dispatch_rule_id=rule
        )
        return self.held[key]

    def release(self, ids=None, phone_numbers=None, request_id=None):
        self.calls.append(("release", list(phone_numbers)))
        if self.release_error is None or self.apply_release:
            for n in phone_numbers:
                self.held.pop(n, None)
        if self.release_error is not None:
            raise self.release_error


@pytest.mark.parametrize(
    "exc, unknown",
    [
        (errors.TransportError("reset by peer"), True),
        (errors.TransportTimeout("slow"), True),
        (errors.ResponseError("truncated"), True),
        (errors.TLSError("bad cert"), False),
        (api_error(503, "unavailable", attempts=4), True),
        (api_error(500, "internal"), True),
        (api_error(412, "failed_precondition", "phone numbers not available", attempts=2), True),
        (api_error(412, "failed_precondition", "phone numbers not available", attempts=1), False),
        (api_error(404, "not_found"), False),
        (api_error(429, "resource_exhausted", "quota exceeded"), False),
        (errors.ConfigError("x"), False),
    ],
)
def test_outcome_unknown(exc, unknown):
    assert outcome_unknown(exc) is unknown


def test_purchase_success_passes_rule_and_a_request_id():
    api = FakeApi()
    records = purchase(api, [A, B], "SDR_1", 500)
    assert [r["e164_format"] for r in records] == [A, B]
    assert api.calls[0][:3] == ("purchase", [A, B], "SDR_1")
    assert api.calls[0][3]


def test_purchase_without_rule_sends_none():
    api = FakeApi()
    purchase(api, [A], "", 500)
    assert api.calls[0][2] is None


def test_lost_answer_of_a_successful_purchase_is_verified_not_repeated():
    api = FakeApi(purchase_error=errors.TransportError("connection reset"), apply_purchase=True)
    records = purchase(api, [A, B], None, 500)
    assert [r["e164_format"] for r in records] == [A, B]
    assert [c[0] for c in api.calls] == ["purchase", "list"]


def test_refused_retry_of_a_successful_purchase_is_success():
    exc = api_error(412, "failed_precondition", "phone numbers not available: +1", attempts=2)
    api = FakeApi(purchase_error=exc, apply_purchase=True)
    assert len(purchase(api, [A], None, 500)) == 1


def test_lost_purchase_that_did_not_happen_fails_naming_numbers():
    api = FakeApi(purchase_error=errors.TransportError("connection refused"))
    with pytest.raises(StepError) as info:
        purchase(api, [A, B], None, 500)
    assert A in str(info.value) and B in str(info.value)
    assert "nothing was bought" in str(info.value)
    assert info.value.done == [] and info.value.failed == [A, B]
    assert info.value.code == "transport"
    assert [c[0] for c in api.calls] == ["purchase", "list"]


def test_definitive_refusal_is_not_verified():
    api = FakeApi(purchase_error=api_error(404, "not_found", "phone numbers not available: " + A))
    with pytest.raises(StepError) as info:
        purchase(api, [A], None, 500)
    assert info.value.code == "not_found"
    assert info.value.http_status == 404
    assert info.value.request_id == "rid"
    assert A in str(info.value) and "nothing was bought" in str(info.value)
    assert [c[0] for c in api.calls] == ["purchase"]


def test_verification_listing_failure_is_reported():
    api = FakeApi(
        purchase_error=errors.TransportError("cut"), list_error=errors.TransportError("still cut")
    )
    with pytest.raises(StepError) as info:
        purchase(api, [A], None, 500)
    assert "may or may not" in str(info.value)


def test_route_runs_concurrently_and_reports_partial_failure():
    held = [rec(n) for n in ("+1415555%04d" % i for i in range(20))]
    failing = held[3]["e164_format"]
    api = FakeApi(held=held, update_errors={failing: api_error(404, "not_found", "gone")})
    routes = [Route(r["e164_format"], "", [], "SDR_9") for r in held]
    with pytest.raises(StepError) as info:
        route_all(api, routes, workers=4)
    assert info.value.failed == [failing]
    assert failing in str(info.value)
    assert len(info.value.done) == 19 and failing not in info.value.done
    assert 1 < len(api.threads) <= 4


def test_lost_route_answers_are_verified_by_one_listing():
    class LosesAnswers(FakeApi):
        def update(self, rule, id=None, phone_number=None, request_id=None):
            record = FakeApi.update(self, rule, id=id, phone_number=phone_number)
            if phone_number == A:
                raise errors.TransportError("answer lost")
            return record

    api = LosesAnswers(
        held=[rec(A), rec(B)], update_errors={B: errors.TransportError("never arrived")}
    )
    with pytest.raises(StepError) as info:
        route_all(api, [Route(A, "", [], "SDR_1"), Route(B, "", [], "SDR_1")], workers=2)
    assert info.value.done == [A]
    assert info.value.failed == [B]
    assert [c[0] for c in api.calls].count("list") == 1


def test_route_by_id_when_known():
    api = FakeApi(held=[rec(A)])
    result = route_all(api, [Route(A, "PN_101", [], "SDR_2")], workers=8)
    assert result[A]["sip_dispatch_rule_ids"] == ["SDR_2"]
    assert api.calls == [("update", "PN_101", "SDR_2")]


def test_route_nothing_makes_no_call():
    api = FakeApi()
    assert route_all(api, [], workers=8) == {}
    assert api.calls == []


def test_release_one_call():
    api = FakeApi(held=[rec(A), rec(B)])
    release(api, [A, B], 500)
    # The answer of a release is empty: one listing confirms it.
    assert api.calls == [("release", [A, B]), ("list", None)]
    assert api.held == {}


def test_lost_release_is_verified():
    api = FakeApi(held=[rec(A)], release_error=errors.TransportError("cut"), apply_release=True)
    release(api, [A], 500)
    assert [c[0] for c in api.calls] == ["release", "list"]


def test_lost_release_that_did_not_happen_fails():
    api = FakeApi(held=[rec(A)], release_error=errors.TransportError("cut"))
    with pytest.raises(StepError) as info:
        release(api, [A], 500)
    assert info.value.failed == [A]


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_until_no_number_is_pending():
    clock = Clock()
    api = FakeApi(held=[rec(A, "pending"), rec(B, "active")])
    original = api.list

    def settling(**kwargs):
        if clock.now >= 1.0:
            api.held[A] = rec(A, "active")
        return original(**kwargs)

    api.list = settling
    records = wait_settled(api, [A, B], timeout=60, page_size=500, sleep=clock.sleep, clock=clock)
    assert all(r["status"] == "active" for r in records)
    assert clock.sleeps == [0.5, 0.75]


def test_wait_times_out_naming_pending_numbers():
    clock = Clock()
    api = FakeApi(held=[rec(A, "pending"), rec(B, "active"), rec(C, "pending")])
    with pytest.raises(WaitTimeout) as info:
        wait_settled(api, [A, B], timeout=3, page_size=500, sleep=clock.sleep, clock=clock)
    assert info.value.pending == [A]
    assert A in str(info.value) and C not in str(info.value)
    assert clock.now == pytest.approx(3)
    assert max(clock.sleeps) <= 3


# ------------------------------------------------------------------------------ a whole plan


def run_settings(batch_size=None, wait=False, workers=4):
    return Settings(
        workers=workers, page_size=500, batch_size=batch_size, wait=wait, wait_timeout=5
    )


def fleet_of(current, entries):
    planner = Planner(current, entries, ())
    planner.finish()
    return planner


def test_execute_buys_per_rule_in_batches_then_routes_then_releases_in_batches():
    numbers = ["+1415555%04d" % n for n in range(5)]
    current = [rec(A, rules=["OLD"]), rec(B), rec(C)]
    entries = [NumberEntry(i, n, "R1", "present") for i, n in enumerate(numbers[:3])]
    entries += [NumberEntry(3, numbers[3], None, "present"), NumberEntry(4, A, "R2", "present")]
    entries += [NumberEntry(5, B, None, "absent"), NumberEntry(6, C, None, "absent")]
    planner = fleet_of(current, entries)
    api = FakeApi(held=current)
    progress = Progress()
    # One worker: the purchases one after the other, in the plan's order.
    execute(api, planner, run_settings(batch_size=2, workers=1), progress)
    assert [c[:3] for c in api.calls if c[0] == "purchase"] == [
        ("purchase", numbers[:2], "R1"),
        ("purchase", numbers[2:3], "R1"),
        ("purchase", numbers[3:4], None),
    ]
    assert ("update", "PN_101", "R2") in api.calls
    assert [c for c in api.calls if c[0] == "release"] == [("release", [B, C])]
    # Purchases first, releases last: a failed purchase leaves nothing released. (Listings
    # check the writes; they are not writes.)
    kinds = [c[0] for c in api.calls if c[0] != "list"]
    assert kinds.index("release") > max(i for i, k in enumerate(kinds) if k != "release")
    assert progress.result() == {
        "changed": True,
        "purchased": numbers[:4],
        "routed": [A],
        "labelled": [],
        "released": [B, C],
    }


def test_without_batch_size_one_call_carries_a_rules_numbers():
    numbers = ["+1415555%04d" % n for n in range(3)]
    planner = fleet_of([], [NumberEntry(i, n, None, "present") for i, n in enumerate(numbers)])
    api = FakeApi()
    execute(api, planner, run_settings(), Progress())
    assert [c[1] for c in api.calls if c[0] == "purchase"] == [numbers]
    assert batches([], None) == [] and batches(numbers, 2) == [numbers[:2], numbers[2:]]


def test_a_failed_release_batch_reports_what_was_done_before_it():
    current = [rec(A), rec(B), rec(C)]
    planner = fleet_of(
        current, [NumberEntry(i, r["e164_format"], None, "absent") for i, r in enumerate(current)]
    )
    api = FakeApi(held=current)
    progress = Progress()

    def release(ids=None, phone_numbers=None, request_id=None):
        api.calls.append(("release", list(phone_numbers)))
        if C in phone_numbers:
            raise api_error(404, "not_found")
        for n in phone_numbers:
            api.held.pop(n)

    api.release = release
    with pytest.raises(StepError):
        execute(api, planner, run_settings(batch_size=2), progress)
    assert progress.released == [A, B]


def test_settle_waits_for_numbers_pending_from_an_earlier_run_and_records_a_timeout():
    current = [rec(A, "pending")]
    planner = fleet_of(current, [NumberEntry(0, A, None, "present")])
    api = FakeApi(held=current)
    progress = Progress()
    # Nothing bought and nothing written: without wait the records read before stand.
    assert settle(api, planner, run_settings(), progress, current) is current
    assert api.calls == []
    with pytest.raises(WaitTimeout):
        settle(
            api,
            planner,
            run_settings(wait=True)._replace(wait_timeout=0),
            progress,
            current,
        )
    assert progress.result()["pending"] == [A]


def test_after_writes_applies_the_writes_answers_to_the_records_read_before():
    from ansible_collections.livekit.sip.plugins.module_utils._execute import (
        Progress,
        after_writes,
    )
    from ansible_collections.livekit.sip.plugins.module_utils._records import empty_record

    def record(number, rule="", **fields):
        item = dict(empty_record(number), id="PN_" + number[-3:], status="active", **fields)
        item["sip_dispatch_rule_ids"] = [rule] if rule else []
        item["sip_dispatch_rule_id"] = rule
        return item

    kept, moved, gone = (record("+1415555010%d" % i, "SDR_1", locality="SF") for i in range(3))
    progress = Progress()
    progress.released = [gone["e164_format"]]
    progress.routed = [moved["e164_format"]]
    progress.purchased = ["+14155550200"]
    # A purchase may answer only id, number and status; an update the whole record.
    bought = dict(empty_record("+14155550200"), id="PN_200", status="offline")
    progress.records = {
        moved["e164_format"]: dict(record(moved["e164_format"], "SDR_2"), locality=""),
        "+14155550200": bought,
    }
    result = after_writes([kept, moved, gone], progress)
    assert [r["e164_format"] for r in result] == [
        kept["e164_format"],
        moved["e164_format"],
        "+14155550200",
    ]
    assert result[0] is kept
    # The update's answer wins where it says something; what it leaves empty is kept.
    assert result[1]["sip_dispatch_rule_ids"] == ["SDR_2"] and result[1]["locality"] == "SF"
    assert result[2] == bought


class SlowPurchases(FakeApi):
    """Purchases that take a while, counting how many are in flight at once."""

    def __init__(self, fail=(), **kwargs):
        super().__init__(**kwargs)
        self.in_flight = 0
        self.most_in_flight = 0
        self.fail = set(fail)

    def purchase(self, numbers, sip_dispatch_rule_id=None, request_id=None):
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.calls.append(("purchase", list(numbers), sip_dispatch_rule_id, request_id))
        try:
            threading.Event().wait(0.05)
            if self.fail & set(numbers):
                raise api_error(429, "resource_exhausted", "quota exceeded")
            with self.lock:
                for n in numbers:
                    self.held[n] = rec(n, "pending", [sip_dispatch_rule_id])
            return [self.held[n] for n in numbers]
        finally:
            with self.lock:
                self.in_flight -= 1


def rules_of_numbers(rules=3, per_rule=4):
    numbers = ["+1415555%04d" % n for n in range(rules * per_rule)]
    entries = [NumberEntry(i, n, "R%d" % (i // per_rule), "present") for i, n in enumerate(numbers)]
    return numbers, fleet_of([], entries)


def test_purchases_of_explicit_numbers_run_on_the_workers_and_report_in_plan_order():
    numbers, planner = rules_of_numbers()
    api = SlowPurchases()
    progress = Progress()
    assert concurrent_purchases(planner, run_settings(batch_size=2))
    execute(api, planner, run_settings(batch_size=2), progress)
    assert 1 < api.most_in_flight <= 4
    assert len([c for c in api.calls if c[0] == "purchase"]) == 6
    assert progress.purchased == numbers and set(api.held) == set(numbers)
    assert planner.plan.purchases == [
        ("R0", numbers[0:4]),
        ("R1", numbers[4:8]),
        ("R2", numbers[8:12]),
    ]
    for rule, bought in planner.plan.purchases:
        assert all(api.held[n]["sip_dispatch_rule_ids"] == [rule] for n in bought)


def test_after_a_failed_purchase_no_other_starts_and_every_number_bought_is_reported():
    numbers, planner = rules_of_numbers()
    # The fourth purchase (R1's second batch) fails; with two workers at most one other is in
    # flight then, and the purchases after them never start.
    api = SlowPurchases(fail={numbers[6]})
    progress = Progress()
    with pytest.raises(StepError) as info:
        execute(api, planner, run_settings(batch_size=2, workers=2), progress)
    assert "quota" in str(info.value)
    bought = [n for n in numbers if n in api.held]
    assert progress.purchased == bought and numbers[6] not in bought
    assert len([c for c in api.calls if c[0] == "purchase"]) <= 5
    assert not [c for c in api.calls if c[0] in ("update", "release")]


def test_pools_and_single_purchases_buy_one_purchase_after_the_other():
    numbers, planner = rules_of_numbers(rules=1, per_rule=2)
    assert not concurrent_purchases(planner, run_settings())  # one purchase
    assert not concurrent_purchases(planner, run_settings(batch_size=1, workers=1))
    assert concurrent_purchases(planner, run_settings(batch_size=1))
    # Pool candidates: a fresh listing before each purchase may change the next ones.
    pools = Planner([], [], [PoolEntry(0, "US", "415", 2, "R"), PoolEntry(1, "US", "212", 2, "S")])
    for pool, area in zip(pools.pools, ("415", "212")):
        pools.choose(
            pool,
            [
                normalize_record(
                    {
                        "e164_format": "+1%s555%04d" % (area, n),
                        "country_code": "US",
                        "area_code": area,
                    }
                )
                for n in range(3)
            ],
        )
    pools.finish(release_unlisted=False)
    assert len(pools.plan.purchases) == 2
    assert not concurrent_purchases(pools, run_settings(batch_size=1))
