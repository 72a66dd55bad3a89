"""Failures over real HTTP: credentials, grants, unavailable numbers, quota, lost answers, faults."""

from __future__ import annotations

import json

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils import _module
from ansible_collections.livekit.sip.plugins.module_utils._api import PhoneNumberApi
from ansible_collections.livekit.sip.plugins.module_utils._twirp import TwirpClient
from tests.integration.helpers import available, calls, run, run_module, writes

pytest_plugins = ["livekit_sip_emulator.fixtures"]

SECRET = "zq-distinctive-secret-value-0123456789"


class StaticToken:
    def __init__(self, token):
        self.value = token

    def token(self):
        return self.value


def no_calls(emulator):
    return sum(emulator.admin.counters()["calls"].values()) == 0


@pytest.mark.parametrize(
    "name, args",
    [
        ("phone_number_search", {"country_code": "US"}),
        ("phone_number_info", {}),
        ("phone_number", {"phone_numbers": ["+14155550100"]}),
    ],
)
def test_wrong_secret_is_unauthenticated_and_never_echoed(emulator_factory, name, args):
    emulator = emulator_factory(api_secret=SECRET)
    merged = {"url": emulator.url, "api_key": emulator.api_key, "api_secret": SECRET[::-1]}
    merged.update(args)
    result = run_module(name, merged)
    assert result["failed"] is True
    assert result["error"]["code"] == "unauthenticated"
    assert result["error"]["http_status"] == 401
    assert result["error"]["request_id"]
    assert "signature" in result["msg"] and "api_secret" in result["msg"]
    assert "\n" not in result["msg"]
    text = json.dumps(result)
    assert SECRET[::-1] not in text and SECRET not in text
    assert writes(emulator.admin.counters()) == 0


def test_unknown_api_key(emulator):
    result = run(emulator, "phone_number_info", api_key="APInobody")
    assert result["error"]["code"] == "unauthenticated"
    assert "APInobody" in result["msg"]


def test_token_without_the_sip_grant_is_permission_denied(emulator):
    token = emulator.token(sip_admin=False)
    api = PhoneNumberApi(TwirpClient(emulator.url, StaticToken(token), retries=3))
    with pytest.raises(errors.PermissionDenied) as info:
        api.list()
    assert info.value.http_status == 403
    assert "SIP admin grant" in str(info.value)
    assert info.value.attempts == 1  # never retried
    assert token not in json.dumps(info.value.to_dict())


def test_expired_token_is_unauthenticated(emulator):
    token = emulator.token(ttl=-60)
    api = PhoneNumberApi(TwirpClient(emulator.url, StaticToken(token), retries=0))
    with pytest.raises(errors.Unauthenticated) as info:
        api.search("US", limit=1)
    assert "expired" in str(info.value)


def test_invalid_number_makes_no_call(emulator):
    result = run(
        emulator,
        "phone_number",
        phone_numbers=["+14155550100", "555-0100"],
        sip_dispatch_rule_id="SDR_1",
    )
    assert result["failed"] is True
    assert "'555-0100'" in result["msg"]
    assert result["error"]["code"] == "invalid_phone_number"
    assert result["error"]["http_status"] is None
    assert no_calls(emulator)


def test_unavailable_number_fails_naming_it_and_buys_nothing(emulator):
    good = available(emulator, count=2)
    missing = "+14150000001"
    assert emulator.store.inventory.get(missing) is None
    result = run(
        emulator, "phone_number", phone_numbers=good + [missing], sip_dispatch_rule_id="SDR_1"
    )
    assert result["failed"] is True
    assert missing in result["msg"]
    assert "nothing was bought" in result["msg"]
    assert result["error"]["code"] == "not_found"
    assert result["purchased"] == []
    assert result["changed"] is False
    counters = emulator.admin.counters()
    assert counters["purchases_by_number"] == {}
    assert calls(counters, "PurchasePhoneNumber") == 1


