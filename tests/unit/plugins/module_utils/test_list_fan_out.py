"""Listing pages in parallel when the tokens can be predicted, and one by one when not.

A fake transport pages like a server, in three token forms: the protocol library's offset form,
opaque cursors, and offset-looking tokens whose pages stride differently from what the first
one suggests. Each listing must hold every record exactly once, whatever the form.
"""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._api import PhoneNumberApi
from ansible_collections.livekit.sip.plugins.module_utils._twirp import HttpResponse, TwirpClient


class Tokens:
    def token(self):
        return "tok"


def number(i):
    return {
        "id": "PN_%05d" % i,
        "e164_format": "+1415%07d" % i,
        "status": "PHONE_NUMBER_STATUS_ACTIVE",
    }


def offset_token(offset, limit):
    raw = json.dumps({"offset": offset, "limit": limit}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


class Server:
    """Pages of at most ``cap`` records; tokens in ``form``; counts calls in flight."""

    def __init__(self, count, cap=100, form="offset", delay=0.01, fail_offset=None):
        self.items = [number(i) for i in range(count)]
        self.cap = cap
        self.form = form
        self.delay = delay
        self.fail_offset = fail_offset
        self.cursors = {}
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.offsets = []

    def token(self, offset, limit):
        if self.form == "offset":
            return offset_token(offset, limit)
        if self.form == "cursor":
            # An opaque cursor: the id of the last record of the page, scrambled.
            cursor = base64.urlsafe_b64encode(("after:%s" % self.items[offset - 1]["id"]).encode())
            self.cursors[cursor.decode()] = offset
            return cursor.decode()
        # "stride": offset-looking tokens after the first page, then another page length.
        if offset == limit:
            return offset_token(offset, limit)
        cursor = "c%d" % offset
        self.cursors[cursor] = offset
        return cursor

    def offset_of(self, token):
        if token in self.cursors:
            return self.cursors[token]
        if self.form == "cursor":
            raise AssertionError("a cursor server got a token it never wrote: %r" % token)
        data = json.loads(base64.urlsafe_b64decode(token))
        return data["offset"]

    def post(self, url, body, headers, timeout):
        request = json.loads(body)
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            token = (request.get("page_token") or {}).get("token")
            offset = self.offset_of(token) if token else 0
            with self.lock:
                self.offsets.append(offset)
            if offset == self.fail_offset:
                body = {"code": "invalid_argument", "msg": "bad page"}
                return HttpResponse(400, {}, json.dumps(body).encode())
            limit = min(request.get("limit") or 50, self.cap)
            if self.form == "stride" and offset:
                limit = max(1, limit // 2)
            page = self.items[offset : offset + limit]
            response = {"items": page, "total_count": len(self.items)}
            if offset + len(page) < len(self.items):
                response["next_page_token"] = {"token": self.token(offset + len(page), limit)}
            return HttpResponse(200, {}, json.dumps(response).encode())
        finally:
            with self.lock:
                self.in_flight -= 1


def api_for(server, workers=8):
    client = TwirpClient("http://h", Tokens(), retries=0, transport=server)
    return PhoneNumberApi(client, list_workers=workers)


def ids(result):
    return [record["id"] for record in result.records]


def test_offset_tokens_are_fanned_out_and_every_record_comes_once_in_order():
    server = Server(2550, cap=100)
    result = api_for(server).list(page_size=1000)
    assert ids(result) == [item["id"] for item in server.items]
    assert result.pages == 26
    # Every page was asked for once: none twice, none wasted.
    assert sorted(server.offsets) == list(range(0, 2600, 100))
    assert server.most_in_flight > 1


@pytest.mark.parametrize("form", ["cursor", "stride"])
def test_other_tokens_are_followed_one_by_one_and_nothing_is_missed_or_read_twice(form):
    server = Server(2550, cap=100, form=form)
    result = api_for(server).list(page_size=1000)
    assert ids(result) == [item["id"] for item in server.items]
    assert len(set(ids(result))) == 2550
    if form == "cursor":
        assert server.most_in_flight == 1
        assert len(server.offsets) == 26


def test_stride_guesses_cost_at_most_a_round_of_workers():
    server = Server(2550, cap=100, form="stride")
    api_for(server, workers=4).list(page_size=1000)
    followed = 1 + 50 + 1  # the first page, then pages of 50
    assert len(server.offsets) <= followed + 4 + 1


def test_one_worker_reads_one_page_after_the_other():
    server = Server(1000, cap=100)
    result = api_for(server, workers=1).list(page_size=1000)
    assert len(result.records) == 1000
    assert server.most_in_flight == 1


def test_records_added_during_the_listing_are_followed_past_the_prediction():
    server = Server(1000, cap=100)
    original = server.post

    def growing(url, body, headers, timeout):
        answer = original(url, body, headers, timeout)
        with server.lock:
            if len(server.items) == 1000 and len(server.offsets) == 1:
                server.items.extend(number(i) for i in range(1000, 1050))
        return answer

    server.post = growing
    result = api_for(server).list(page_size=100)
    assert ids(result) == [item["id"] for item in server.items]


def test_a_page_asked_for_ahead_that_fails_fails_the_listing():
    server = Server(1000, cap=100, fail_offset=500)
    with pytest.raises(errors.LiveKitError) as info:
        api_for(server).list(page_size=100)
    assert "bad page" in str(info.value)


def test_a_listing_up_to_a_limit_is_not_fanned_out():
    server = Server(1000, cap=100)
    result = api_for(server).list(page_size=100, limit=250)
    assert len(result.records) == 250
    assert sorted(server.offsets) == [0, 100, 200]
    assert server.most_in_flight == 1
