# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Access tokens for the server API.

A token is a JWT signed with HS256 and the API secret: ``iss`` is the API key, and the grant
``sip.admin`` allows the phone number service. The official SDKs sign one valid for hours;
here tokens live minutes, so a leaked one (in a proxy log, a debug dump) is soon useless, and a
cached source renews them before expiry so that long runs never send a stale one.
"""

from __future__ import annotations

import threading
import time
import warnings

from ansible_collections.livekit.sip.plugins.module_utils._errors import ConfigError

try:
    import jwt
except ImportError:  # the module glue reports the missing library with missing_required_lib
    jwt = None

DEFAULT_TTL = 600
# Clock skew between this host and the server: nbf is back-dated by this much.
NBF_LEEWAY = 10
# A cached token is replaced once less than this share of its lifetime is left.
RENEW_FRACTION = 0.5


def token_claims(api_key, now, ttl=DEFAULT_TTL):
    """The claims of a SIP admin token for ``api_key`` issued at ``now`` (epoch seconds)."""
    now = int(now)
    return {
        "iss": api_key,
        "nbf": now - NBF_LEEWAY,
        "iat": now,
        "exp": now + int(ttl),
        "sip": {"admin": True},
    }


def make_token(api_key, api_secret, ttl=DEFAULT_TTL, now=None):
    """Sign a SIP admin token. Raises ConfigError when a credential is missing."""
    if not api_key:
        raise ConfigError("api_key is missing: set the api_key option or LIVEKIT_API_KEY")
    if not api_secret:
        raise ConfigError("api_secret is missing: set the api_secret option or LIVEKIT_API_SECRET")
    if jwt is None:
        raise ConfigError("the PyJWT library is needed to sign access tokens")
    claims = token_claims(api_key, time.time() if now is None else now, ttl)
    with warnings.catch_warnings():
        # Recent PyJWT warns about secrets shorter than 32 bytes. The secret is whatever the
        # project was issued (local development servers use short ones); a warning on the
        # module's stderr would only clutter the output without a way for the user to act.
        warnings.filterwarnings("ignore", message="The HMAC key is")
        token = jwt.encode(claims, api_secret, algorithm="HS256")
    # PyJWT 1.x returned bytes.
    if isinstance(token, bytes):
        token = token.decode("ascii")
    return token


class TokenSource:
    """Hands out a cached token, signing a new one when the current is past half its life.

    Safe to share between threads: the lock makes one thread sign while others wait, instead of
    every thread signing its own.
    """

    def __init__(self, api_key, api_secret, ttl=DEFAULT_TTL, clock=time.time):
        self._api_key = api_key
        self._api_secret = api_secret
        self._ttl = int(ttl)
        self._clock = clock
        self._lock = threading.Lock()
        self._token = None
        self._renew_at = 0.0
        self.signed = 0

    def __repr__(self):
        # Never show the secret or the token in tracebacks or debug output.
        return f"TokenSource(api_key={self._api_key!r})"

    def token(self):
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._renew_at:
                self._token = make_token(self._api_key, self._api_secret, self._ttl, now=now)
                self._renew_at = now + self._ttl * RENEW_FRACTION
                self.signed += 1
            return self._token
