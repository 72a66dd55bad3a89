"""Mapping of error answers (Twirp JSON or not) to typed exceptions."""

from __future__ import annotations

import json

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._errors import error_from_response

HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def twirp(code, msg, meta=None):
    body = {"code": code, "msg": msg}
    if meta is not None:
        body["meta"] = meta
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "code, cls",
    [
        ("invalid_argument", errors.InvalidArgument),
        ("malformed", errors.InvalidArgument),
        ("not_found", errors.NotFound),
        ("bad_route", errors.BadRoute),
        ("already_exists", errors.AlreadyExists),
        ("permission_denied", errors.PermissionDenied),
        ("unauthenticated", errors.Unauthenticated),
        ("resource_exhausted", errors.ResourceExhausted),
        ("failed_precondition", errors.FailedPrecondition),
        ("unavailable", errors.Unavailable),
        ("internal", errors.Internal),
        ("aborted", errors.ApiError),
    ],
)
def test_twirp_body_gives_code_message_and_class(code, cls):
    exc = error_from_response(
        errors.TWIRP_STATUS[code],
        twirp(code, "it went wrong", {"numbers": "+1"}),
        request_id="rid-1",
        method="PurchasePhoneNumber",
    )
    assert exc.__class__ is cls
    assert exc.code == code
    assert exc.http_status == errors.TWIRP_STATUS[code]
    assert exc.meta == {"numbers": "+1"}
    assert exc.request_id == "rid-1"
    assert "it went wrong" in str(exc)
    assert "PurchasePhoneNumber" in str(exc)
    assert exc.to_dict() == {
        "code": code,
        "message": str(exc),
        "http_status": errors.TWIRP_STATUS[code],
        "request_id": "rid-1",
        "meta": {"numbers": "+1"},
    }


def test_twirp_code_wins_over_http_status():
    exc = error_from_response(500, twirp("not_found", "gone"))
    assert exc.code == "not_found"
    assert exc.http_status == 500


@pytest.mark.parametrize(
    "status, code",
    [
        (401, "unauthenticated"),
        (403, "permission_denied"),
        (404, "bad_route"),
        (429, "unavailable"),
        (502, "unavailable"),
        (503, "unavailable"),
        (504, "unavailable"),
        (500, "internal"),
        (501, "internal"),
        (400, "unknown"),
        (418, "unknown"),
        (409, "unknown"),
    ],
)
@pytest.mark.parametrize(
    "body",
    [HTML_502, b"", b'{"code": "unavai', b"[1, 2]", b'{"msg": "no code"}', b"\xff\xfe", None],
)
def test_non_twirp_bodies_are_mapped_by_status(status, code, body):
    exc = error_from_response(status, body, request_id="rid")
    assert exc.code == code
    assert exc.http_status == status
    assert "HTTP %d" % status in str(exc)
    assert "nginx" not in str(exc)
    assert isinstance(exc, errors.ApiError)


def test_hints_for_auth_errors():
    exc = error_from_response(
        401, twirp("unauthenticated", "invalid token: signature verification failed")
    )
    assert "api_secret" in str(exc)
    exc = error_from_response(403, twirp("permission_denied", "token lacks the sip.admin grant"))
    assert "SIP admin grant" in str(exc)


def test_meta_values_become_strings():
    exc = error_from_response(429, twirp("resource_exhausted", "quota", {"quota": 5, "held": 5}))
    assert exc.meta == {"quota": "5", "held": "5"}


def test_tls_error_explains_validate_certs():
    exc = errors.TLSError("certificate verify failed")
    assert exc.code == "tls"
    assert isinstance(exc, errors.TransportError)
    assert "validate_certs" in str(exc)
    assert exc.to_dict()["message"] == str(exc)


def test_client_side_codes():
    assert errors.ConfigError("x").code == "config"
    assert errors.InvalidPhoneNumber("x").code == "invalid_phone_number"
    assert errors.TransportError("x").code == "transport"
    assert errors.TransportTimeout("x").code == "timeout"
    assert errors.ResponseError("x").code == "malformed_response"
    assert errors.TransportError("x").to_dict()["http_status"] is None
