"""Quirk modes: each changes what it says and nothing else, at start-up and at run time."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests

from livekit_sip_emulator import AdminError
from livekit_sip_emulator.config import QUIRK_KEYS

from .helpers import Api, decode_page_token, pick
from .test_cli import announced, cli, free_port, local_session

SUSPENDED = "PHONE_NUMBER_STATUS_SUSPENDED"


def pages(api, limit, **body):
    """Every page of a listing, following tokens (at most 20)."""
    result = []
    token = None
    for _index in range(20):
        request = dict(body, limit=limit)
        if token:
            request["page_token"] = token
        page = api.ok("ListPhoneNumbers", request)
        result.append(page)
        token = page.get("next_page_token")
        if not token or not token.get("token"):
            break
    return result


def ids(page_list):
    return [item["id"] for page in page_list for item in page["items"]]


def test_quirks_are_off_by_default(emulator):
    config = emulator.admin.config()
    assert {key: config[key] for key in QUIRK_KEYS} == {
        "shuffle_search": False,
        "shift_pages": 0,
        "status_override": "",
        "omit_fields": [],
        "short_purchase_answers": 0,
        "short_purchases": 0,
        "noop_releases": False,
        "endless_tokens": False,
        "write_delay": 0.0,
        "clock_offset": 0.0,
    }


def test_shuffle_search_changes_the_order_not_the_offer(api, emulator):
    body = {"country_code": "US", "area_code": "415", "limit": 20}
    fixed = [[pick(i, "e164_format") for i in api.ok("SearchPhoneNumbers", body)["items"]]]
    fixed.append([pick(i, "e164_format") for i in api.ok("SearchPhoneNumbers", body)["items"]])
    assert fixed[0] == fixed[1] == sorted(fixed[0])
    emulator.admin.configure(shuffle_search=True)
    orders = [
        [pick(i, "e164_format") for i in api.ok("SearchPhoneNumbers", body)["items"]]
        for _index in range(4)
    ]
    assert all(sorted(order) == sorted(fixed[0]) for order in orders)
    assert len({tuple(order) for order in orders}) > 1


@pytest.mark.parametrize("shift, read, repeated", [(1, 8, 0), (-1, 12, 2)])
def test_shift_pages_skips_or_repeats_records(api, emulator, shift, read, repeated):
    api.buy(10)
    assert len(ids(pages(api, 4))) == 10
    emulator.admin.configure(shift_pages=shift)
    listing = pages(api, 4)
    seen = ids(listing)
    assert len(seen) == read and len(seen) - len(set(seen)) == repeated
    assert all(page["total_count"] == 10 for page in listing)


def test_status_override_shows_held_numbers_with_an_unknown_status(api, emulator):
    held, gone = [pick(r, "e164_format") for r in api.buy(2)]
    api.ok("ReleasePhoneNumbers", {"phone_numbers": [gone]})
    emulator.admin.configure(status_override=SUSPENDED)
    statuses = {item["e164_format"]: item["status"] for item in api.list_all()["items"]}
    assert statuses == {held: SUSPENDED, gone: "PHONE_NUMBER_STATUS_RELEASED"}
    assert api.get(held)["status"] == SUSPENDED
    bought = api.buy(1)
    assert bought[0]["status"] == SUSPENDED
    emulator.admin.configure(status_override=7)
    assert api.get(held)["status"] == 7
    # Offered numbers are not the project's: their status stays unset.
    offered = api.ok("SearchPhoneNumbers", {"country_code": "US", "limit": 1})["items"][0]
    assert offered["status"] == "PHONE_NUMBER_STATUS_UNSPECIFIED"
    emulator.admin.configure(status_override="")
    assert api.get(held)["status"] != SUSPENDED


def test_omit_fields_leaves_fields_and_counters_out(api, emulator):
    emulator.admin.configure(omit_fields=["area_code", "country_code", "total_count"])
    bought = api.buy(2)
    listing = api.list_all()
    assert "total_count" not in listing and listing["offline_count"] == 2
    for item in bought + listing["items"] + [api.get(bought[0]["e164_format"])]:
        assert "area_code" not in item and "country_code" not in item and item["e164_format"]
    emulator.admin.configure(omit_fields="status,offline_count")
    listing = api.list_all()
    assert "offline_count" not in listing and listing["total_count"] == 2
    assert "status" not in listing["items"][0] and listing["items"][0]["area_code"]
    # A listing that shows nothing at all; searches keep their items.
    emulator.admin.configure(omit_fields=["items", "total_count"])
    assert api.list_all() == {"next_page_token": None, "offline_count": 2}
    assert api.available(1)


def test_short_purchase_answers_buy_everything_and_answer_less(api, emulator):
    emulator.admin.configure(short_purchase_answers=1)
    numbers = api.available(3)
    answer = api.ok("PurchasePhoneNumber", {"phone_numbers": numbers})
    assert [r["e164_format"] for r in answer["phone_numbers"]] == numbers[:2]
    assert sorted(r["e164_format"] for r in api.list_all()["items"]) == sorted(numbers)


def test_short_purchases_buy_less_and_say_so_only_by_omission(api, emulator):
    emulator.admin.configure(short_purchases=1)
    numbers = api.available(3)
    answer = api.ok("PurchasePhoneNumber", {"phone_numbers": numbers})
    assert [r["e164_format"] for r in answer["phone_numbers"]] == numbers[:2]
    assert sorted(r["e164_format"] for r in api.list_all()["items"]) == sorted(numbers[:2])
    assert emulator.admin.counters()["writes"]["purchased"] == 2


def test_noop_releases_answer_and_release_nothing(api, emulator):
    number = api.buy(1)[0]["e164_format"]
    emulator.admin.configure(noop_releases=True)
    assert api.ok("ReleasePhoneNumbers", {"phone_numbers": [number]}) == {}
    assert api.get(number)["status"] != "PHONE_NUMBER_STATUS_RELEASED"
    assert emulator.admin.counters()["writes"]["released"] == 0


@pytest.mark.parametrize("method", ["ListPhoneNumbers", "SearchPhoneNumbers"])
def test_endless_tokens_start_over_with_a_fresh_token(api, emulator, method):
    api.buy(5)
    emulator.admin.configure(endless_tokens=True)
    body = {"limit": 3, "country_code": "US"}
    first = api.ok(method, body)
    seen = [first["next_page_token"]["token"]]
    page = first
    for _index in range(4):
        page = api.ok(method, dict(body, page_token=page["next_page_token"]))
        assert page["next_page_token"]["token"] not in seen
        seen.append(page["next_page_token"]["token"])
    if method == "ListPhoneNumbers":
        # 5 records, pages of 3: the third page is the first again.
        second_round = api.ok(method, dict(body, page_token={"token": seen[1]}))
        assert [i["id"] for i in second_round["items"]] == [i["id"] for i in first["items"]]
        assert decode_page_token({"token": seen[1]})["offset"] == 0


def test_write_delay_carries_out_writes_after_the_client_gave_up(api, emulator):
    emulator.admin.configure(write_delay=1.0)
    numbers = api.available(1)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.Timeout):
        api.post("PurchasePhoneNumber", {"phone_numbers": numbers}, timeout=0.3)
    assert api.list_all()["total_count"] == 0
    # Reads are not delayed.
    assert time.monotonic() - started < 0.9
    deadline = time.monotonic() + 5
    while api.list_all()["total_count"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [i["e164_format"] for i in api.list_all()["items"]] == numbers


@pytest.mark.parametrize(
    "offset, message", [(700, "token has expired"), (-60, "token is not valid yet")]
)
def test_clock_offset_moves_token_checks_and_the_date_header(api, emulator, offset, message):
    assert api.post("ListPhoneNumbers").status_code == 200
    emulator.admin.configure(clock_offset=offset)
    answer = api.post("ListPhoneNumbers")
    assert answer.status_code == 401 and message in answer.json()["msg"]
    date = email.utils.parsedate_to_datetime(answer.headers["Date"]).timestamp()
    assert abs(date - (time.time() + offset)) < 3
    # Within the 10 s leeway a token is still fine.
    emulator.admin.configure(clock_offset=-8)
    assert api.post("ListPhoneNumbers").status_code == 200


@pytest.mark.parametrize(
    "settings",
    [
        {"shuffle_search": "yes"},
        {"shift_pages": 1.5},
        {"status_override": "not a status"},
        {"status_override": True},
        {"omit_fields": ["colour"]},
        {"omit_fields": 3},
        {"short_purchases": -1},
        {"short_purchase_answers": "1"},
        {"noop_releases": 1},
        {"endless_tokens": None},
        {"write_delay": -1},
        {"clock_offset": "1"},
    ],
)
def test_bad_quirk_settings_are_refused(emulator, settings):
    with pytest.raises(AdminError) as caught:
        emulator.admin.configure(**settings)
    assert caught.value.status == 400 and caught.value.payload["code"] == "invalid_argument"


def test_quirks_set_at_start_up_survive_resets(emulator_factory):
    emulator = emulator_factory(noop_releases=True, shift_pages=-1, omit_fields=("area_code",))
    emulator.admin.configure(noop_releases=False)
    config = emulator.admin.reset()["config"]
    assert config["noop_releases"] is True and config["shift_pages"] == -1
    assert config["omit_fields"] == ["area_code"]
    api = Api(emulator)
    assert "area_code" not in api.buy(1)[0]


def test_every_quirk_has_a_command_line_flag(tmp_path):
    port = free_port()
    pid_file = tmp_path / "q.pid"
    started = cli(
        "start",
        "--pid-file",
        str(pid_file),
        "--port",
        str(port),
        "--shuffle-search",
        "--shift-pages",
        "-2",
        "--status-override",
        SUSPENDED,
        "--omit-fields",
        "area_code,total_count",
        "--short-purchase-answers",
        "1",
        "--short-purchases",
        "2",
        "--noop-releases",
        "--endless-tokens",
        "--write-delay",
        "0.5",
        "--clock-offset",
        "-3",
    )
    assert started.returncode == 0, started.stderr
    try:
        values = announced(started.stdout)
        config = local_session().get(values["LIVEKIT_URL"] + "/_emulator/config", timeout=5).json()
        assert {key: config[key] for key in QUIRK_KEYS} == {
            "shuffle_search": True,
            "shift_pages": -2,
            "status_override": SUSPENDED,
            "omit_fields": ["area_code", "total_count"],
            "short_purchase_answers": 1,
            "short_purchases": 2,
            "noop_releases": True,
            "endless_tokens": True,
            "write_delay": 0.5,
            "clock_offset": -3.0,
        }
    finally:
        assert cli("stop", "--pid-file", str(pid_file)).returncode == 0


def test_bad_quirk_flags_are_usage_errors():
    for args in (["--omit-fields", "colour"], ["--shift-pages", "x"], ["--write-delay", "-1"]):
        result = cli(*args, timeout=10)
        assert result.returncode == 2, (args, result.stderr)
        assert "error" in result.stderr
