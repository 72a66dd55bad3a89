# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Twirp JSON client with retries, for the LiveKit server API.

Layers: a transport sends one HTTP POST and reports what came back (or raises a
TransportError); ``TwirpClient.call`` turns answers into dicts or typed errors and decides about
retries with the pure ``retry_delay``. Nothing here knows about Ansible.
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import re
import threading
import time
import uuid
from urllib.parse import urlsplit

from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    ConfigError,
    LiveKitError,
    ResponseError,
    TLSError,
    TransportError,
    TransportTimeout,
    error_from_response,
)
from ansible_collections.livekit.sip.plugins.module_utils._version import COLLECTION_VERSION

try:
    import requests
except ImportError:  # the module glue reports the missing library with missing_required_lib
    requests = None

SERVICE = "livekit.PhoneNumberService"
SERVICE_PREFIX = f"/twirp/{SERVICE}/"
REQUEST_ID_HEADER = "X-Livekit-Request-Id"
USER_AGENT = f"livekit.sip-ansible/{COLLECTION_VERSION}"

# Backoff: 0.2 s doubling, at most 5 s per wait; Retry-After is obeyed up to 30 s.
BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0
RETRY_AFTER_MAX = 30.0
RETRY_STATUSES = (429, 502, 503, 504)
# The largest response body read: a page of 1,000 numbers is about 0.6 MB, so 16 MiB leaves room
# for any answer the protocol defines while a broken server or proxy cannot fill the memory.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
# Tokens are valid from this many seconds before they are signed (see _auth.NBF_LEEWAY); a
# server whose clock differs by more rejects them.
CLOCK_SKEW_TOLERANCE = 10

_SCHEMES = {"https": "https", "http": "http", "wss": "https", "ws": "http"}


def normalize_base_url(url):
    """``wss://p.livekit.cloud/`` -> ``https://p.livekit.cloud``; ConfigError when unusable.

    The project URL is usually kept in its WebSocket form (``LIVEKIT_URL``); the server API is
    the same host over HTTP(S), as the SDKs do it.
    """
    if not url or not isinstance(url, str):
        raise ConfigError("url is missing: set the url option or LIVEKIT_URL")
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port  # validates the port
    except ValueError as exc:
        raise ConfigError(f"url {url!r} is not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise ConfigError(
            f"url {url!r} must start with https://, http://, wss:// or ws:// (for example "
            "wss://my-project.livekit.cloud)"
        )
    if not parts.hostname:
        raise ConfigError(f"url {url!r} has no host name")
    if parts.username or parts.password:
        raise ConfigError(
            f"url {_without_userinfo(parts)!r} must not contain credentials; use api_key and api_secret"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(
            f"url {url!r} must be the project URL alone, without a path, query or fragment"
        )
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None else "%s:%d" % (host, port)
    return f"{_SCHEMES[scheme]}://{netloc}"


def _without_userinfo(parts):
    return "{}://{}{}".format(parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path)


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if moment is None:
            return None
        seconds = moment.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):
        return None
    return seconds


def clock_skew(date_header, now=None):
    """Seconds this host's clock is ahead of the server's (negative: behind), or None.

    Read from the HTTP ``Date`` header of an answer, which has whole seconds only.
    """
    if not date_header:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(str(date_header))
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return (time.time() if now is None else now) - moment.timestamp()


def skew_hint(skew, tolerance=CLOCK_SKEW_TOLERANCE):
    """The hint for a rejected token when the clocks differ by more than ``tolerance`` s."""
    if skew is None or abs(skew) <= tolerance:
        return None
    return (
        "this host's clock is %d s %s the server's (its Date header), more than the %d s a token "
        "allows; set the clock right (NTP), the credentials may well be fine"
        % (abs(skew), "ahead of" if skew > 0 else "behind", tolerance)
    )


def is_retryable(error):
    """Whether a failed attempt may be repeated at all."""
    if isinstance(error, TLSError):
        # A certificate problem does not heal within seconds.
        return False
    if isinstance(error, TransportError):
        return True
    if not isinstance(error, LiveKitError):
        return False
    if error.http_status == 429:
        # Rate limiting passes; a plan's quota does not, so the server's word "quota" ends it.
        return "quota" not in (error.message or "").lower()
    if error.http_status in RETRY_STATUSES:
        return True
    return error.code == "unavailable"


