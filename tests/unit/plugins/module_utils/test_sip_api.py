"""SipApi over a real TwirpClient and a fake transport that pages by after_id like a server."""

from __future__ import annotations

import json

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    PaginationError,
    ResponseError,
)
from ansible_collections.livekit.sip.plugins.module_utils._sip_api import SipApi
from ansible_collections.livekit.sip.plugins.module_utils._twirp import HttpResponse, TwirpClient


class Tokens:
    def token(self):
        return "tok"


def rule(i, name=None):
    return {
        "sip_dispatch_rule_id": "SDR_%03d" % i,
        "name": name or "rule-%d" % i,
        "rule": {"dispatch_rule_direct": {"room_name": "r%d" % i}},
    }


class RuleServer:
    """ListSIPDispatchRule by after_id, with pages capped at ``cap`` whatever the limit asked."""

    def __init__(self, items, cap=1000, answer=None):
        self.items = sorted(items, key=lambda r: r["sip_dispatch_rule_id"])
        self.cap = cap
        self.answer = answer
        self.requests = []

    def post(self, url, body, headers, timeout):
        request = json.loads(body)
        self.requests.append((url, request))
        if self.answer is not None:
            response = self.answer(request)
        elif request.get("dispatch_rule_ids"):
            index = {r["sip_dispatch_rule_id"]: r for r in self.items}
            response = {"items": [index.get(i, {}) for i in request["dispatch_rule_ids"]]}
        else:
            page = request.get("page") or {}
            after = page.get("after_id", "")
            limit = min(page.get("limit") or 1000, self.cap)
            newer = [r for r in self.items if r["sip_dispatch_rule_id"] > after]
            response = {"items": newer[:limit]}
        return HttpResponse(200, {}, json.dumps(response).encode())


def api(server):
    return SipApi(
        TwirpClient("http://example.test", Tokens(), transport=server, sleep=lambda s: None)
    )


def test_listing_uses_the_sip_service_and_reads_past_short_pages():
    server = RuleServer([rule(i) for i in range(1, 8)], cap=3)
    sip = api(server)
    found = sip.list(page_size=5)
    assert [r["id"] for r in found] == ["SDR_%03d" % i for i in range(1, 8)]
    # Pages of 3, 3, 1 (all short of the 5 asked for), then the empty page that ends it.
    assert [req["page"] for _u, req in server.requests] == [
        {"after_id": "", "limit": 5},
        {"after_id": "SDR_003", "limit": 5},
        {"after_id": "SDR_006", "limit": 5},
        {"after_id": "SDR_007", "limit": 5},
    ]
    assert all(u.endswith("/twirp/livekit.SIP/ListSIPDispatchRule") for u, _r in server.requests)
    assert sip.pages == 4


def test_an_empty_project_takes_one_call():
    server = RuleServer([])
    assert api(server).list() == []
    assert len(server.requests) == 1


def test_a_page_repeating_a_rule_is_reported_not_looped_over():
    def answer(request):
        return {"items": [rule(1), rule(2)]}  # ignores after_id

    with pytest.raises(PaginationError) as caught:
        api(RuleServer([], answer=answer)).list()
    assert "SDR_001" in str(caught.value) and "2 rules read" in str(caught.value)


def test_a_rule_without_id_stops_the_listing():
    with pytest.raises(PaginationError):
        api(RuleServer([], answer=lambda r: {"items": [{"name": "x"}]})).list()


def test_lookup_by_ids_keeps_the_order_and_gives_none_for_missing_rules():
    server = RuleServer([rule(1), rule(2)])
    found = api(server).get_records(["SDR_002", "SDR_404", "SDR_001"])
    assert [r.rule["id"] if r else None for r in found] == ["SDR_002", None, "SDR_001"]
    assert server.requests[0][1] == {"dispatch_rule_ids": ["SDR_002", "SDR_404", "SDR_001"]}


def test_lookup_answering_another_rule_or_too_few_items_is_an_error():
    with pytest.raises(ResponseError):
        api(RuleServer([], answer=lambda r: {"items": [rule(5)]})).get_record("SDR_001")
    with pytest.raises(ResponseError):
        api(RuleServer([], answer=lambda r: {"items": []})).get_record("SDR_001")


def test_camel_case_lists_are_read_too():
    server = RuleServer(
        [],
        answer=lambda r: {
            "items": [{"sipDispatchRuleId": "SDR_1", "name": "n"}]
            if not r["page"]["after_id"]
            else []
        },
    )
    assert [r["id"] for r in api(server).list()] == ["SDR_1"]


def test_writes_answer_a_rule_record():
    server = RuleServer([], answer=lambda r: rule(7))
    record = api(server).call_planned("CreateSIPDispatchRule", {"dispatch_rule": {}})
    assert record.rule["id"] == "SDR_007" and record.raw["name"] == "rule-7"
    assert server.requests[0][0].endswith("/twirp/livekit.SIP/CreateSIPDispatchRule")
    with pytest.raises(ResponseError):
        api(RuleServer([], answer=lambda r: {})).delete("SDR_1")
