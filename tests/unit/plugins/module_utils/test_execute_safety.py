"""Nothing bought or released on a guess: the executor's side, against an in-memory project."""

from __future__ import annotations

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._api import ListResult
from ansible_collections.livekit.sip.plugins.module_utils._entries import NumberEntry, PoolEntry
from ansible_collections.livekit.sip.plugins.module_utils._execute import (
    Progress,
    buy,
    may_still_happen,
    names,
    purchase,
    read_project,
    release,
    route_all,
)
from ansible_collections.livekit.sip.plugins.module_utils._plan import Planner, Route
from ansible_collections.livekit.sip.plugins.module_utils._records import normalize_record

A, B, C = "+14155550101", "+14155550102", "+14155550103"


def rec(e164, status="PHONE_NUMBER_STATUS_ACTIVE", rules=()):
    return normalize_record(
        {
            "id": "PN_" + e164[-3:],
            "e164_format": e164,
            "status": status,
            "sip_dispatch_rule_ids": list(rules),
        }
    )


class Twirp:
    timeout = 0.01


class Project:
    """The project as the executor sees it, with the quirks of a misbehaving server."""

    def __init__(self, held=(), released=()):
        self.held = {r["e164_format"]: r for r in held}
        self.released = {n: rec(n, "PHONE_NUMBER_STATUS_RELEASED") for n in released}
        self.calls = []
        self.answer_drop = 0  # purchase answers leave out the last N numbers
        self.skip = 0  # ... and do not buy them either
        self.noop_release = False
        self.wrong_rule = None  # update answers show this rule and set nothing
        self.purchase_error = None
        self.commit_after_lists = None  # a failed purchase is committed after N listings
        self.pending_commit = []
        self.twirp = Twirp()

    def holdings(self, page_size=500):
        self.calls.append("list")
        if self.commit_after_lists is not None:
            self.commit_after_lists -= 1
            if self.commit_after_lists < 0:
                for number in self.pending_commit:
                    self.held[number] = rec(number, "PHONE_NUMBER_STATUS_PENDING")
                self.pending_commit = []
        records = list(self.held.values()) + list(self.released.values())
        return ListResult(records, len(records), 0, 1)

    def list(self, **kwargs):
        return self.holdings()

    def lookup(self, numbers):
        self.calls.append(("lookup", list(numbers)))
        return {n: self.held.get(n) for n in numbers}

    def get(self, id=None, phone_number=None):
        self.calls.append(("get", id))
        return next((r for r in self.held.values() if r["id"] == id), None)

    def purchase(self, numbers, sip_dispatch_rule_id=None, request_id=None):
        self.calls.append(("purchase", list(numbers)))
        if self.purchase_error is not None:
            self.pending_commit = list(numbers)
            raise self.purchase_error
        kept = numbers[: len(numbers) - self.skip] if self.skip else list(numbers)
        for number in kept:
            self.held[number] = rec(number, "PHONE_NUMBER_STATUS_PENDING")
        answered = kept[: len(kept) - self.answer_drop] if self.answer_drop else kept
        return [self.held[n] for n in answered]

    def update(self, rule, id=None, phone_number=None, request_id=None):
        self.calls.append(("update", phone_number or id))
        number = phone_number or next(n for n, r in self.held.items() if r["id"] == id)
        if self.wrong_rule:
            return dict(self.held[number], sip_dispatch_rule_ids=[self.wrong_rule])
        self.held[number] = dict(self.held[number], sip_dispatch_rule_ids=[rule])
        return self.held[number]

    def release(self, ids=None, phone_numbers=None, request_id=None):
        self.calls.append(("release", list(phone_numbers)))
        if not self.noop_release:
            for number in phone_numbers:
                self.released[number] = rec(number, "PHONE_NUMBER_STATUS_RELEASED")
                self.held.pop(number, None)


# ------------------------------------------------------------------ item 9: writes checked


def test_a_short_purchase_answer_of_a_whole_purchase_is_a_success():
    project = Project()
    project.answer_drop = 1
    records = purchase(project, [A, B, C], "", 500)
    assert [r["e164_format"] for r in records] == [A, B, C]
    assert project.calls[-1] == "list"


def test_a_purchase_that_bought_less_than_asked_says_so():
    project = Project()
    project.skip = 1
    with pytest.raises(errors.WriteMismatch) as info:
        purchase(project, [A, B, C], "", 500)
    assert info.value.code == "write_mismatch"
    assert info.value.done == [A, B] and info.value.failed == [C]
    assert "1 of them are not held: +14155550103" in str(info.value)


def test_a_release_that_released_nothing_is_not_reported_as_done():
    project = Project(held=[rec(A), rec(B)])
    project.noop_release = True
    with pytest.raises(errors.WriteMismatch) as info:
        release(project, [A, B], 500)
    assert info.value.done == [] and info.value.failed == [A, B]
    assert "still lists 2 of them as held" in str(info.value)


def test_a_release_that_worked_is_confirmed_by_one_listing():
    project = Project(held=[rec(A)])
    release(project, [A], 500)
    assert project.calls == [("release", [A]), "list"]


def test_a_route_whose_answer_shows_another_rule_fails_when_the_listing_agrees():
    project = Project(held=[rec(A), rec(B)])
    project.wrong_rule = "SDR_other"
    with pytest.raises(errors.StepError) as info:
        route_all(project, [Route(A, "", [], "SDR_1")], workers=2)
    assert info.value.code == "write_mismatch"
    assert "with the rules ['SDR_other']" in str(info.value)


# ------------------------------------------------------------------ item 8: outcome unknown