def test_quota_reached_fails_without_retrying(emulator):
    emulator.admin.reset(quota=2)
    numbers = available(emulator, count=3)
    assert run(emulator, "phone_number", phone_numbers=numbers[:2])["changed"] is True
    emulator.admin.reset_counters()
    result = run(emulator, "phone_number", phone_numbers=numbers)
    assert result["failed"] is True
    assert "quota" in result["msg"]
    assert numbers[2] in result["msg"]
    assert result["error"]["code"] == "resource_exhausted"
    assert result["error"]["http_status"] == 429
    assert result["error"]["meta"]["quota"] == "2"
    counters = emulator.admin.counters()
    assert calls(counters, "PurchasePhoneNumber") == 1
    assert counters["purchases_by_number"] == {}


def test_lost_purchase_answer_never_buys_twice(emulator):
    numbers = available(emulator, count=2)
    emulator.admin.set_faults(script={"PurchasePhoneNumber": ["lost_response"]})
    result = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_1")
    assert "failed" not in result, result.get("msg")
    assert result["purchased"] == numbers
    counters = emulator.admin.counters()
    assert counters["faults"]["lost_response"] == 1
    assert counters["purchases_by_number"] == dict.fromkeys(numbers, 1)
    # The repeat carried the same request id, so the server answered it from its memory.
    assert counters["replays"] == 1
    again = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_1")
    assert again["changed"] is False


def test_lost_purchase_then_no_answer_at_all_is_verified_by_listing(emulator):
    numbers = available(emulator, count=2)
    emulator.admin.set_faults(
        script={"PurchasePhoneNumber": ["lost_response", "drop", "drop", "drop"]}
    )
    result = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_1")
    assert "failed" not in result, result.get("msg")
    assert result["purchased"] == numbers
    counters = emulator.admin.counters()
    assert calls(counters, "PurchasePhoneNumber") == 4
    assert counters["purchases_by_number"] == dict.fromkeys(numbers, 1)
    assert [n["status"] for n in result["phone_numbers"]] == ["active", "active"]


def test_purchase_that_never_reached_the_server_fails_naming_numbers(emulator):
    numbers = available(emulator, count=2)
    emulator.admin.set_faults(script={"PurchasePhoneNumber": ["drop"] * 4})
    # The connection is closed before an answer: whether the server got the request is unknown,
    # so after a grace of one timeout the run says that, not "nothing was bought".
    result = run(emulator, "phone_number", phone_numbers=numbers, timeout=1)
    assert result["failed"] is True
    assert all(n in result["msg"] for n in numbers)
    assert "nothing was bought" not in result["msg"]
    assert "the server may still carry out the rest" in result["msg"]
    assert result["error"]["code"] == "outcome_unknown"
    assert result["purchased"] == []
    assert emulator.admin.counters()["purchases_by_number"] == {}
    assert emulator.admin.counters()["calls"]["ListPhoneNumbers"] == 1 + 2


def test_lost_release_answer_is_verified(emulator):
    numbers = available(emulator, count=2)
    run(emulator, "phone_number", phone_numbers=numbers)
    emulator.admin.set_faults(
        script={"ReleasePhoneNumbers": ["lost_response", "drop", "drop", "drop"]}
    )
    result = run(emulator, "phone_number", phone_numbers=numbers, state="absent")
    assert "failed" not in result, result.get("msg")
    assert result["released"] == numbers


def test_lost_routing_answer_is_repeated_with_its_request_id(emulator):
    numbers = available(emulator, count=2)
    run(emulator, "phone_number", phone_numbers=numbers)
    emulator.admin.reset_counters()
    emulator.admin.set_faults(script={"UpdatePhoneNumber": ["lost_response"]})
    result = run(emulator, "phone_number", phone_numbers=numbers, sip_dispatch_rule_id="SDR_1")
    assert "failed" not in result, result.get("msg")
    assert result["routed"] == numbers
    counters = emulator.admin.counters()
    assert counters["replays"] == 1
    assert counters["writes"]["routed"] == 2
    assert calls(counters, "UpdatePhoneNumber") == 3


def test_unavailable_answers_are_retried(emulator):
    emulator.admin.set_faults(script={"ListPhoneNumbers": ["unavailable", "unavailable"]})
    result = run(emulator, "phone_number_info")
    assert "failed" not in result
    counters = emulator.admin.counters()
    assert calls(counters, "ListPhoneNumbers") == 3
    assert counters["faults"]["unavailable"] == 2


