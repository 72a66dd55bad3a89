"""Predicting offset page tokens (_pagetoken), without a server."""

from __future__ import annotations

import base64
import json

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _pagetoken


def offset_token(offset, limit, padded=True, separators=(",", ":"), first="offset"):
    data = (
        {"offset": offset, "limit": limit}
        if first == "offset"
        else {"limit": limit, "offset": offset}
    )
    token = base64.urlsafe_b64encode(json.dumps(data, separators=separators).encode()).decode()
    return token if padded else token.rstrip("=")


@pytest.mark.parametrize("padded", [True, False])
@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")])
@pytest.mark.parametrize("first", ["offset", "limit"])
def test_offset_tokens_are_predicted_in_the_form_the_server_writes(padded, separators, first):
    def make(offset):
        return offset_token(offset, 100, padded, separators, first)

    assert _pagetoken.following(make(100), 100, 350) == [make(100), make(200), make(300)]


def test_the_last_page_may_be_short_and_nothing_follows_a_single_page():
    assert _pagetoken.following(offset_token(1000, 1000), 1000, 1001) == [offset_token(1000, 1000)]
    assert _pagetoken.following(offset_token(1000, 1000), 1000, 1000) == []
    assert _pagetoken.following(offset_token(1000, 1000), 1000, None) == []


@pytest.mark.parametrize(
    "token",
    [
        "opaque:100:zz",
        "",
        None,
        base64.urlsafe_b64encode(b'{"cursor": "PN_123"}').decode(),
        base64.urlsafe_b64encode(b'{"offset": 100, "limit": 100, "after": "PN_1"}').decode(),
        base64.urlsafe_b64encode(b'{"offset": "100", "limit": 100}').decode(),
        base64.urlsafe_b64encode(b'{"offset": true, "limit": 100}').decode(),
        base64.urlsafe_b64encode(b'{"offset": -100, "limit": 100}').decode(),
        base64.urlsafe_b64encode(b"[100, 100]").decode(),
        # Offset form, but written in a way this client would not reproduce exactly.
        base64.urlsafe_b64encode(b'{ "offset":100,"limit":100 }').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_tokens_of_any_other_form_predict_nothing(token):
    assert _pagetoken.following(token, 100, 1000) == []


def test_a_token_that_does_not_point_past_the_first_page_predicts_nothing():
    # Offsets that do not count the records of the page (a skip, or a page number) mean the
    # offsets cannot be trusted to count records.
    assert _pagetoken.following(offset_token(101, 100), 100, 1000) == []
    assert _pagetoken.following(offset_token(1, 100), 100, 1000) == []
    assert _pagetoken.following(offset_token(0, 100), 0, 1000) == []
