# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every error the collection's client code raises, and the one table of their codes.

The client layers never call ``fail_json``: they raise one of these, and the module glue turns
it into ``fail_json(msg=..., error=exc.to_dict())``. Every error carries a ``code`` (the Twirp
code of the server's answer, or one of the collection's own codes below), the HTTP status when
there was one, and the request id, so that an operator can quote it to support.

Codes of the collection (``error.code`` in a failed task's result):

=====================  ======================  ============================================
code                   class                   meaning
=====================  ======================  ============================================
config                 ConfigError             unusable settings: URL, credentials, timeout
invalid_parameter      ParameterError          an option's value; nothing was sent
invalid_phone_number   InvalidPhoneNumber      a number that is not E.164; nothing was sent
transport              TransportError          no HTTP answer (refused, reset, DNS)
timeout                TransportTimeout        no answer within ``timeout`` seconds
tls                    TLSError                the certificate could not be verified
malformed_response     ResponseError           a 2xx answer that is not the promised JSON
pagination             PaginationError         page tokens that loop or stop early
incomplete_listing     IncompleteListing       a listing that cannot be shown complete
write_mismatch         WriteMismatch           a write did less than asked, listing agrees
outcome_unknown        OutcomeUnknown          a write that may still happen; list first
plan                   PlanError               the entries cannot be reached as asked
unknown_id             UnknownIds              ``ids`` the project does not hold
purchase_limit         PurchaseLimitExceeded   the spend guard (``max_purchase``) tripped
pool_shortfall         PoolShortfall           a pool's search offered too few numbers
number_unavailable     NumberUnavailable       a number an entry names is not for sale
wait_timeout           WaitTimeout             numbers still pending after ``wait_timeout``
label_ignored          LabelIgnored            the server answered a label update unchanged
=====================  ======================  ============================================

An answer of the server keeps its Twirp code (``not_found``, ``resource_exhausted``, ...; see
``TWIRP_STATUS``) and is raised as the ApiError subclass of ``_CLASS_BY_CODE``. A StepError (a
write that failed part-way) takes the code of the error that caused it.
"""

from __future__ import annotations

import json
import re
from typing import Dict, Iterable, List, Optional

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
    "unauthenticated": (
        "check api_key and api_secret (LIVEKIT_API_KEY, LIVEKIT_API_SECRET), and that this "
        "host's clock is right: a token is refused when the clocks differ by more than 10 s"
    ),
    "permission_denied": "the API key needs the SIP admin grant",
    "bad_route": "check url: it must point at the LiveKit project, not at a proxy or a path",
}


class LiveKitError(Exception):
    """Base of every error the collection's client code raises."""

    default_code = "unknown"

    def __init__(
        self,
        message: str,
        code: Optional[str] = None,
        http_status: Optional[int] = None,
        meta: Optional[Dict[str, str]] = None,
        request_id: Optional[str] = None,
        hint: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.http_status = http_status
        self.meta = dict(meta or {})
        self.request_id = request_id
        self.hint = hint
        # How many HTTP attempts the client made before giving up (None: no request sent).
        self.attempts: Optional[int] = None

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text

    def to_dict(self) -> Dict[str, object]:
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


class PlanError(LiveKitError):
    """The desired state cannot be reached without breaking a rule the user set."""

    default_code = "plan"


class IncompleteListing(PlanError):
    """The project's listing cannot be shown complete (records read twice or missed), so no
    pool is filled and no unlisted number released on it."""

    default_code = "incomplete_listing"


class UnknownIds(PlanError):
    default_code = "unknown_id"


class PurchaseLimitExceeded(PlanError):
    default_code = "purchase_limit"


class PoolShortfall(PlanError):
    """A pool cannot be filled from what the service offers; nothing is bought for it."""

    default_code = "pool_shortfall"


class NumberUnavailable(PlanError):
    """A number an entry names explicitly is not for sale; it has no replacement."""

    default_code = "number_unavailable"


class StepError(LiveKitError):
    """A write failed for some numbers; ``done`` lists the ones it did change.

    The code, status and request id are those of ``cause``, the error of the failed call.
    """

    def __init__(
        self,
        message: str,
        cause: Optional[LiveKitError] = None,
        done: Optional[Iterable[str]] = None,
        failed: Optional[Iterable[str]] = None,
    ) -> None:
        kwargs = {}
        if cause is not None:
            kwargs = {
                "code": cause.code,
                "http_status": cause.http_status,
                "meta": cause.meta,
                "request_id": cause.request_id,
            }
        super().__init__(message, **kwargs)
        self.cause = cause
        self.done: List[str] = list(done or [])
        self.failed: List[str] = list(failed or [])


class OutcomeUnknown(StepError):
    """A write may or may not have happened, and the project's numbers do not show which yet.

    Its own code, not the cause's: the cause (a timeout, a cut connection) says why there was
    no answer, this says what the user must do about it (list before running again).
    """

    default_code = "outcome_unknown"

    def __init__(self, message: str, cause: Optional[LiveKitError] = None, **kwargs) -> None:
        super().__init__(message, cause=cause, **kwargs)
        self.code = self.default_code


class WriteMismatch(StepError):
    """A write answered success but did less than asked, as the project's numbers confirm."""

    default_code = "write_mismatch"

    def __init__(self, message: str, cause: Optional[LiveKitError] = None, **kwargs) -> None:
        super().__init__(message, cause=cause, **kwargs)
        self.code = self.default_code


class LabelIgnored(ResponseError):
    """The server answered an UpdatePhoneNumber that set a label with the label unchanged.

    Servers that predate protocol 1.52 do not know ``UpdatePhoneNumberRequest.name`` and, as
    protojson does with unknown fields, ignore it: each run would set the label again.
    """

    default_code = "label_ignored"


class WaitTimeout(LiveKitError):
    default_code = "wait_timeout"

    def __init__(self, message: str, pending: Iterable[str]) -> None:
        super().__init__(message)
        self.pending: List[str] = list(pending)


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


def code_for_status(http_status: Optional[int]) -> str:
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


def error_from_response(
    http_status: Optional[int],
    body: object,
    request_id: Optional[str] = None,
    method: Optional[str] = None,
) -> ApiError:
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


# Twirp codes with which a purchase refuses numbers that are no longer for sale.
NOT_AVAILABLE_CODES = ("failed_precondition", "not_found", "already_exists", "aborted")
_E164_IN_TEXT = re.compile(r"\+[0-9]{8,15}")


def refused_numbers(error: Optional[LiveKitError], requested: Iterable[str]) -> List[str]:
    """The requested numbers a refused purchase says are not for sale, or [] for other errors.

    The numbers are read from the error's ``numbers`` meta when the server sends it, else from
    its message; only numbers of the request count. The server's text is not a contract, which
    is why this reading lives here, beside the other readings of the server's errors.
    """
    if error is None or error.code not in NOT_AVAILABLE_CODES:
        return []
    named = set()
    for key in ("numbers", "phone_numbers", "phone_number"):
        named.update(part.strip() for part in str(error.meta.get(key, "")).split(","))
    named.update(_E164_IN_TEXT.findall(str(error)))
    return [number for number in requested if number in named]