def test_retries_run_out(emulator):
    emulator.admin.set_faults(script={"SearchPhoneNumbers": ["unavailable"] * 3})
    result = run(emulator, "phone_number_search", country_code="US", retries=2)
    assert result["failed"] is True
    assert result["error"]["code"] == "unavailable"
    assert result["error"]["http_status"] == 503
    assert calls(emulator.admin.counters(), "SearchPhoneNumbers") == 3


def test_one_request_id_per_logical_call_across_retries(emulator):
    emulator.admin.set_faults(script={"PurchasePhoneNumber": ["unavailable", "unavailable"]})
    client = TwirpClient(emulator.url, StaticToken(emulator.token()), retries=3)
    number = available(emulator, count=1)[0]
    PhoneNumberApi(client).purchase([number], request_id="fixed-request-id")
    assert client.stats.as_dict()["retries"] == 2
    assert emulator.admin.counters()["purchases_by_number"] == {number: 1}


def test_connection_refused_is_a_transport_error(emulator_factory):
    stopped = emulator_factory()
    url = stopped.url
    stopped.stop()
    result = run_module(
        "phone_number_info",
        {"url": url, "api_key": "APIkey", "api_secret": "not-the-real-secret", "retries": 0},
    )
    assert result["failed"] is True
    assert result["error"]["code"] == "transport"
    assert "cannot reach" in result["msg"]


@pytest.mark.parametrize(
    "url, words",
    [
        ("my-project.livekit.cloud", "must start with"),
        ("https://my-project.livekit.cloud/twirp", "without a path"),
    ],
)
def test_bad_url_fails_naming_it(url, words):
    result = run_module(
        "phone_number_info", {"url": url, "api_key": "APIkey", "api_secret": "not-the-real-secret"}
    )
    assert result["failed"] is True
    assert words in result["msg"] and url in result["msg"]
    assert result["error"]["code"] == "config"


def test_credentials_from_the_environment(emulator, monkeypatch):
    monkeypatch.setenv("LIVEKIT_URL", emulator.url.replace("http://", "ws://") + "/")
    monkeypatch.setenv("LIVEKIT_API_KEY", emulator.api_key)
    monkeypatch.setenv("LIVEKIT_API_SECRET", emulator.api_secret)
    result = run_module("phone_number_search", {"country_code": "US", "limit": 1})
    assert len(result["phone_numbers"]) == 1


def test_missing_credentials_name_the_variable(monkeypatch):
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)
    result = run_module(
        "phone_number_info", {"url": "https://x.livekit.cloud", "api_key": "APIkey"}
    )
    assert result["failed"] is True
    assert "LIVEKIT_API_SECRET" in result["msg"]


@pytest.mark.parametrize(
    "attribute, library", [("REQUESTS_IMPORT_ERROR", "requests"), ("JWT_IMPORT_ERROR", "PyJWT")]
)
def test_missing_library_uses_the_standard_message(monkeypatch, attribute, library):
    monkeypatch.setattr(_module, attribute, "Traceback: No module named x")
    result = run_module(
        "phone_number_info",
        {
            "url": "https://x.livekit.cloud",
            "api_key": "APIkey",
            "api_secret": "not-the-real-secret",
        },
    )
    assert result["failed"] is True
    assert f"Failed to import the required Python library ({library})" in result["msg"]


def _self_signed(tmp_path):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_tls_failure_is_distinct_and_validate_certs_false_works(emulator_factory, tmp_path):
    cert, key = _self_signed(tmp_path)
    emulator = emulator_factory(tls_cert=cert, tls_key=key)
    args = {
        "url": emulator.url.replace("https://", "wss://"),
        "api_key": emulator.api_key,
        "api_secret": emulator.api_secret,
    }
    refused = run_module("phone_number_info", args)
    assert refused["failed"] is True
    assert refused["error"]["code"] == "tls"
    assert "validate_certs" in refused["msg"]
    accepted = run_module("phone_number_info", dict(args, validate_certs=False))
    assert "failed" not in accepted
    assert accepted["phone_numbers"] == []
