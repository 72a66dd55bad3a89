from __future__ import annotations

import time
import uuid

import jwt
import pytest

from livekit_sip_emulator import make_token

from .helpers import Api, assert_twirp_error, token


def test_a_valid_token_with_the_sip_admin_grant_is_accepted(api):
    assert api.post("ListPhoneNumbers", {}, auth="Bearer " + api.token()).status_code == 200
    assert api.post("ListPhoneNumbers", {}, auth="bearer " + api.token()).status_code == 200


def test_the_package_token_helper_signs_tokens_pyjwt_verifies(emulator):
    signed = make_token(emulator.api_key, emulator.api_secret, ttl=60)
    claims = jwt.decode(signed, emulator.api_secret, algorithms=["HS256"])
    assert claims["iss"] == emulator.api_key and claims["sip"] == {"admin": True}
    assert claims["exp"] - claims["nbf"] == 60
    assert (
        Api(emulator).post("ListPhoneNumbers", {}, auth="Bearer " + emulator.token()).status_code
        == 200
    )


@pytest.mark.parametrize(
    "header", [None, "", "Basic ZGV2a2V5OnNlY3JldA==", "Bearer", "Bearer not-a-jwt", "Bearer a.b.c"]
)
def test_missing_or_garbled_headers_are_unauthenticated(api, header):
    response = api.post(
        "ListPhoneNumbers",
        {},
        auth=False,
        headers={} if header is None else {"Authorization": header},
    )
    assert_twirp_error(response, "unauthenticated")


def test_a_bad_signature_is_unauthenticated(api):
    forged = token(api.key, "not-the-secret")
    assert (
        "signature"
        in api.fails("ListPhoneNumbers", {}, "unauthenticated", auth="Bearer " + forged)["msg"]
    )
    good = api.token()
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    api.fails("ListPhoneNumbers", {}, "unauthenticated", auth="Bearer " + tampered)


def test_an_unknown_key_is_unauthenticated(api):
    stranger = token("otherkey", api.secret)
    assert (
        "otherkey"
        in api.fails("ListPhoneNumbers", {}, "unauthenticated", auth="Bearer " + stranger)["msg"]
    )
    api.fails(
        "ListPhoneNumbers", {}, "unauthenticated", auth="Bearer " + make_token(None, api.secret)
    )
    api.fails(
        "ListPhoneNumbers",
        {},
        "unauthenticated",
        auth="Bearer " + make_token(["devkey"], api.secret),
    )


def test_expiry_is_checked_with_a_small_leeway(api):
    now = int(time.time())
    expired = token(api.key, api.secret, now=now - 700, ttl=600)
    assert (
        "expired"
        in api.fails("ListPhoneNumbers", {}, "unauthenticated", auth="Bearer " + expired)["msg"]
    )
    just_expired = token(api.key, api.secret, now=now - 605, ttl=600)
    assert api.post("ListPhoneNumbers", {}, auth="Bearer " + just_expired).status_code == 200


def test_not_before_is_checked_with_a_small_leeway(api):
    now = int(time.time())
    future = token(api.key, api.secret, now=now + 60)
    api.fails("ListPhoneNumbers", {}, "unauthenticated", auth="Bearer " + future)
    soon = token(api.key, api.secret, now=now + 4)
    assert api.post("ListPhoneNumbers", {}, auth="Bearer " + soon).status_code == 200


def test_other_algorithms_are_refused(api):
    unsigned = jwt.encode(
        {"iss": api.key, "exp": int(time.time()) + 60, "sip": {"admin": True}},
        None,
        algorithm="none",
    )
    api.fails("ListPhoneNumbers", {}, "unauthenticated", auth="Bearer " + unsigned)
    longer = jwt.encode(
        {"iss": api.key, "exp": int(time.time()) + 60, "sip": {"admin": True}},
        api.secret,
        algorithm="HS512",
    )
    api.fails("ListPhoneNumbers", {}, "unauthenticated", auth="Bearer " + longer)


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"sip": {"admin": False}},
        {"sip": {"call": True}},
        {"sip": True},
        {"video": {"roomAdmin": True}},
    ],
)
def test_a_token_without_the_sip_admin_grant_is_permission_denied(api, claims):
    signed = token(api.key, api.secret, grant=False, **claims)
    api.fails(
        "PurchasePhoneNumber",
        {"phone_numbers": api.available(1)},
        "permission_denied",
        auth="Bearer " + signed,
    )
    assert api.list_all()["total_count"] == 0


def test_extra_keys_are_accepted(emulator_factory):
    emulator = emulator_factory(
        api_key="primary",
        api_secret="primary-secret-0123456789abcdef01",
        extra_keys={"second": "second-secret-0123456789abcdef012"},
    )
    api = Api(emulator)
    assert api.post("ListPhoneNumbers", {}).status_code == 200
    second = token("second", "second-secret-0123456789abcdef012")
    assert api.post("ListPhoneNumbers", {}, auth="Bearer " + second).status_code == 200
    api.fails("ListPhoneNumbers", {}, "unauthenticated", auth="Bearer " + token("devkey", "secret"))


def test_auth_failures_are_not_remembered_under_the_request_id(api):
    request_id = str(uuid.uuid4())
    number = api.available(1)
    api.fails(
        "PurchasePhoneNumber",
        {"phone_numbers": number},
        "unauthenticated",
        auth="Bearer x",
        headers={"X-Livekit-Request-Id": request_id},
    )
    bought = api.ok(
        "PurchasePhoneNumber",
        {"phone_numbers": number},
        headers={"X-Livekit-Request-Id": request_id},
    )
    assert bought["phone_numbers"][0]["e164_format"] == number[0]
