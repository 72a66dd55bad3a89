"""The Twirp client: URL handling, retry decisions, request ids, and body decoding."""

from __future__ import annotations

import json
import random
import uuid

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._twirp import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    RETRY_AFTER_MAX,
    HttpResponse,
    TwirpClient,
    is_retryable,
    normalize_base_url,
    parse_retry_after,
    retry_delay,
)

# ---------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "given, expected",
    [
        ("https://p.livekit.cloud", "https://p.livekit.cloud"),
        ("https://p.livekit.cloud/", "https://p.livekit.cloud"),
        ("wss://p.livekit.cloud", "https://p.livekit.cloud"),
        ("WSS://P.livekit.cloud/", "https://p.livekit.cloud"),
        ("ws://127.0.0.1:7880", "http://127.0.0.1:7880"),
        ("http://localhost:7880/", "http://localhost:7880"),
        ("  https://p.livekit.cloud  ", "https://p.livekit.cloud"),
        ("ws://[::1]:7880", "http://[::1]:7880"),
    ],
)
def test_base_url(given, expected):
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize(
    "given, words",
    [
        ("p.livekit.cloud", "must start with"),
        ("ftp://p.livekit.cloud", "must start with"),
        ("https://p.livekit.cloud/twirp", "without a path"),
        ("https://p.livekit.cloud/?x=1", "without a path"),
        ("https://", "no host"),
        ("https://p.livekit.cloud:99999", "not a valid URL"),
        ("", "url is missing"),
        (None, "url is missing"),
    ],
)
def test_bad_urls_name_the_value(given, words):
    with pytest.raises(errors.ConfigError) as info:
        normalize_base_url(given)
    assert words in str(info.value)
    if given:
        assert repr(given) in str(info.value)


def test_credentials_in_url_are_refused_without_echoing_them():
    with pytest.raises(errors.ConfigError) as info:
        normalize_base_url("https://key:topsecret@p.livekit.cloud")
    assert "topsecret" not in str(info.value)


# ---------------------------------------------------------------- retry decisions


def api_error(status, code, msg="x"):
    body = json.dumps({"code": code, "msg": msg}).encode()
    return errors.error_from_response(status, body)


class FixedRng:
    def __init__(self, value):
        self.value = value

    def random(self):
        return self.value


RETRYABLE = [
    errors.TransportError("refused"),
    errors.TransportTimeout("slow"),
    api_error(503, "unavailable"),
    api_error(502, "unknown"),
    errors.error_from_response(502, b"<html>bad gateway</html>"),
    errors.error_from_response(504, b""),
    api_error(429, "resource_exhausted", "rate limit exceeded"),
    errors.error_from_response(429, b""),
    api_error(500, "unavailable"),
]

FINAL = [
    errors.TLSError("certificate verify failed"),
    api_error(400, "invalid_argument"),
    api_error(401, "unauthenticated"),
    api_error(403, "permission_denied"),
    api_error(404, "not_found"),
    api_error(412, "failed_precondition"),
    api_error(409, "already_exists"),
    api_error(500, "internal"),
    api_error(501, "unimplemented"),
    api_error(429, "resource_exhausted", "phone number quota exceeded: the project holds 5 of 5"),
    errors.ResponseError("not json"),
    errors.ConfigError("bad url"),
    ValueError("not ours"),
]


@pytest.mark.parametrize(
    "error",
    RETRYABLE,
    ids=lambda e: "{}-{}".format(type(e).__name__, getattr(e, "http_status", "")),
)
def test_retryable(error):
    assert is_retryable(error)
    assert retry_delay(1, error, retries=3, rng=FixedRng(0.5)) is not None


@pytest.mark.parametrize(
    "error", FINAL, ids=lambda e: "{}-{}".format(type(e).__name__, getattr(e, "http_status", ""))
)
def test_not_retryable(error):
    assert not is_retryable(error)
    assert retry_delay(1, error, retries=3, rng=FixedRng(0.5)) is None


def test_attempts_are_bounded_by_retries():
    error = errors.TransportError("x")
    assert retry_delay(3, error, retries=3) is not None
    assert retry_delay(4, error, retries=3) is None
    assert retry_delay(1, error, retries=0) is None


