"""PhoneNumberApi over a real TwirpClient and a fake transport that pages like a server."""

from __future__ import annotations

import json

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._api import PhoneNumberApi
from ansible_collections.livekit.sip.plugins.module_utils._twirp import HttpResponse, TwirpClient


class Tokens:
    def token(self):
        return "tok"


def number(i, status="PHONE_NUMBER_STATUS_ACTIVE"):
    return {"id": "PN_%03d" % i, "e164_format": "+1415555%04d" % i, "status": status}


class PagingServer:
    """A transport whose List/Search answers come in pages with opaque tokens.

    ``token_style`` picks how the end is marked: absent field, null, or an empty token.
    """

    def __init__(
        self, items, max_page=1000, token_style="absent", camel=False, total=None, old=False
    ):
        self.items = items
        self.max_page = max_page
        self.token_style = token_style
        self.camel = camel
        self.total = len(items) if total is None else total
        self.old = old
        self.requests = []

    def post(self, url, body, headers, timeout):
        method = url.rsplit("/", 1)[-1]
        request = json.loads(body)
        self.requests.append((method, request))
        offset = 0
        if "page_token" in request:
            offset = int(request["page_token"]["token"].split(":")[1])
        limit = min(request.get("limit") or 50, self.max_page)
        page = self.items[offset : offset + limit]
        response = {"items": page}
        more = offset + len(page) < len(self.items)
        if more and not self.old:
            response["next_page_token"] = {"token": "opaque:%d:zz" % (offset + len(page))}
        elif self.token_style == "null":
            response["next_page_token"] = None
        elif self.token_style == "empty":
            response["next_page_token"] = {"token": ""}
        if method == "ListPhoneNumbers":
            response["total_count"] = self.total
            if not self.old:
                response["offline_count"] = sum(
                    1 for i in self.items if i["status"].endswith("OFFLINE")
                )
        if self.camel:
            response = {
                {
                    "next_page_token": "nextPageToken",
                    "total_count": "totalCount",
                    "offline_count": "offlineCount",
                }.get(k, k): v
                for k, v in response.items()
            }
        return HttpResponse(200, {}, json.dumps(response).encode())


def api_for(transport):
    return PhoneNumberApi(TwirpClient("http://h", Tokens(), retries=0, transport=transport))


@pytest.mark.parametrize("style", ["absent", "null", "empty"])
@pytest.mark.parametrize("camel", [False, True])
def test_list_follows_tokens_to_the_end(style, camel):
    items = [number(i) for i in range(23)] + [
        number(i, "PHONE_NUMBER_STATUS_OFFLINE") for i in range(23, 25)
    ]
    server = PagingServer(items, token_style=style, camel=camel)
    result = api_for(server).list(page_size=10)
    assert [r["id"] for r in result.records] == [i["id"] for i in items]
    assert result.pages == 3
    assert result.total_count == 25
    assert result.offline_count == 2
    tokens = [req.get("page_token") for dummy, req in server.requests]
    assert tokens == [None, {"token": "opaque:10:zz"}, {"token": "opaque:20:zz"}]
    assert all(req["limit"] == 10 for dummy, req in server.requests)


def test_list_server_page_cap_is_followed():
    server = PagingServer([number(i) for i in range(12)], max_page=5)
    result = api_for(server).list(page_size=500)
    assert len(result.records) == 12
    assert result.pages == 3


def test_list_limit_stops_early_and_asks_only_what_is_needed():
    server = PagingServer([number(i) for i in range(30)])
    result = api_for(server).list(limit=12, page_size=5)
    assert len(result.records) == 12
    assert [req["limit"] for dummy, req in server.requests] == [5, 5, 2]


def test_list_filters_are_sent_as_numbers_and_rule():
    server = PagingServer([])
    api_for(server).list(statuses=["active", "pending", "offline"], sip_dispatch_rule_id="SDR_1")
    method, request = server.requests[0]
    assert method == "ListPhoneNumbers"
    assert request["statuses"] == [1, 2, 4]
    assert request["sip_dispatch_rule_id"] == "SDR_1"


def test_repeated_token_raises_instead_of_looping():
    class Stuck(PagingServer):
        def post(self, url, body, headers, timeout):
            self.requests.append(json.loads(body))
            if len(self.requests) > 10:
                raise AssertionError("looping")
            page = {"items": [number(len(self.requests))], "next_page_token": {"token": "same"}}
            return HttpResponse(200, {}, json.dumps(page).encode())

    with pytest.raises(errors.PaginationError) as info:
        api_for(Stuck([])).list()
    assert "'same'" in str(info.value)


