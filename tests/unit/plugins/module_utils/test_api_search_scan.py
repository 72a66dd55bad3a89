"""PhoneNumberApi.search_matching: filtered searches page on, within a bound on pages read."""

from __future__ import annotations

import json

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._api import PhoneNumberApi
from ansible_collections.livekit.sip.plugins.module_utils._errors import PaginationError
from ansible_collections.livekit.sip.plugins.module_utils._twirp import HttpResponse, TwirpClient


class Tokens:
    def token(self):
        return "tok"


class Offer:
    """A search endpoint serving ``numbers`` in pages of at most ``cap`` with offset tokens."""

    def __init__(self, numbers, cap=10, repeat_first=False, stuck_token=False):
        self.numbers = numbers
        self.cap = cap
        self.repeat_first = repeat_first
        self.stuck_token = stuck_token
        self.requests = []

    def post(self, url, body, headers, timeout):
        request = json.loads(body)
        self.requests.append(request)
        offset = int(request["page_token"]["token"]) if "page_token" in request else 0
        page = self.numbers[offset : offset + min(request["limit"], self.cap)]
        if self.repeat_first and offset:
            # Offsets shift when someone else buys: the last number of a page shows up again.
            page = [self.numbers[offset - 1]] + page[:-1]
        items = [{"e164_format": n, "country_code": "USA"} for n in page]
        response = {"items": items}
        end = offset + min(request["limit"], self.cap)
        if end < len(self.numbers):
            response["next_page_token"] = {"token": "1" if self.stuck_token else str(end)}
        return HttpResponse(200, {}, json.dumps(response).encode())


def api_for(transport):
    return PhoneNumberApi(TwirpClient("http://h", Tokens(), retries=0, transport=transport))


NUMBERS = ["+1800555%04d" % i for i in range(100)]


def ends_in_7(record):
    return record["e164_format"].endswith("7")


def test_pages_until_limit_matches():
    offer = Offer(NUMBERS, cap=10)
    scan = api_for(offer).search_matching("us", ends_in_7, area_code="800", limit=3)
    assert [r["e164_format"][-2:] for r in scan.records] == ["07", "17", "27"]
    assert (scan.pages, scan.scanned, scan.exhausted, scan.bound_reached) == (3, 30, False, False)
    # Full pages are asked for, not what is still missing: most of a page may not match.
    assert [r["limit"] for r in offer.requests] == [50, 50, 50]
    assert offer.requests[0]["country_code"] == "US" and offer.requests[0]["area_code"] == "800"
    assert all(r["country_code"] == "US" for r in scan.records)


def test_a_page_with_more_matches_than_needed_is_cut_to_limit():
    scan = api_for(Offer(NUMBERS, cap=50)).search_matching("US", ends_in_7, limit=2)
    assert len(scan.records) == 2 and scan.pages == 1


def test_the_end_of_the_offer_ends_the_scan():
    scan = api_for(Offer(NUMBERS, cap=10)).search_matching("US", ends_in_7, limit=50)
    assert len(scan.records) == 10
    assert (scan.pages, scan.exhausted, scan.bound_reached) == (10, True, False)


def test_the_page_bound_stops_the_scan_and_says_so():
    scan = api_for(Offer(NUMBERS, cap=10)).search_matching("US", ends_in_7, limit=50, max_pages=4)
    assert len(scan.records) == 4
    assert (scan.pages, scan.scanned, scan.exhausted, scan.bound_reached) == (4, 40, False, True)


def test_the_bound_is_not_reached_when_the_last_page_allowed_ends_the_offer():
    scan = api_for(Offer(NUMBERS, cap=25)).search_matching("US", ends_in_7, limit=50, max_pages=4)
    assert (scan.pages, scan.exhausted, scan.bound_reached) == (4, True, False)


def test_a_number_offered_twice_is_kept_once():
    offer = Offer(NUMBERS[:30], cap=10, repeat_first=True)
    scan = api_for(offer).search_matching("US", lambda r: True, limit=100)
    numbers = [r["e164_format"] for r in scan.records]
    assert len(numbers) == len(set(numbers))
    assert scan.scanned == 30


def test_a_token_sent_twice_is_an_error_not_a_loop():
    with pytest.raises(PaginationError):
        api_for(Offer(NUMBERS, cap=10, stuck_token=True)).search_matching(
            "US", lambda r: False, limit=5
        )


def test_limit_zero_asks_nothing():
    offer = Offer(NUMBERS)
    scan = api_for(offer).search_matching("US", ends_in_7, limit=0)
    assert scan.records == [] and offer.requests == []