def retry_delay(
    attempt,
    error,
    retries,
    retry_after=None,
    rng=random,
    base=BACKOFF_BASE,
    cap=BACKOFF_CAP,
    retry_after_max=RETRY_AFTER_MAX,
):
    """Seconds to wait before the next attempt, or None to give up.

    ``attempt`` is the 1-based number of the attempt that just failed; ``retries`` how many
    repeats are allowed after the first attempt. A server's Retry-After is honoured, clamped to
    ``0..retry_after_max``; otherwise the wait doubles from ``base`` up to ``cap`` and a random
    share of up to half of it is taken off ("equal jitter"), so that parallel workers that
    failed together do not retry together.
    """
    if attempt > retries or not is_retryable(error):
        return None
    if retry_after is not None:
        return min(max(float(retry_after), 0.0), float(retry_after_max))
    backoff = min(float(cap), float(base) * (2 ** (attempt - 1)))
    return backoff / 2.0 + rng.random() * backoff / 2.0


class HttpResponse:
    """What a transport hands back: status, headers (lower-cased names) and raw body."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {str(k).lower(): v for k, v in (headers or {}).items()}
        self.body = body or b""


class RequestsTransport:
    """POST with ``requests``; one Session per thread, since a Session is not thread-safe."""

    def __init__(self, validate_certs=True, max_body=MAX_RESPONSE_BYTES):
        if requests is None:
            raise ConfigError("the requests library is needed to call the server")
        self.validate_certs = validate_certs
        self.max_body = max_body
        self._local = threading.local()
        if not validate_certs:
            # The user turned verification off on purpose; a warning per request on the
            # module's stderr would add nothing.
            requests.packages.urllib3.disable_warnings(
                requests.packages.urllib3.exceptions.InsecureRequestWarning
            )

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def post(self, url, body, headers, timeout):
        try:
            # verify is passed per request: a Session-level setting loses against
            # REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE from the environment, which would quietly
            # turn validate_certs=false back on.
            answer = self._session().post(
                url,
                data=body,
                headers=headers,
                timeout=timeout,
                verify=self.validate_certs,
                stream=True,
            )
            try:
                content = self._read(answer, url)
            finally:
                answer.close()
        except requests.exceptions.SSLError as exc:
            raise TLSError(f"TLS error talking to {url}: {_reason(exc)}") from exc
        except requests.exceptions.Timeout as exc:
            raise TransportTimeout(
                f"no answer from {url} within {timeout} s: {_reason(exc)}"
            ) from exc
        except requests.exceptions.InvalidURL as exc:
            raise ConfigError(f"url is not usable: {_reason(exc)}") from exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise TransportError(f"cannot reach {url}: {_reason(exc)}") from exc
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"request to {url} failed: {_reason(exc)}") from exc
        return HttpResponse(answer.status_code, answer.headers, content)

    def _read(self, answer, url):
        """The body, read in chunks and refused once it grows past ``max_body``."""
        declared = answer.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise body_too_large(url, int(declared), self.max_body, answer.status_code, "announced")
        chunks = []
        size = 0
        for chunk in answer.iter_content(64 * 1024):
            size += len(chunk)
            if size > self.max_body:
                raise body_too_large(url, size, self.max_body, answer.status_code)
            chunks.append(chunk)
        return b"".join(chunks)


def body_too_large(url, size, limit, status, how="read"):
    """The error for an answer past the cap (MAX_RESPONSE_BYTES unless the client says less)."""
    return ResponseError(
        "the answer from %s is larger than %d bytes (%s %d bytes), more than any answer of the "
        "protocol; stopped reading it (a proxy or a broken server?)"
        % (url, limit, "announced" if how == "announced" else "read at least", size),
        http_status=status,
    )


def _reason(exc):
    """The innermost useful text of a requests/urllib3 exception, on one line.

    requests wraps urllib3's errors, which wrap the socket's or the TLS library's; the outer
    layers only add the pool's repr and the URL, which the message gives already.
    """
    inner = exc
    for _dummy in range(6):
        reason = getattr(inner, "reason", None)
        if isinstance(reason, BaseException):
            inner = reason
        elif inner.args and isinstance(inner.args[0], BaseException):
            inner = inner.args[0]
        else:
            break
    text = str(inner) or inner.__class__.__name__
    text = re.sub(r"^<[^>]*>:\s*", "", text)
    return " ".join(text.split())


class CallStats:
    """Counters of calls, attempts and retries; shared by threads, so locked."""

    def __init__(self):
        self._lock = threading.Lock()
        self.calls = 0
        self.attempts = 0
        self.retries = 0
        self.by_method = {}

    def add(self, method, attempts):
        with self._lock:
            self.calls += 1
            self.attempts += attempts
            self.retries += attempts - 1
            self.by_method[method] = self.by_method.get(method, 0) + 1

    def as_dict(self):
        with self._lock:
            return {
                "calls": self.calls,
                "attempts": self.attempts,
                "retries": self.retries,
                "by_method": dict(self.by_method),
            }


class TwirpClient:
    """Calls Twirp methods (``livekit.PhoneNumberService`` unless told otherwise); thread-safe."""

    def __init__(
        self,
        base_url,
        token_source,
        timeout=10,
        retries=3,
        validate_certs=True,
        sleep=time.sleep,
        rng=random,
        transport=None,
        max_body=MAX_RESPONSE_BYTES,
    ):
        self.base_url = normalize_base_url(base_url)
        self.token_source = token_source
        self.timeout = timeout
        self.retries = max(int(retries), 0)
        self.sleep = sleep
        self.rng = rng
        self.max_body = max_body
        if transport is None:
            transport = RequestsTransport(validate_certs, max_body=max_body)
        self.transport = transport
        self.stats = CallStats()

    def call(self, method, payload, request_id=None, timeout=None, service=None):
        """POST ``payload`` to ``method``; the decoded JSON object, or a LiveKitError.

        One request id serves every attempt of this logical call, so that a server can
        recognise a replay. Raised errors carry ``attempts`` (how many were made). ``service``
        names another Twirp service of the same server (``livekit.SIP``).
        """
        request_id = request_id or str(uuid.uuid4())
        prefix = SERVICE_PREFIX if service is None else f"/twirp/{service}/"
        url = self.base_url + prefix + method
        body = json.dumps(payload or {}, separators=(",", ":")).encode("utf-8")
        attempt = 0
        while True:
            attempt += 1
            headers = {
                "Authorization": f"Bearer {self.token_source.token()}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
                REQUEST_ID_HEADER: request_id,
            }
            retry_after = None
            try:
                answer = self.transport.post(url, body, headers, timeout or self.timeout)
                if len(answer.body) > self.max_body:
                    raise body_too_large(url, len(answer.body), self.max_body, answer.status)
                if 200 <= answer.status < 300:
                    result = _decode(answer, method, request_id)
                    self.stats.add(method, attempt)
                    return result
                retry_after = parse_retry_after(answer.headers.get("retry-after"))
                error = error_from_response(answer.status, answer.body, request_id, method)
                if error.code == "unauthenticated":
                    error.hint = skew_hint(clock_skew(answer.headers.get("date"))) or error.hint
                raise error
            except LiveKitError as exc:
                if exc.request_id is None:
                    exc.request_id = request_id
                delay = retry_delay(attempt, exc, self.retries, retry_after, self.rng)
                if delay is None:
                    exc.attempts = attempt
                    self.stats.add(method, attempt)
                    raise
            self.sleep(delay)


def _decode(answer, method, request_id):
    try:
        data = json.loads(answer.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ResponseError(
            "%s answered HTTP %s with a body that is not JSON (%d bytes; truncated or from a "
            "proxy?)" % (method, answer.status, len(answer.body)),
            http_status=answer.status,
            request_id=request_id,
        ) from None
    if not isinstance(data, dict):
        raise ResponseError(
            f"{method} answered HTTP {answer.status} with JSON that is not an object",
            http_status=answer.status,
            request_id=request_id,
        )
    return data