def test_endless_empty_pages_raise():
    class Empty(PagingServer):
        def post(self, url, body, headers, timeout):
            self.requests.append(json.loads(body))
            if len(self.requests) > 10:
                raise AssertionError("looping")
            page = {"items": [], "next_page_token": {"token": "t%d" % len(self.requests)}}
            return HttpResponse(200, {}, json.dumps(page).encode())

    with pytest.raises(errors.PaginationError):
        api_for(Empty([])).list()


def test_old_server_without_tokens_is_not_truncated_silently():
    server = PagingServer([number(i) for i in range(80)], max_page=50, old=True)
    with pytest.raises(errors.PaginationError) as info:
        api_for(server).list(page_size=500)
    assert "50 of 80" in str(info.value)


def test_old_server_with_everything_on_one_page_is_fine():
    server = PagingServer([number(i) for i in range(30)], old=True)
    result = api_for(server).list(page_size=500)
    assert len(result.records) == 30
    assert result.offline_count == 0


def test_search_pages_until_limit():
    items = [dict(number(i), status="PHONE_NUMBER_STATUS_UNSPECIFIED", id="") for i in range(200)]
    server = PagingServer(items, max_page=20)
    records = api_for(server).search("us", area_code="415", limit=55, page_size=50)
    assert len(records) == 55
    assert [req.get("limit") for dummy, req in server.requests] == [
        50,
        35,
        15,
    ]  # pages of 20: the server's cap
    assert server.requests[0][1]["country_code"] == "US"
    assert server.requests[0][1]["area_code"] == "415"
    assert all(r["status"] == "unspecified" for r in records)


def test_search_stops_when_tokens_end():
    server = PagingServer([number(i) for i in range(7)], max_page=3)
    assert len(api_for(server).search("US", limit=50)) == 7
    assert len(server.requests) == 3


def test_search_alpha3_country_is_reported_as_asked():
    class Alpha3(PagingServer):
        pass

    server = Alpha3([dict(number(1), country_code="USA"), dict(number(2), country_code="US")])
    records = api_for(server).search("US")
    assert [r["country_code"] for r in records] == ["US", "US"]


class OneShot:
    """Answers every call with the same response and records the requests."""

    def __init__(self, status=200, payload=None):
        self.status = status
        self.payload = payload if payload is not None else {}
        self.requests = []

    def post(self, url, body, headers, timeout):
        self.requests.append((url.rsplit("/", 1)[-1], json.loads(body), headers))
        return HttpResponse(self.status, {}, json.dumps(self.payload).encode())


def test_get_returns_none_on_not_found():
    transport = OneShot(404, {"code": "not_found", "msg": "phone number not found"})
    assert api_for(transport).get(phone_number="+14155550100") is None
    assert transport.requests[0][1] == {"phone_number": "+14155550100"}


def test_get_by_id_normalises_camel():
    transport = OneShot(
        200,
        {
            "phoneNumber": {
                "id": "PN_1",
                "e164Format": "+14155550100",
                "status": "PHONE_NUMBER_STATUS_OFFLINE",
            }
        },
    )
    record = api_for(transport).get(id="PN_1")
    assert record["e164_format"] == "+14155550100" and record["status"] == "offline"
    assert transport.requests[0][1] == {"id": "PN_1"}


def test_purchase_update_release_requests():
    transport = OneShot(
        200,
        {"phone_numbers": [number(1, "PHONE_NUMBER_STATUS_PENDING")], "phone_number": number(1)},
    )
    api = api_for(transport)
    bought = api.purchase(["+14155550001"], sip_dispatch_rule_id="SDR_1", request_id="rid")
    assert bought[0]["status"] == "pending"
    api.purchase(["+14155550001"])
    api.update("SDR_2", phone_number="+14155550001")
    api.update("SDR_3", id="PN_001")
    api.release(phone_numbers=["+14155550001"])
    sent = [(m, body) for m, body, dummy in transport.requests]
    assert sent == [
        (
            "PurchasePhoneNumber",
            {"phone_numbers": ["+14155550001"], "sip_dispatch_rule_id": "SDR_1"},
        ),
        ("PurchasePhoneNumber", {"phone_numbers": ["+14155550001"]}),
        ("UpdatePhoneNumber", {"phone_number": "+14155550001", "sip_dispatch_rule_id": "SDR_2"}),
        ("UpdatePhoneNumber", {"id": "PN_001", "sip_dispatch_rule_id": "SDR_3"}),
        ("ReleasePhoneNumbers", {"phone_numbers": ["+14155550001"]}),
    ]
    assert transport.requests[0][2]["X-Livekit-Request-Id"] == "rid"
