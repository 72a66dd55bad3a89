"""Listings the planners may trust: each record once, a completeness verdict, bounded paging.

A fake transport pages like an offset-paging server and misbehaves on request: pages that
shift by some records, no total_count, tokens that never end.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._api import (
    LIST_PAGE_MAX,
    ListResult,
    PhoneNumberApi,
)
from ansible_collections.livekit.sip.plugins.module_utils._twirp import HttpResponse, TwirpClient


class Tokens:
    def token(self):
        return "tok"


def number(i, status="PHONE_NUMBER_STATUS_ACTIVE", **extra):
    raw = {
        "id": "PN_%03d" % i,
        "e164_format": "+1415555%04d" % i,
        "country_code": "US",
        "area_code": "415",
        "status": status,
    }
    raw.update(extra)
    return raw


class Quirky:
    """Offset pages; ``shift`` moves every page after the first (+1 skips a record, -1 repeats
    one); ``shift_pages`` limits that to pages asked with a limit below it; ``total`` False
    leaves total_count out; ``endless`` wraps around to the first page with a fresh token."""

    def __init__(self, items, shift=0, total=True, endless=False, shift_below=None):
        self.items = items
        self.shift = shift
        self.total = total
        self.endless = endless
        self.shift_below = shift_below
        self.requests = []

    def post(self, url, body, headers, timeout):
        method = url.rsplit("/", 1)[-1]
        request = json.loads(body)
        self.requests.append((method, request))
        if len(self.requests) > 200:
            raise AssertionError("the client kept paging")
        limit = request.get("limit") or 50
        offset = 0
        if "page_token" in request:
            offset = int(request["page_token"]["token"].split(":")[0])
            if self.shift_below is None or limit < self.shift_below:
                offset = max(0, offset + self.shift)
        page = self.items[offset : offset + limit]
        response = {"items": page}
        end = offset + len(page)
        if end < len(self.items):
            response["next_page_token"] = {"token": "%d:%d" % (end, len(self.requests))}
        elif self.endless:
            response["next_page_token"] = {"token": "0:%d" % len(self.requests)}
        if self.total and method == "ListPhoneNumbers":
            response["total_count"] = len(self.items)
        return HttpResponse(200, {}, json.dumps(response).encode())


def api_for(transport, **kwargs):
    return PhoneNumberApi(
        TwirpClient("http://h", Tokens(), retries=0, transport=transport), **kwargs
    )


def test_a_plain_listing_is_complete():
    result = api_for(Quirky([number(i) for i in range(25)])).list(page_size=10)
    assert result.complete and result.problems == [] and result.duplicates == []
    assert len(result.records) == 25 and result.pages == 3


def test_records_read_twice_are_kept_once_and_make_the_listing_incomplete():
    server = Quirky([number(i) for i in range(25)], shift=-1)
    result = api_for(server).list(page_size=10)
    ids = [r["id"] for r in result.records]
    assert len(ids) == len(set(ids)) == 25
    assert result.duplicates == ["+14155550009 (PN_009)", "+14155550018 (PN_018)"]
    assert not result.complete
    assert "2 records were read twice (+14155550009 (PN_009), +14155550018 (PN_018))" in (
        result.describe()
    )


def test_a_skipped_record_is_caught_by_total_count():
    result = api_for(Quirky([number(i) for i in range(25)], shift=1)).list(page_size=10)
    assert len(result.records) == 23
    assert not result.complete
    assert result.describe() == "the server counts 25 numbers (total_count) but 3 pages held 23"


def test_without_total_count_several_pages_cannot_be_shown_complete():
    server = Quirky([number(i) for i in range(25)], shift=1, total=False)
    result = api_for(server).list(page_size=10)
    assert result.total_count is None
    assert not result.complete
    assert "sent no total_count, so 23 records read in 3 pages" in result.describe()


def test_without_total_count_one_page_is_complete():
    result = api_for(Quirky([number(i) for i in range(25)], total=False)).list(page_size=100)
    assert result.complete and result.pages == 1 and result.total_count is None


def test_changing_total_count_makes_the_listing_incomplete():
    class Growing(Quirky):
        def post(self, url, body, headers, timeout):
            answer = super().post(url, body, headers, timeout)
            data = json.loads(answer.body)
            data["total_count"] = 24 + len(self.requests)
            return HttpResponse(200, {}, json.dumps(data).encode())

    result = api_for(Growing([number(i) for i in range(25)])).list(page_size=10)
    assert result.describe() == "total_count changed from 25 to 27 while the 3 pages were read"


def test_one_number_held_under_two_ids_is_counted_once_and_reported():
    items = [number(1), dict(number(2), e164_format=number(1)["e164_format"])]
    result = api_for(Quirky(items)).list()
    assert [r["id"] for r in result.held] == ["PN_001"]
    assert result.describe().startswith("+14155550001 is held under two ids (PN_001, PN_002)")


def test_a_released_record_and_a_held_one_of_the_same_number_are_both_kept():
    # A number bought, released and bought again has two records; that is no conflict.
    items = [
        dict(number(1), status="PHONE_NUMBER_STATUS_RELEASED"),
        dict(number(2), e164_format=number(1)["e164_format"]),
    ]
    result = api_for(Quirky(items)).list()
    assert result.complete
    assert [r["id"] for r in result.records] == ["PN_001", "PN_002"]
    assert [r["id"] for r in result.held] == ["PN_002"]


def test_holdings_lists_again_with_the_largest_pages_and_sends_no_status_filter():
    # The shift happens on small pages only: one page of LIST_PAGE_MAX cannot shift.
    server = Quirky([number(i) for i in range(25)], shift=1, total=False, shift_below=100)
    result = api_for(server).holdings(page_size=10)
    assert result.complete and len(result.records) == 25
    limits = [request["limit"] for dummy, request in server.requests]
    assert limits == [10, 10, 10, LIST_PAGE_MAX]
    assert all("statuses" not in request for dummy, request in server.requests)
    # The next listing of the run starts with the pages that worked.
    api = api_for(server)
    api.holdings(page_size=10)
    server.requests.clear()
    assert api.holdings(page_size=10).complete
    assert [request["limit"] for dummy, request in server.requests] == [LIST_PAGE_MAX]


def test_holdings_hands_on_the_last_listing_when_none_is_complete():
    # More records than the largest page: every listing shifts.
    server = Quirky([number(i) for i in range(1500)], shift=1)
    result = api_for(server).holdings(page_size=500, attempts=3)
    assert not result.complete
    assert "the server counts 1500 numbers (total_count) but 2 pages held 1499" in result.describe()
    firsts = [request for dummy, request in server.requests if "page_token" not in request]
    assert [request["limit"] for request in firsts] == [500, LIST_PAGE_MAX, LIST_PAGE_MAX]


def test_unknown_statuses_count_as_held_and_are_warned_about():
    items = [
        number(1, "PHONE_NUMBER_STATUS_SUSPENDED"),
        number(2, 7),
        number(3),
        number(4, "PHONE_NUMBER_STATUS_RELEASED"),
    ]
    result = api_for(Quirky(items)).list()
    assert [r["status"] for r in result.held] == ["suspended", "unknown_7", "active"]
    assert result.unknown_status == [("+14155550001", "suspended"), ("+14155550002", "unknown_7")]
    assert result.uncertain == ["+14155550001", "+14155550002"]
    (warning,) = result.warnings()
    assert "2 numbers with a status this collection does not know" in warning
    assert "+14155550001: suspended, +14155550002: unknown_7" in warning


def test_records_without_area_code_are_derived_and_marked_uncertain():
    items = [
        {"id": "PN_1", "e164_format": "+14155550001", "status": "PHONE_NUMBER_STATUS_ACTIVE"},
        number(2),
    ]
    result = api_for(Quirky(items)).list()
    assert [(r["country_code"], r["area_code"]) for r in result.held] == [("US", "415")] * 2
    assert result.missing == {"+14155550001": ["country_code", "area_code"]}
    assert result.uncertain == ["+14155550001"]
    (warning,) = result.warnings()
    assert "+14155550001: country_code/area_code" in warning


def test_endless_tokens_stop_when_pages_bring_nothing_new_naming_both_bounds():
    server = Quirky([number(i) for i in range(25)], endless=True)
    with pytest.raises(errors.PaginationError) as info:
        api_for(server).list(page_size=10)
    message = str(info.value)
    assert "3 pages in a row that brought no record not read before" in message
    assert "total_count 25" in message and "at most 600 s" in message
    assert len(server.requests) == 6


def test_endless_fresh_records_stop_at_twice_total_count():
    # A server that invents records page after page, with a total_count it never reaches.
    class Inventing(Quirky):
        def post(self, url, body, headers, timeout):
            self.requests.append(json.loads(body))
            n = len(self.requests)
            page = {
                "items": [number(10 * n + i) for i in range(10)],
                "next_page_token": {"token": "t%d" % n},
                "total_count": 25,
            }
            return HttpResponse(200, {}, json.dumps(page).encode())

    server = Inventing([])
    with pytest.raises(errors.PaginationError) as info:
        api_for(server).list(page_size=10)
    message = str(info.value)
    assert "kept sending page tokens: 80 items read in 8 pages" in message
    assert "total_count is 25" in message and "after 600 s" in message


def test_endless_tokens_without_total_count_stop_on_pages_bringing_nothing_new():
    server = Quirky([number(i) for i in range(25)], endless=True, total=False)
    with pytest.raises(errors.PaginationError) as info:
        api_for(server).list(page_size=10)
    assert "3 pages in a row that brought no record not read before" in str(info.value)
    assert "total_count not sent" in str(info.value)
    assert len(server.requests) <= 3 + 3 + 1


def test_a_listing_stops_at_its_deadline():
    class Clock:
        now = 0.0

        def __call__(self):
            self.now += 4.0
            return self.now

    # Fresh records on every page, so that only the clock can stop it.
    class Forever(Quirky):
        def post(self, url, body, headers, timeout):
            self.requests.append(json.loads(body))
            n = len(self.requests)
            page = {"items": [number(n)], "next_page_token": {"token": "t%d" % n}}
            return HttpResponse(200, {}, json.dumps(page).encode())

    server = Forever([])
    with pytest.raises(errors.PaginationError) as info:
        api_for(server, list_deadline=30, clock=Clock()).list()
    assert "still sent page tokens after 32 s" in str(info.value)
    assert "at most 30 s" in str(info.value) and "total_count not sent" in str(info.value)
    assert len(server.requests) == 8


def test_search_offers_a_number_once_when_pages_shift():
    items = [dict(number(i), id="", status=None) for i in range(30)]
    records = api_for(Quirky(items, shift=-2)).search("US", limit=25, page_size=10)
    numbers = [r["e164_format"] for r in records]
    assert len(numbers) == len(set(numbers))


def test_lookup_asks_for_each_number_and_reports_unknown_ones_as_none():
    class Lookup:
        def __init__(self):
            self.requests = []

        def post(self, url, body, headers, timeout):
            request = json.loads(body)
            self.requests.append((url.rsplit("/", 1)[-1], request))
            if request["phone_number"] == "+14155550002":
                body = {"code": "not_found", "msg": "phone number not found"}
                return HttpResponse(404, {}, json.dumps(body).encode())
            return HttpResponse(200, {}, json.dumps({"phone_number": number(1)}).encode())

    transport = Lookup()
    found = api_for(transport).lookup(["+14155550001", "+14155550002"])
    assert found["+14155550001"]["id"] == "PN_001" and found["+14155550002"] is None
    assert [m for m, dummy in transport.requests] == ["GetPhoneNumber", "GetPhoneNumber"]


def test_an_empty_listing_result_is_complete():
    assert ListResult([], 0, 0, 0).complete