def test_backoff_doubles_and_is_capped():
    error = errors.TransportError("x")
    top = [retry_delay(n, error, retries=100, rng=FixedRng(1.0)) for n in range(1, 12)]
    assert top[:4] == [BACKOFF_BASE, BACKOFF_BASE * 2, BACKOFF_BASE * 4, BACKOFF_BASE * 8]
    assert max(top) == BACKOFF_CAP
    assert top[-1] == BACKOFF_CAP


@pytest.mark.parametrize("attempt", [1, 2, 3, 6, 20])
def test_jitter_bounds(attempt):
    error = errors.TransportError("x")
    backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))
    low = retry_delay(attempt, error, retries=100, rng=FixedRng(0.0))
    high = retry_delay(attempt, error, retries=100, rng=FixedRng(0.999999))
    assert low == pytest.approx(backoff / 2)
    assert backoff / 2 <= high <= backoff
    rng = random.Random(7)
    samples = [retry_delay(attempt, error, retries=100, rng=rng) for dummy in range(200)]
    assert all(backoff / 2 <= s <= backoff for s in samples)
    assert len(set(samples)) > 100  # really random


@pytest.mark.parametrize(
    "header, expected",
    [
        (2, 2.0),
        (0, 0.0),
        (-5, 0.0),
        (29.5, 29.5),
        (30, 30.0),
        (31, RETRY_AFTER_MAX),
        (86400, RETRY_AFTER_MAX),
    ],
)
def test_retry_after_is_honoured_and_clamped(header, expected):
    error = api_error(429, "resource_exhausted", "rate limit exceeded")
    assert retry_delay(1, error, retries=3, retry_after=header, rng=FixedRng(0.5)) == expected


def test_retry_after_does_not_make_a_final_error_retryable():
    assert retry_delay(1, api_error(400, "invalid_argument"), retries=3, retry_after=1) is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
    ],
)
def test_parse_retry_after(value, expected):
    now = 1445412480.0  # 07:28:00 that day
    assert parse_retry_after(value, now=now) == expected


# ---------------------------------------------------------------- the client, over a fake transport


class Tokens:
    def token(self):
        return "tok"