def test_a_timed_out_purchase_committed_late_is_found_after_the_grace():
    project = Project()
    project.purchase_error = errors.TransportTimeout("no answer within 0.01 s")
    project.commit_after_lists = 1  # the first listing sees nothing, the second sees it
    records = purchase(project, [A], "", 500)
    assert [r["e164_format"] for r in records] == [A]
    assert project.calls.count("list") == 2


def test_a_timed_out_purchase_not_seen_after_the_grace_is_outcome_unknown():
    project = Project()
    project.purchase_error = errors.TransportTimeout("no answer within 0.01 s")
    with pytest.raises(errors.OutcomeUnknown) as info:
        purchase(project, [A, B], "", 500)
    message = str(info.value)
    assert info.value.code == "outcome_unknown" and info.value.failed == [A, B]
    assert "the server may still carry out the rest" in message
    assert "livekit.sip.phone_number_info" in message
    assert "nothing was bought" not in message


def test_a_purchase_the_server_answered_with_an_error_is_judged_by_one_listing():
    project = Project()
    failed = errors.error_from_response(500, b'{"code": "internal", "msg": "boom"}')
    failed.attempts = 4
    project.purchase_error = failed
    with pytest.raises(errors.StepError) as info:
        purchase(project, [A], "", 500)
    assert not isinstance(info.value, errors.OutcomeUnknown)
    assert "nothing was bought" in str(info.value)
    assert project.calls.count("list") == 1


def test_a_release_without_an_answer_is_looked_at_again_after_the_grace():
    project = Project(held=[rec(A), rec(B)])
    calls = []

    def late_release(ids=None, phone_numbers=None, request_id=None):
        calls.append(list(phone_numbers))
        raise errors.TransportTimeout("no answer within 0.01 s")

    project.release = late_release
    original = project.holdings

    def holdings(page_size=500):
        listing = original(page_size)
        if project.calls.count("list") == 2:  # the server carried it out meanwhile
            project.held.clear()
        return listing

    project.holdings = holdings
    with pytest.raises(errors.OutcomeUnknown) as info:
        release(project, [A, B], 500)
    assert info.value.failed == [A, B] and "may still carry it out" in str(info.value)
    assert project.calls.count("list") == 2
    # Seen released by the second listing: a success.
    project.held = {A: rec(A), B: rec(B)}
    project.calls.clear()

    def holdings_later(page_size=500):
        project.calls.append("list")
        if project.calls.count("list") == 2:
            project.held.clear()
        records = list(project.held.values())
        return ListResult(records, len(records), 0, 1)

    project.holdings = holdings_later
    release(project, [A, B], 500)
    assert project.calls.count("list") == 2


@pytest.mark.parametrize(
    "exc, later",
    [
        (errors.TransportTimeout("no answer"), True),
        (errors.TransportError("cannot reach x: Connection aborted, RemoteDisconnected"), True),
        (errors.TransportError("cannot reach x: [Errno 111] Connection refused"), False),
        (errors.TLSError("bad cert"), False),
        (errors.error_from_response(504, b"<html>gateway</html>"), True),
        (errors.error_from_response(502, b""), True),
        (errors.error_from_response(503, b'{"code": "unavailable", "msg": "x"}'), False),
        (errors.ResponseError("garbled"), False),
    ],
)
def test_may_still_happen(exc, later):
    assert may_still_happen(exc) is later


# ------------------------------------------------------------------ item 10: looked up


def test_numbers_to_release_that_the_listing_does_not_mention_are_looked_up():
    project = Project(held=[rec(A)], released=[B])
    hidden = rec(C)

    def holdings(page_size=500):
        project.calls.append("list")
        return ListResult([], None, 0, 1)  # items null, no count

    project.holdings = holdings
    project.held[C] = hidden
    current, listing = read_project(project, 500, absent=[A, B, C])
    assert sorted(r["e164_format"] for r in current) == [A, C]
    assert project.calls == ["list", ("lookup", [A, B, C])]


def test_a_number_the_listing_shows_released_is_not_looked_up():
    project = Project(held=[rec(A)], released=[B])
    current, dummy = read_project(project, 500, absent=[A, B], present=[C])
    assert [r["e164_format"] for r in current] == [A]
    assert project.calls == ["list"]


def test_ids_to_release_that_the_listing_does_not_mention_are_looked_up():
    project = Project(held=[rec(A)])
    project.holdings = lambda page_size=500: ListResult([], None, 0, 1)
    current, dummy = read_project(project, 500, absent_ids=["PN_101", "PN_999"])
    assert [r["e164_format"] for r in current] == [A]
    assert project.calls == [("get", "PN_101"), ("get", "PN_999")]


# ------------------------------------------------------------------ item 5: re-listed first


def test_a_pool_purchase_is_preceded_by_a_fresh_listing():
    project = Project()
    planner = Planner([], [], [PoolEntry(0, "US", "415", 2, None)])
    planner.choose(
        planner.pools[0],
        [
            normalize_record({"e164_format": n, "country_code": "US", "area_code": "415"})
            for n in (A, B, C)
        ],
    )
    planner.finish()
    # A concurrent run bought A and C since this run listed the project.
    project.held = {A: rec(A), C: rec(C)}
    progress = Progress()
    assert buy(project, planner, "", [A, B], 500, progress) == []
    assert ("purchase", [A, B]) not in project.calls and project.calls == ["list"]
    assert planner.pools[0].claimed == [A, C]


def test_explicit_purchases_are_not_listed_again():
    project = Project()
    planner = Planner([], [NumberEntry(0, A, None, "present")])
    planner.finish()
    assert buy(project, planner, "", [A], 500, Progress()) == [A]
    assert project.calls == [("purchase", [A])]


def test_names_are_bounded():
    assert names([A]) == A
    many = ["+1415555%04d" % n for n in range(25)]
    assert names(many).endswith("+14155550009 and 15 more")
