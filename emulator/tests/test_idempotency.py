from __future__ import annotations

import threading
import uuid

from .helpers import Api


def with_id(request_id):
    return {"X-Livekit-Request-Id": request_id}


def test_a_repeated_request_id_gets_the_first_answer_without_executing(api, emulator):
    number = api.available(1)
    request_id = str(uuid.uuid4())
    first = api.post("PurchasePhoneNumber", {"phone_numbers": number}, headers=with_id(request_id))
    again = api.post("PurchasePhoneNumber", {"phone_numbers": number}, headers=with_id(request_id))
    assert first.status_code == again.status_code == 200
    assert first.content == again.content
    counters = emulator.admin.counters()
    assert counters["writes"]["purchased"] == 1 and counters["replays"] == 1
    assert counters["calls"]["PurchasePhoneNumber"] == 2


def test_the_replay_does_not_look_at_the_new_body(api, emulator):
    numbers = api.available(2)
    request_id = str(uuid.uuid4())
    first = api.ok(
        "PurchasePhoneNumber", {"phone_numbers": numbers[:1]}, headers=with_id(request_id)
    )
    second = api.ok(
        "PurchasePhoneNumber", {"phone_numbers": numbers[1:]}, headers=with_id(request_id)
    )
    assert first == second
    assert emulator.admin.counters()["purchases_by_number"] == {numbers[0]: 1}


def test_the_same_id_for_another_method_executes(api, emulator):
    request_id = str(uuid.uuid4())
    record = api.ok(
        "PurchasePhoneNumber", {"phone_numbers": api.available(1)}, headers=with_id(request_id)
    )["phone_numbers"][0]
    routed = api.ok(
        "UpdatePhoneNumber",
        {"id": record["id"], "sip_dispatch_rule_id": "SDR_1"},
        headers=with_id(request_id),
    )
    assert routed["phone_number"]["status"] == "PHONE_NUMBER_STATUS_ACTIVE"
    assert emulator.admin.counters()["replays"] == 0


def test_error_answers_are_replayed_too(api, emulator):
    request_id = str(uuid.uuid4())
    first = api.fails(
        "ReleasePhoneNumbers", {"ids": ["PN_missing"]}, "not_found", headers=with_id(request_id)
    )
    again = api.fails(
        "ReleasePhoneNumbers", {"ids": ["PN_missing"]}, "not_found", headers=with_id(request_id)
    )
    assert first == again
    assert emulator.admin.counters()["replays"] == 1


def test_without_a_request_id_every_call_executes(api, emulator):
    number = api.available(1)
    api.ok("PurchasePhoneNumber", {"phone_numbers": number})
    api.fails("PurchasePhoneNumber", {"phone_numbers": number}, "failed_precondition")
    assert emulator.admin.counters()["replays"] == 0


def test_the_cache_is_bounded_and_cleared_by_reset(emulator_factory):
    emulator = emulator_factory(request_cache_size=2)
    api = Api(emulator)
    for request_id in ("a", "b", "c"):
        api.ok("ListPhoneNumbers", {}, headers=with_id(request_id))
    api.ok("ListPhoneNumbers", {}, headers=with_id("c"))
    assert emulator.admin.counters()["replays"] == 1
    api.ok("ListPhoneNumbers", {}, headers=with_id("a"))
    assert emulator.admin.counters()["replays"] == 1
    emulator.admin.reset()
    api.ok("ListPhoneNumbers", {}, headers=with_id("c"))
    assert emulator.admin.counters()["replays"] == 0


def test_concurrent_retries_with_one_id_buy_once(api, emulator):
    number = api.available(1)
    request_id = str(uuid.uuid4())
    answers = []
    barrier = threading.Barrier(8)

    def retry():
        client = Api(emulator)
        barrier.wait()
        answers.append(
            client.post(
                "PurchasePhoneNumber", {"phone_numbers": number}, headers=with_id(request_id)
            ).content
        )

    threads = [threading.Thread(target=retry) for _index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 8 and len(set(answers)) == 1
    counters = emulator.admin.counters()
    assert counters["purchases_by_number"] == {number[0]: 1} and counters["replays"] == 7