class ScriptedTransport:
    """Answers from a script; each entry is an HttpResponse or an exception to raise."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests = []

    def post(self, url, body, headers, timeout):
        self.requests.append(
            {"url": url, "body": json.loads(body), "headers": dict(headers), "timeout": timeout}
        )
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def ok(payload):
    return HttpResponse(200, {"Content-Type": "application/json"}, json.dumps(payload).encode())


def fail(status, code, msg="x", headers=None):
    return HttpResponse(status, headers or {}, json.dumps({"code": code, "msg": msg}).encode())


def client(transport, retries=3):
    sleeps = []
    c = TwirpClient(
        "wss://p.livekit.cloud/",
        Tokens(),
        timeout=7,
        retries=retries,
        sleep=sleeps.append,
        rng=FixedRng(0.0),
        transport=transport,
    )
    return c, sleeps


def test_call_posts_json_with_headers():
    transport = ScriptedTransport(ok({"items": []}))
    c, sleeps = client(transport)
    assert c.call("ListPhoneNumbers", {"limit": 5}) == {"items": []}
    sent = transport.requests[0]
    assert (
        sent["url"] == "https://p.livekit.cloud/twirp/livekit.PhoneNumberService/ListPhoneNumbers"
    )
    assert sent["body"] == {"limit": 5}
    assert sent["headers"]["Authorization"] == "Bearer tok"
    assert sent["headers"]["Content-Type"] == "application/json"
    assert (
        str(uuid.UUID(sent["headers"]["X-Livekit-Request-Id"]))
        == sent["headers"]["X-Livekit-Request-Id"]
    )
    assert sent["timeout"] == 7
    assert sleeps == []
    assert c.stats.as_dict() == {
        "calls": 1,
        "attempts": 1,
        "retries": 0,
        "by_method": {"ListPhoneNumbers": 1},
    }


def test_one_request_id_across_retries_and_a_new_one_per_call():
    transport = ScriptedTransport(
        errors.TransportError("reset"),
        fail(503, "unavailable"),
        fail(502, "unknown"),
        ok({"a": 1}),
        ok({"b": 2}),
    )
    c, sleeps = client(transport)
    assert c.call("PurchasePhoneNumber", {"phone_numbers": ["+14155550100"]}) == {"a": 1}
    ids = [r["headers"]["X-Livekit-Request-Id"] for r in transport.requests]
    assert len(ids) == 4 and len(set(ids)) == 1
    assert sleeps == [BACKOFF_BASE / 2, BACKOFF_BASE, BACKOFF_BASE * 2]
    c.call("ListPhoneNumbers", {})
    assert transport.requests[-1]["headers"]["X-Livekit-Request-Id"] != ids[0]
    assert c.stats.as_dict()["retries"] == 3
    assert c.stats.as_dict()["attempts"] == 5


def test_caller_supplied_request_id_is_used():
    transport = ScriptedTransport(ok({}))
    c, dummy = client(transport)
    c.call("ReleasePhoneNumbers", {"ids": ["PN_1"]}, request_id="my-id")
    assert transport.requests[0]["headers"]["X-Livekit-Request-Id"] == "my-id"


def test_rate_limit_honours_retry_after():
    transport = ScriptedTransport(
        fail(429, "resource_exhausted", "rate limit exceeded", {"Retry-After": "2"}),
        ok({"ok": True}),
    )
    c, sleeps = client(transport)
    assert c.call("UpdatePhoneNumber", {}) == {"ok": True}
    assert sleeps == [2.0]


def test_gives_up_after_retries_with_the_last_error():
    transport = ScriptedTransport(*([fail(503, "unavailable", "down")] * 3))
    c, sleeps = client(transport, retries=2)
    with pytest.raises(errors.Unavailable) as info:
        c.call("ListPhoneNumbers", {})
    assert len(transport.requests) == 3
    assert len(sleeps) == 2
    assert info.value.attempts == 3
    assert info.value.request_id == transport.requests[0]["headers"]["X-Livekit-Request-Id"]


def test_client_errors_are_not_retried():
    transport = ScriptedTransport(fail(403, "permission_denied", "token lacks the sip.admin grant"))
    c, sleeps = client(transport)
    with pytest.raises(errors.PermissionDenied) as info:
        c.call("ListPhoneNumbers", {})
    assert sleeps == []
    assert info.value.attempts == 1
    assert len(transport.requests) == 1


def test_quota_is_not_retried():
    transport = ScriptedTransport(
        fail(429, "resource_exhausted", "phone number quota exceeded", {"Retry-After": "1"})
    )
    c, sleeps = client(transport)
    with pytest.raises(errors.ResourceExhausted):
        c.call("PurchasePhoneNumber", {})
    assert sleeps == []


def test_tls_errors_are_not_retried():
    transport = ScriptedTransport(errors.TLSError("certificate verify failed"))
    c, sleeps = client(transport)
    with pytest.raises(errors.TLSError):
        c.call("ListPhoneNumbers", {})
    assert sleeps == []


@pytest.mark.parametrize(
    "body, words",
    [
        (b'{"items": [{"id": "PN_1"', "not JSON"),
        (b"<html>hello</html>", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2]", "not an object"),
        (b"\xff\xfe", "not JSON"),
    ],
)
def test_bad_success_bodies_raise_a_typed_error(body, words):
    transport = ScriptedTransport(HttpResponse(200, {}, body))
    c, sleeps = client(transport)
    with pytest.raises(errors.ResponseError) as info:
        c.call("ListPhoneNumbers", {})
    assert words in str(info.value)
    assert info.value.http_status == 200
    assert info.value.request_id
    assert sleeps == []


def test_html_502_page_then_success():
    transport = ScriptedTransport(
        HttpResponse(502, {"Content-Type": "text/html"}, b"<html>502</html>"), ok({})
    )
    c, sleeps = client(transport)
    assert c.call("GetPhoneNumber", {}) == {}
    assert len(sleeps) == 1


def test_messages_never_contain_the_token():
    class Secretive:
        def token(self):
            return "eyJ.secret.token"

    transport = ScriptedTransport(fail(401, "unauthenticated", "invalid token"))
    c = TwirpClient("https://h", Secretive(), retries=0, transport=transport)
    with pytest.raises(errors.Unauthenticated) as info:
        c.call("ListPhoneNumbers", {})
    assert "eyJ.secret.token" not in json.dumps(info.value.to_dict())
