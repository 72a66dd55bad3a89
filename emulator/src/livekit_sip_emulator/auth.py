"""LiveKit access tokens: HS256 JWTs whose issuer is the API key."""

from __future__ import annotations

import binascii
import json
import time

import jwt
from jwt.algorithms import HMACAlgorithm
from jwt.utils import base64url_decode, base64url_encode

from .wire import TwirpError

LEEWAY_SECONDS = 10
# Signing through the algorithm object: jwt.encode/jwt.decode warn about short secrets such as the
# development default "secret", and silencing warnings is not thread-safe inside a server.
_HS256 = HMACAlgorithm(HMACAlgorithm.SHA256)
# The times are checked here against the emulator's clock (which clock_offset may set apart).
_CLAIM_CHECKS = {
    "verify_signature": False,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
}


def _segment(data):
    return base64url_encode(json.dumps(data, separators=(",", ":")).encode())


def make_token(api_key, api_secret, ttl=600, sip_admin=True, now=None, **claims):
    """A token as the server SDKs sign it; extra claims override the defaults (for negative tests)."""
    issued = int(time.time() if now is None else now)
    payload = {"iss": api_key, "nbf": issued, "iat": issued, "exp": issued + int(ttl)}
    if sip_admin:
        payload["sip"] = {"admin": True}
    payload.update(claims)
    signing_input = _segment({"alg": "HS256", "typ": "JWT"}) + b"." + _segment(payload)
    signature = _HS256.sign(signing_input, _HS256.prepare_key(api_secret))
    return (signing_input + b"." + base64url_encode(signature)).decode("ascii")


def _unauthenticated(msg):
    return TwirpError("unauthenticated", msg)


def _time(claims, name):
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _unauthenticated(f"invalid token: {name} must be a number")
    return value


class Authenticator:
    def __init__(self, keys, clock=time.time):
        self.keys = dict(keys)
        self.clock = clock

    def check(self, header):
        """Raise the Twirp error the service answers for this Authorization header, if any."""
        if not header:
            raise _unauthenticated("missing authorization header")
        scheme, _sep, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _unauthenticated("authorization header is not a bearer token")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise _unauthenticated(f"invalid token: {exc}") from exc
        if header.get("alg") != "HS256":
            raise _unauthenticated(
                "invalid token: algorithm {!r} is not HS256".format(header.get("alg"))
            )
        api_key = unverified.get("iss")
        secret = self.keys.get(api_key) if isinstance(api_key, str) else None
        if secret is None:
            raise _unauthenticated(f"invalid token: unknown API key {api_key!r}")
        signing_input, _dot, encoded_signature = token.rpartition(".")
        try:
            signature = base64url_decode(encoded_signature)
        except (binascii.Error, ValueError):
            signature = b""
        if not _HS256.verify(signing_input.encode(), _HS256.prepare_key(secret), signature):
            raise _unauthenticated("invalid token: signature verification failed")
        try:
            claims = jwt.decode(token, options=_CLAIM_CHECKS)
        except jwt.PyJWTError as exc:
            raise _unauthenticated(f"invalid token: {exc}") from exc
        now = self.clock()
        expires = _time(claims, "exp")
        if expires is not None and now > expires + LEEWAY_SECONDS:
            raise _unauthenticated("invalid token: token has expired")
        for name in ("nbf", "iat"):
            moment = _time(claims, name)
            if moment is not None and now < moment - LEEWAY_SECONDS:
                raise _unauthenticated(
                    "invalid token: token is not valid yet (nbf/iat in the future)"
                )
        grant = claims.get("sip")
        if not isinstance(grant, dict) or grant.get("admin") is not True:
            raise TwirpError("permission_denied", "token lacks the sip.admin grant")
