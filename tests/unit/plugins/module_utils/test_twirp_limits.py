"""The Twirp client's limits: the response size cap and the clock skew hint."""

from __future__ import annotations

import email.utils
import json

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._twirp import (
    MAX_RESPONSE_BYTES,
    HttpResponse,
    RequestsTransport,
    TwirpClient,
    clock_skew,
    skew_hint,
)

NOW = 1_800_000_000.0


class Tokens:
    def token(self):
        return "tok"


class Fixed:
    def __init__(self, status, body, headers=None):
        self.answer = HttpResponse(status, headers or {}, body)
        self.calls = 0

    def post(self, url, body, headers, timeout):
        self.calls += 1
        return self.answer


def client(transport, **kwargs):
    return TwirpClient("http://h", Tokens(), retries=3, transport=transport, **kwargs)


def test_the_cap_is_documented_and_generous():
    # A page of 1,000 records is about 0.6 MB.
    assert MAX_RESPONSE_BYTES == 16 * 1024 * 1024


def test_a_body_past_the_cap_fails_at_once_and_is_not_retried():
    transport = Fixed(200, b'{"items": []}' + b" " * 2000)
    with pytest.raises(errors.ResponseError) as info:
        client(transport, max_body=1000).call("ListPhoneNumbers", {})
    assert "larger than 1000 bytes" in str(info.value)
    assert transport.calls == 1
    # The same answer under the cap is fine.
    assert client(Fixed(200, b'{"items": []}'), max_body=1000).call("ListPhoneNumbers", {}) == {
        "items": []
    }


class Streamed:
    """What requests hands back with stream=True: headers and a chunked body."""

    def __init__(self, chunks, headers=None):
        self.chunks = chunks
        self.headers = headers or {}
        self.status_code = 200
        self.read = 0

    def iter_content(self, size):
        for chunk in self.chunks:
            self.read += 1
            yield chunk


def transport(max_body):
    return RequestsTransport(max_body=max_body)


def test_streamed_body_stops_reading_past_the_cap():
    answer = Streamed([b"x" * 400] * 100)
    with pytest.raises(errors.ResponseError) as info:
        transport(1000)._read(answer, "http://h/twirp/x")
    assert "(read at least 1200 bytes)" in str(info.value)
    assert answer.read == 3


def test_declared_length_past_the_cap_is_refused_before_reading():
    answer = Streamed([b"x"], headers={"content-length": "185000000"})
    with pytest.raises(errors.ResponseError) as info:
        transport(1000)._read(answer, "http://h/twirp/x")
    assert "(announced 185000000 bytes)" in str(info.value)
    assert answer.read == 0


def test_a_body_under_the_cap_is_read_whole():
    assert transport(1000)._read(Streamed([b"ab", b"cd"]), "http://h") == b"abcd"


def date(offset):
    return email.utils.formatdate(NOW + offset, usegmt=True)


@pytest.mark.parametrize("offset, skew", [(0, 0), (-65, 65), (120, -120)])
def test_clock_skew_from_the_date_header(offset, skew):
    assert clock_skew(date(offset), now=NOW) == pytest.approx(skew, abs=1)


@pytest.mark.parametrize("header", [None, "", "yesterday", "Tue, 01 Dec 2026 08:00:00"])
def test_clock_skew_unknown(header):
    assert clock_skew(header, now=NOW) is None


def test_skew_hint_only_past_the_tolerance():
    assert skew_hint(None) is None
    assert skew_hint(9.0) is None and skew_hint(-10) is None
    assert skew_hint(65).startswith("this host's clock is 65 s ahead of the server's")
    assert "30 s behind" in skew_hint(-30)


def rejected(headers):
    body = json.dumps({"code": "unauthenticated", "msg": "invalid token: token is not valid yet"})
    return Fixed(401, body.encode(), headers)


def test_a_rejected_token_with_a_skewed_clock_says_so():
    transport = rejected({"Date": email.utils.formatdate(usegmt=True, timeval=0)})
    with pytest.raises(errors.Unauthenticated) as info:
        client(transport).call("ListPhoneNumbers", {})
    assert "this host's clock is" in str(info.value) and "ahead of the server's" in str(info.value)
    assert "check api_key" not in str(info.value)


def test_a_rejected_token_with_the_clocks_in_step_names_credentials_and_the_clock():
    transport = rejected({"Date": email.utils.formatdate(usegmt=True)})
    with pytest.raises(errors.Unauthenticated) as info:
        client(transport).call("ListPhoneNumbers", {})
    text = str(info.value)
    assert "check api_key and api_secret" in text and "clock is right" in text
