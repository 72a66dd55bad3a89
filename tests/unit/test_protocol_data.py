"""The protocol's field lists (tests/data/protocol, made by scripts/protocol_fields.py) and the
client: every request the collection sends holds only fields the protocol defines."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._api import PhoneNumberApi
from ansible_collections.livekit.sip.plugins.module_utils._records import (
    INBOUND_NUMBERS,
    INBOUND_PREFIX,
    OUTBOUND_NUMBERS,
    OUTBOUND_PREFIX,
    RECORD_FIELDS,
    STATUS_NUMBERS,
    STATUS_PREFIX,
    TYPE_NUMBERS,
    TYPE_PREFIX,
)
from ansible_collections.livekit.sip.plugins.module_utils._twirp import HttpResponse, TwirpClient

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "data", "protocol")


def load(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as handle:
        return json.load(handle)


PHONE = load("livekit_phone_number.json")
MODELS = load("livekit_models.json")


def script():
    spec = importlib.util.spec_from_file_location(
        "protocol_fields", os.path.join(ROOT, "scripts", "protocol_fields.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SNIPPET = """
export const Colour = proto3.makeEnum("x.Colour", [
    {no: 0, name: "COLOUR_UNSPECIFIED"},
    {no: 2, name: "COLOUR_RED", localName: "RED"},
  ],
);
export const Paint = proto3.makeMessageType(
  "x.Paint",
  () => [
    { no: 1, name: "colour", kind: "enum", T: proto3.getEnumType(Colour) },
    { no: 3, name: "layer_ids", kind: "scalar", T: 9 /* ScalarType.STRING */, repeated: true },
    { no: 4, name: "thick", kind: "scalar", T: 5 /* ScalarType.INT32 */, opt: true },
    { no: 5, name: "sub", kind: "message", T: Other, oneof: "choice" },
  ],
);
export const Empty = proto3.makeMessageType(
  "x.Empty",
  [],
);
"""


def test_the_script_reads_messages_and_enums():
    data = script().extract(SNIPPET)
    assert data["enums"] == {"x.Colour": {"COLOUR_UNSPECIFIED": 0, "COLOUR_RED": 2}}
    assert data["messages"]["x.Empty"] == []
    paint = {f["name"]: f for f in data["messages"]["x.Paint"]}
    assert list(paint) == ["colour", "layer_ids", "thick", "sub"]
    assert paint["layer_ids"]["json_name"] == "layerIds" and paint["layer_ids"]["repeated"]
    assert paint["thick"]["optional"] and paint["thick"]["type"] == "int32"
    assert paint["colour"]["type"] == "Colour" and paint["colour"]["kind"] == "enum"
    assert paint["sub"]["oneof"] == "choice" and paint["sub"]["type"] == "Other"


def test_the_stored_data_is_the_1_52_protocol():
    assert PHONE["version"] == "1.52.1" and PHONE["package"] == "@livekit/protocol"
    update = [f["name"] for f in PHONE["messages"]["livekit.UpdatePhoneNumberRequest"]]
    assert update == ["id", "phone_number", "sip_dispatch_rule_id", "name"]
    assert [f["name"] for f in MODELS["messages"]["livekit.TokenPagination"]] == ["token"]


def test_records_know_every_phone_number_field():
    wire = {f["name"] for f in PHONE["messages"]["livekit.PhoneNumber"]}
    assert {name for name, dummy in RECORD_FIELDS} == wire


@pytest.mark.parametrize(
    "enum, prefix, numbers",
    [
        ("livekit.PhoneNumberStatus", STATUS_PREFIX, STATUS_NUMBERS),
        ("livekit.PhoneNumberType", TYPE_PREFIX, TYPE_NUMBERS),
        ("livekit.PhoneNumberInboundStatus", INBOUND_PREFIX, INBOUND_NUMBERS),
        ("livekit.PhoneNumberOutboundStatus", OUTBOUND_PREFIX, OUTBOUND_NUMBERS),
    ],
)
def test_enums_match_the_protocol(enum, prefix, numbers):
    assert {prefix + short.upper(): no for short, no in numbers.items()} == PHONE["enums"][enum]


def request_fields(method):
    fields = PHONE["messages"]["livekit.%sRequest" % method]
    return {f["name"]: f for f in fields}


class Recorder:
    """Answers every call with an empty message; the first page of a listing promises a second."""

    def __init__(self):
        self.requests = []

    def post(self, url, body, headers, timeout):
        method = url.rsplit("/", 1)[-1]
        request = json.loads(body)
        self.requests.append((method, request))
        answer = {}
        if method in ("SearchPhoneNumbers", "ListPhoneNumbers") and "page_token" not in request:
            answer = {"items": [{"e164_format": "+1415555%04d" % len(self.requests)}]}
            answer["next_page_token"] = {"token": "next"}
        return HttpResponse(200, {}, json.dumps(answer).encode())


class Tokens:
    def token(self):
        return "tok"


def exercise(api):
    api.search("US", area_code="415", limit=3)
    api.search_matching("US", lambda r: True, area_code="415", limit=3)
    api.list(statuses=["active", "offline"], sip_dispatch_rule_id="SDR_1", limit=5)
    api.get(id="PN_1")
    api.get(phone_number="+14155550100")
    api.purchase(["+14155550100"], sip_dispatch_rule_id="SDR_1", request_id="r1")
    api.update("SDR_1", id="PN_1")
    api.update("SDR_1", phone_number="+14155550100")
    api.update("SDR_1", id="PN_1", name="Support line")
    api.update(None, id="PN_1", name="")
    api.release(ids=["PN_1"], phone_numbers=["+14155550101"])


def check(method, request):
    allowed = request_fields(method)
    assert set(request) <= set(allowed), (method, request)
    for name, value in request.items():
        spec = allowed[name]
        if spec["repeated"]:
            assert isinstance(value, list), (method, name)
        elif spec["kind"] == "message":
            token_fields = [f["name"] for f in MODELS["messages"]["livekit.TokenPagination"]]
            assert set(value) <= set(token_fields), (method, name)


def test_every_request_the_client_sends_holds_only_protocol_fields():
    recorder = Recorder()
    exercise(PhoneNumberApi(TwirpClient("http://h", Tokens(), retries=0, transport=recorder)))
    methods = {method for method, dummy in recorder.requests}
    assert methods == {
        "SearchPhoneNumbers",
        "ListPhoneNumbers",
        "GetPhoneNumber",
        "PurchasePhoneNumber",
        "UpdatePhoneNumber",
        "ReleasePhoneNumbers",
    }
    assert any("page_token" in request for dummy, request in recorder.requests)
    for method, request in recorder.requests:
        check(method, request)


def test_updates_send_the_label_and_the_rule_only_when_given():
    recorder = Recorder()
    api = PhoneNumberApi(TwirpClient("http://h", Tokens(), retries=0, transport=recorder))
    api.update("SDR_1", id="PN_1", name="Support line")
    api.update(None, id="PN_1", name="")
    api.update("SDR_2", phone_number="+14155550100")
    assert [request for dummy, request in recorder.requests] == [
        {"id": "PN_1", "sip_dispatch_rule_id": "SDR_1", "name": "Support line"},
        {"id": "PN_1", "name": ""},
        {"phone_number": "+14155550100", "sip_dispatch_rule_id": "SDR_2"},
    ]


def test_the_check_catches_a_field_the_protocol_lacks():
    with pytest.raises(AssertionError):
        check("UpdatePhoneNumber", {"id": "PN_1", "sip_dispatch_rule_ids": ["SDR_1"]})
