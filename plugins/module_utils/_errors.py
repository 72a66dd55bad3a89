# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors raised by the API client.

The client layers never call ``fail_json``: they raise one of these, and the module glue turns
it into ``fail_json(msg=..., error=exc.to_dict())``. Every error carries the Twirp ``code`` (or
a client-side code such as ``transport`` or ``config``), the HTTP status when there was one,
and the request id, so that an operator can quote it to support.
"""

from __future__ import annotations

import json

# Twirp code -> HTTP status, as the generated Twirp server writes them.
TWIRP_STATUS = {
    "canceled": 408,
    "unknown": 500,
    "invalid_argument": 400,
    "malformed": 400,
    "deadline_exceeded": 408,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "unauthenticated": 401,
    "resource_exhausted": 429,
    "failed_precondition": 412,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "dataloss": 500,
}

# How Twirp clients read a response that is not Twirp JSON (a proxy's HTML page, an empty
# body): by the HTTP status alone.
_STATUS_FALLBACK = {
    401: "unauthenticated",
    403: "permission_denied",
    404: "bad_route",
    429: "unavailable",
    502: "unavailable",
    503: "unavailable",
    504: "unavailable",
}

# Short explanations appended to messages where the raw server text rarely tells an operator
# what to do next.
_HINTS = {
    "unauthenticated": "check api_key and api_secret (LIVEKIT_API_KEY, LIVEKIT_API_SECRET)",
    "permission_denied": "the API key needs the SIP admin grant",
    "bad_route": "check url: it must point at the LiveKit project, not at a proxy or a path",
}


class LiveKitError(Exception):
    """Base of every error the collection's client code raises."""

    default_code = "unknown"

    def __init__(self, message, code=None, http_status=None, meta=None, request_id=None, hint=None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.http_status = http_status
        self.meta = dict(meta or {})
        self.request_id = request_id
        self.hint = hint
        # How many HTTP attempts the client made before giving up (None: no request sent).
        self.attempts = None

    def __str__(self):
        text = self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text

    def to_dict(self):
        """The ``error`` value modules return: plain JSON types only."""
        return {
            "code": self.code,
            "message": str(self),
            "http_status": self.http_status,
            "request_id": self.request_id,
            "meta": dict(self.meta),
        }


class ConfigError(LiveKitError):
    """The module's own settings are unusable (bad URL, missing credentials)."""

    default_code = "config"


class ParameterError(LiveKitError):
    """A module option has a value the module cannot use; raised before any API call."""

    default_code = "invalid_parameter"


class InvalidPhoneNumber(ParameterError):
    """A phone number given by the user is not E.164; raised before any API call."""

    default_code = "invalid_phone_number"


class TransportError(LiveKitError):
    """No HTTP answer at all: connection refused, DNS failure, timeout, reset."""

    default_code = "transport"


class TransportTimeout(TransportError):
    default_code = "timeout"


class TLSError(TransportError):
    """Certificate or handshake failure; kept apart because the fix is different."""

    default_code = "tls"

    def __init__(self, message, **kwargs):
        kwargs.setdefault(
            "hint",
            "the server certificate could not be verified; fix the certificate chain, or set "
            "validate_certs=false only for a trusted test endpoint",
        )
        super().__init__(message, **kwargs)


class ResponseError(LiveKitError):
    """A 2xx answer whose body is not the JSON object the protocol promises."""

    default_code = "malformed_response"


class PaginationError(ResponseError):
    """The server's page tokens would make us loop, or it stopped before the end."""

    default_code = "pagination"


class ApiError(LiveKitError):
    """The server answered with an error; ``code`` is the Twirp code."""


class InvalidArgument(ApiError):
    default_code = "invalid_argument"


class NotFound(ApiError):
    default_code = "not_found"


class BadRoute(ApiError):
    default_code = "bad_route"


class AlreadyExists(ApiError):
    default_code = "already_exists"


class PermissionDenied(ApiError):
    default_code = "permission_denied"


class Unauthenticated(ApiError):
    default_code = "unauthenticated"


class ResourceExhausted(ApiError):
    default_code = "resource_exhausted"


class FailedPrecondition(ApiError):
    default_code = "failed_precondition"


class Unavailable(ApiError):
    default_code = "unavailable"


class Internal(ApiError):
    default_code = "internal"


_CLASS_BY_CODE = {
    "invalid_argument": InvalidArgument,
    "malformed": InvalidArgument,
    "out_of_range": InvalidArgument,
    "not_found": NotFound,
    "bad_route": BadRoute,
    "already_exists": AlreadyExists,
    "permission_denied": PermissionDenied,
    "unauthenticated": Unauthenticated,
    "resource_exhausted": ResourceExhausted,
    "failed_precondition": FailedPrecondition,
    "unavailable": Unavailable,
    "internal": Internal,
    "dataloss": Internal,
    "unknown": Internal,
}


def code_for_status(http_status):
    """The Twirp code a client assumes for a non-Twirp body with this HTTP status."""
    if http_status in _STATUS_FALLBACK:
        return _STATUS_FALLBACK[http_status]
    if http_status is not None and 500 <= http_status < 600:
        return "internal"
    return "unknown"


def _parse_twirp_body(body):
    """Return (code, msg, meta) when body is a Twirp error object, else None."""
    if not body:
        return None
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    code = data.get("code")
    if not isinstance(code, str) or not code:
        return None
    msg = data.get("msg")
    if not isinstance(msg, str):
        msg = ""
    meta = data.get("meta")
    if not isinstance(meta, dict):
        meta = {}
    return code, msg, {str(k): str(v) for k, v in meta.items()}


def error_from_response(http_status, body, request_id=None, method=None):
    """Build the typed error for a non-2xx answer.

    A Twirp JSON body gives the code and message; anything else (an HTML page from a proxy, an
    empty body, truncated JSON) is mapped by the HTTP status, as Twirp clients do.
    """
    parsed = _parse_twirp_body(body)
    where = f" from {method}" if method else ""
    if parsed is not None:
        code, msg, meta = parsed
        message = "{}{}: {}".format(code, where, msg or "(no message)")
    else:
        code = code_for_status(http_status)
        meta = {}
        message = f"{code}{where}: HTTP {http_status} with a body that is not a Twirp error"
    cls = _CLASS_BY_CODE.get(code, ApiError)
    return cls(
        message,
        code=code,
        http_status=http_status,
        meta=meta,
        request_id=request_id,
        hint=_HINTS.get(code),
    )
