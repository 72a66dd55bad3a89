"""Access tokens: claims, signature, and the cached token source."""

from __future__ import annotations

import threading

import jwt
import pytest

from ansible_collections.livekit.sip.plugins.module_utils._auth import (
    DEFAULT_TTL,
    NBF_LEEWAY,
    TokenSource,
    make_token,
    token_claims,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import ConfigError

NOW = 1757332800

# Short test secrets are fine here; PyJWT would warn on every decode.
pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is")


def test_claims_are_pure():
    assert token_claims("APIkey", NOW, ttl=300) == {
        "iss": "APIkey",
        "nbf": NOW - NBF_LEEWAY,
        "iat": NOW,
        "exp": NOW + 300,
        "sip": {"admin": True},
    }


def test_token_decodes_with_every_claim():
    token = make_token("APIkey", "s3cret-value", ttl=600, now=NOW)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    claims = jwt.decode(
        token,
        "s3cret-value",
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert claims == {
        "iss": "APIkey",
        "nbf": NOW - NBF_LEEWAY,
        "iat": NOW,
        "exp": NOW + 600,
        "sip": {"admin": True},
    }
    assert "s3cret-value" not in token


def test_token_is_short_lived_and_valid_now():
    token = make_token("APIkey", "secret")
    claims = jwt.decode(token, "secret", algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == DEFAULT_TTL <= 3600


def test_wrong_secret_fails_verification():
    token = make_token("APIkey", "secret", now=NOW)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token,
            "other-secret-of-a-good-length-32b",
            algorithms=["HS256"],
            options={"verify_exp": False},
        )


@pytest.mark.parametrize(
    "key, secret, missing",
    [
        ("", "s", "api_key"),
        (None, "s", "api_key"),
        ("k", "", "api_secret"),
        ("k", None, "api_secret"),
    ],
)
def test_missing_credentials(key, secret, missing):
    with pytest.raises(ConfigError) as info:
        make_token(key, secret)
    assert str(info.value).startswith(missing + " is missing")


class FakeClock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_source_caches_and_renews_before_expiry():
    clock = FakeClock(NOW)
    source = TokenSource("k", "s", ttl=600, clock=clock)
    first = source.token()
    assert all(source.token() == first for dummy in range(1000))
    assert source.signed == 1
    clock.now = NOW + 299
    assert source.token() == first
    clock.now = NOW + 300  # half the lifetime: renewed, long before exp
    second = source.token()
    assert second != first
    assert source.signed == 2
    claims = jwt.decode(
        second,
        "s",
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    assert claims["iat"] == NOW + 300
    # Never handed out with less than half its lifetime left.
    assert claims["exp"] - clock.now >= 300


def test_source_is_shared_by_threads_with_one_signature():
    source = TokenSource("k", "s")
    tokens = []
    barrier = threading.Barrier(8)

    def grab():
        barrier.wait()
        tokens.append(source.token())

    threads = [threading.Thread(target=grab) for dummy in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(tokens)) == 1
    assert source.signed == 1


def test_source_repr_hides_the_secret():
    source = TokenSource("APIkey", "very-secret")
    token = source.token()
    assert "very-secret" not in repr(source)
    assert token not in repr(source)
    assert "APIkey" in repr(source)
