"""A small client of the emulated API for the tests: requests for HTTP, PyJWT for tokens."""

from __future__ import annotations

import base64
import datetime
import json
import time

import jwt
import requests

PREFIX = "/twirp/livekit.PhoneNumberService/"
HTTP_STATUS = {
    "invalid_argument": 400,
    "malformed": 400,
    "not_found": 404,
    "bad_route": 404,
    "permission_denied": 403,
    "unauthenticated": 401,
    "resource_exhausted": 429,
    "failed_precondition": 412,
    "unavailable": 503,
    "internal": 500,
}
RECORD_FIELDS = (
    "id",
    "name",
    "e164_format",
    "country_code",
    "area_code",
    "number_type",
    "locality",
    "region",
    "spam_score",
    "created_at",
    "updated_at",
    "capabilities",
    "status",
    "inbound_status",
    "outbound_status",
    "assigned_at",
    "released_at",
    "sip_dispatch_rule_id",
    "sip_dispatch_rule_ids",
)
# What a server that predates protocol 1.52 writes: no label, no call statuses.
RECORD_FIELDS_BEFORE_1_52 = tuple(
    name for name in RECORD_FIELDS if name not in ("name", "inbound_status", "outbound_status")
)
TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6}|\.\d{9})?Z$"


def token(key, secret, ttl=600, grant=True, now=None, **claims):
    now = int(time.time() if now is None else now)
    payload = {"iss": key, "nbf": now, "iat": now, "exp": now + ttl}
    if grant:
        payload["sip"] = {"admin": True}
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")


def pick(message, name):
    """A field read the way a robust client reads it: proto name, else lowerCamelCase."""
    head, *rest = name.split("_")
    return message.get(name, message.get(head + "".join(part.capitalize() for part in rest)))


def moment(timestamp):
    return datetime.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def decode_page_token(page_token):
    raw = page_token["token"]
    return json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))


class Api:
    def __init__(self, emulator, verify=True):
        self.url = emulator.url
        self.key = emulator.api_key
        self.secret = emulator.api_secret
        self.session = requests.Session()
        self.session.trust_env = (
            False  # never route the local emulator through a proxy from the environment
        )
        self.session.verify = verify

    def token(self, **kwargs):
        return token(self.key, self.secret, **kwargs)

    def post(self, method, body=None, auth=True, headers=None, data=None, timeout=10):
        sent = {"Content-Type": "application/json"}
        if auth is True:
            sent["Authorization"] = "Bearer " + self.token()
        elif auth:
            sent["Authorization"] = auth
        sent.update(headers or {})
        if data is None:
            data = json.dumps({} if body is None else body)
        return self.session.post(
            self.url + PREFIX + method, data=data, headers=sent, timeout=timeout
        )

    def ok(self, method, body=None, **kwargs):
        response = self.post(method, body, **kwargs)
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "application/json"
        return response.json()

    def fails(self, method, body=None, code="invalid_argument", **kwargs):
        response = self.post(method, body, **kwargs)
        assert_twirp_error(response, code)
        return response.json()

    def available(self, count, country="US", area_code=None):
        body = {"country_code": country, "limit": count}
        if area_code:
            body["area_code"] = area_code
        numbers = [
            pick(item, "e164_format")
            for item in self.ok("SearchPhoneNumbers", body).get("items", [])
        ]
        assert len(numbers) == count
        return numbers

    def buy(self, count=1, rule=None, **kwargs):
        body = {"phone_numbers": self.available(count, **kwargs)}
        if rule:
            body["sip_dispatch_rule_id"] = rule
        return pick(self.ok("PurchasePhoneNumber", body), "phone_numbers")

    def get(self, number):
        return self.ok("GetPhoneNumber", {"phone_number": number})["phone_number"]

    def list_all(self, **body):
        return self.ok("ListPhoneNumbers", dict(body, limit=1000))


def assert_twirp_error(response, code):
    assert response.status_code == HTTP_STATUS[code], (response.status_code, response.text)
    assert response.headers["Content-Type"] == "application/json"
    payload = response.json()
    assert payload["code"] == code, payload
    assert isinstance(payload["msg"], str) and payload["msg"]
    assert all(isinstance(value, str) for value in payload.get("meta", {}).values())
    return payload
