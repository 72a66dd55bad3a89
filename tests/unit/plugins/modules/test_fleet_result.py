"""What phone_number_fleet returns under phone_numbers, for each return_records choice."""

from __future__ import annotations

from ansible_collections.livekit.sip.plugins.modules import phone_number_fleet as fleet


def records(count):
    return [{"e164_format": "+1415555%04d" % i, "id": "PN_%d" % i} for i in range(count)]


def test_changed_returns_the_bought_routed_then_labelled_records_once_each():
    held = records(10)
    numbers = [r["e164_format"] for r in held]
    result = fleet.returned_records(
        "changed", held, numbers[5:7], [numbers[1], numbers[5]], [numbers[8], numbers[1]]
    )
    assert [r["e164_format"] for r in result] == [numbers[5], numbers[6], numbers[1], numbers[8]]


def test_changed_returns_nothing_past_the_limit_and_all_and_none_do_what_they_say():
    held = records(fleet.CHANGED_RECORDS_LIMIT + 1)
    numbers = [r["e164_format"] for r in held]
    assert len(fleet.returned_records("changed", held, numbers[:-1], [], [])) == len(numbers) - 1
    assert fleet.returned_records("changed", held, numbers, [], []) == []
    # Labelled numbers count towards the limit like the others.
    assert fleet.returned_records("changed", held, numbers[:-1], [], numbers[-1:]) == []
    assert fleet.returned_records("all", held, [], [], []) == held
    assert fleet.returned_records("none", held, numbers[:3], [], []) == []


def test_counts_count_what_the_run_left_alone():
    held = records(6)
    numbers = [r["e164_format"] for r in held]

    class Plan:
        unlisted = [numbers[4]]

    assert fleet.counts(
        held, Plan(), numbers[:1], numbers[1:3], [numbers[2], numbers[5]], ["+14155559999"]
    ) == {
        "held": 6,
        "purchased": 1,
        "routed": 2,
        "labelled": 2,
        "released": 1,
        "unlisted": 1,
        "unchanged": 2,
    }
