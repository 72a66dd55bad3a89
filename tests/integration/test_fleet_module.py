"""phone_number_fleet against the emulator over HTTP: explicit numbers and pools, reruns, guards, call counts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.livekit.sip.plugins.modules import phone_number_fleet
from tests.integration.helpers import available, calls, run, writes

pytest_plugins = ["livekit_sip_emulator.fixtures"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def held(emulator):
    """E.164 -> rule ids of every number the emulator's project holds."""
    return {
        n["e164_format"]: n["sip_dispatch_rule_ids"]
        for n in emulator.admin.dump()["numbers"]
        if not n.get("released_at")
    }


def hold(emulator, numbers, rules=()):
    """Make the project hold ``numbers`` (routed to ``rules``) without counting API calls."""
    emulator.admin.load(
        {
            "numbers": [
                {
                    "e164_format": n,
                    "status": "PHONE_NUMBER_STATUS_ACTIVE"
                    if rules
                    else "PHONE_NUMBER_STATUS_OFFLINE",
                    "sip_dispatch_rule_ids": list(rules),
                }
                for n in numbers
            ]
        }
    )
    emulator.admin.reset_counters()


def no_calls(emulator):
    return sum(emulator.admin.counters()["calls"].values()) == 0


def test_check_mode_apply_and_rerun(emulator):
    explicit = available(emulator, "US", "415", 2)
    entries = [
        {"phone_number": explicit[0], "sip_dispatch_rule_id": "SDR_a"},
        {"phone_number": explicit[1]},
        {"country_code": "US", "area_code": "650", "count": 3, "sip_dispatch_rule_id": "SDR_a"},
        {"country_code": "GB", "area_code": "20", "count": 1, "sip_dispatch_rule_id": "SDR_b"},
    ]

    checked = run(emulator, "phone_number_fleet", entries=entries, check_mode=True, diff=True)
    assert checked["changed"] is True
    assert checked["purchased"][:1] == explicit[:1] and explicit[1] in checked["purchased"]
    assert len(checked["purchased"]) == 6
    london = checked["pools"][1]["purchased"]
    assert len(london) == 1 and london[0].startswith("+4420")
    assert sorted(checked["diff"]["after"]) == sorted(checked["purchased"])
    assert len(checked["phone_numbers"]) == 6
    counters = emulator.admin.counters()
    assert writes(counters) == 0 and counters["writes"] == {
        "purchased": 0,
        "routed": 0,
        "released": 0,
    }
    assert calls(counters, "SearchPhoneNumbers") == 2

    applied = run(emulator, "phone_number_fleet", entries=entries)
    assert applied["changed"] is True
    # Nothing was taken meanwhile, so the run buys exactly the candidates check mode named.
    assert applied["purchased"] == checked["purchased"]
    assert applied["pools"] == checked["pools"]
    assert held(emulator) == dict(
        [(explicit[0], ["SDR_a"]), (explicit[1], [])]
        + [(n, ["SDR_a"]) for n in applied["pools"][0]["purchased"]]
        + [(london[0], ["SDR_b"])]
    )
    counters = emulator.admin.counters()
    assert calls(counters, "PurchasePhoneNumber") == 3  # one per rule: SDR_a, none, SDR_b
    assert counters["purchases_by_number"] == dict.fromkeys(applied["purchased"], 1)

    emulator.admin.reset_counters()
    again = run(emulator, "phone_number_fleet", entries=entries)
    assert again["changed"] is False
    assert again["purchased"] == again["routed"] == again["released"] == again["unlisted"] == []
    assert [p["held"] for p in again["pools"]] == [p["held"] for p in applied["pools"]]
    # By default only the records of numbers bought or routed come back; counts say the rest.
    assert again["phone_numbers"] == []
    assert again["counts"] == {
        "held": 6,
        "purchased": 0,
        "routed": 0,
        "labelled": 0,
        "released": 0,
        "unlisted": 0,
        "unchanged": 6,
    }
    counters = emulator.admin.counters()
    assert writes(counters) == 0
    assert counters["calls"] == dict(counters["calls"], ListPhoneNumbers=1, SearchPhoneNumbers=0)

    every = run(emulator, "phone_number_fleet", entries=entries, return_records="all")
    assert sorted(r["e164_format"] for r in every["phone_numbers"]) == sorted(applied["purchased"])


def test_pools_count_held_numbers_and_reroute_them(emulator):
    on_rule, elsewhere, offline = available(emulator, "US", "650", 3)
    named = available(emulator, "US", "650", 4)[3]
    emulator.admin.load(
        {
            "numbers": [
                {
                    "e164_format": on_rule,
                    "status": "PHONE_NUMBER_STATUS_ACTIVE",
                    "sip_dispatch_rule_ids": ["SDR_pool"],
                },
                {
                    "e164_format": elsewhere,
                    "status": "PHONE_NUMBER_STATUS_ACTIVE",
                    "sip_dispatch_rule_ids": ["SDR_other"],
                },
                {"e164_format": offline, "status": "PHONE_NUMBER_STATUS_OFFLINE"},
                {
                    "e164_format": named,
                    "status": "PHONE_NUMBER_STATUS_ACTIVE",
                    "sip_dispatch_rule_ids": ["SDR_named"],
                },
            ]
        }
    )
    emulator.admin.reset_counters()
    entries = [
        {"phone_number": named},
        {"country_code": "US", "area_code": "650", "count": 4, "sip_dispatch_rule_id": "SDR_pool"},
    ]

    result = run(emulator, "phone_number_fleet", entries=entries)
    (pool,) = result["pools"]
    assert pool["held"][:3] == [
        on_rule,
        offline,
        elsewhere,
    ]  # on the rule first, then unrouted, then elsewhere
    assert (
        len(pool["purchased"]) == 1 and named not in pool["held"]
    )  # the named number does not count
    assert sorted(result["routed"]) == sorted([offline, elsewhere])
    assert held(emulator)[elsewhere] == ["SDR_pool"] and held(emulator)[named] == ["SDR_named"]
    counters = emulator.admin.counters()
    assert (
        calls(counters, "SearchPhoneNumbers") == 1 and calls(counters, "PurchasePhoneNumber") == 1
    )
    assert calls(counters, "UpdatePhoneNumber") == 2


def test_a_full_pool_does_not_search(emulator):
    hold(emulator, available(emulator, "US", "212", 2), ["SDR_1"])
    result = run(
        emulator,
        "phone_number_fleet",
        entries=[{"country_code": "US", "area_code": "212", "count": 2}],
    )
    assert result["changed"] is False
    counters = emulator.admin.counters()
    assert calls(counters, "ListPhoneNumbers") == 1 and calls(counters, "SearchPhoneNumbers") == 0


class SoldElsewhere:
    """The emulator's inventory without the numbers another customer bought."""

    def __init__(self, inventory):
        self.inventory = inventory
        self.sold = set()

    def get(self, e164):
        return None if e164 in self.sold else self.inventory.get(e164)

    def candidates(self, country, area_code=None):
        return [
            n
            for n in self.inventory.candidates(country, area_code)
            if n.e164_format not in self.sold
        ]


class Rival:
    """Wraps the module's API: right after each search, someone else buys the first ``grab`` results."""

    def __init__(self, api, grab, stock):
        self.api = api
        self.grab = grab
        self.stock = stock
        self.bought = []

    def search(self, *args, **kwargs):
        offered = self.api.search(*args, **kwargs)
        # Another customer's purchase: the numbers leave the inventory, and this project does
        # not hold them (a number this project holds would count as held; see test_concurrent_runs).
        taken = [record["e164_format"] for record in offered[: self.grab]]
        self.stock.sold.update(taken)
        self.bought.extend(taken)
        return offered

    def __getattr__(self, name):
        return getattr(self.api, name)


def with_rival(monkeypatch, grab, emulator):
    rivals = []
    real = phone_number_fleet.build_api
    stock = SoldElsewhere(emulator.store.inventory)
    monkeypatch.setattr(emulator.store, "inventory", stock)

    def build(module):
        rivals.append(Rival(real(module), grab, stock))
        return rivals[-1]

    monkeypatch.setattr(phone_number_fleet, "build_api", build)
    return rivals


def test_a_candidate_taken_between_search_and_purchase_is_replaced(emulator, monkeypatch):
    rivals = with_rival(monkeypatch, grab=2, emulator=emulator)
    result = run(
        emulator,
        "phone_number_fleet",
        entries=[
            {"country_code": "US", "area_code": "415", "count": 3, "sip_dispatch_rule_id": "SDR_1"}
        ],
    )
    assert "failed" not in result, result.get("msg")
    taken = rivals[0].bought
    (pool,) = result["pools"]
    assert len(pool["purchased"]) == 3 and not set(taken) & set(pool["purchased"])
    counters = emulator.admin.counters()
    # The fleet's refused purchase, then its retry with replacements.
    assert calls(counters, "PurchasePhoneNumber") == 2
    assert counters["purchases_by_number"] == dict.fromkeys(pool["purchased"], 1)
    assert all(held(emulator)[n] == ["SDR_1"] for n in pool["purchased"])


def test_a_pool_whose_candidates_are_all_taken_buys_nothing(emulator, monkeypatch):
    rivals = with_rival(monkeypatch, grab=100, emulator=emulator)
    result = run(
        emulator,
        "phone_number_fleet",
        entries=[{"country_code": "GB", "area_code": "20", "count": 2}],
    )
    assert result["failed"] is True
    assert result["error"]["code"] == "pool_shortfall"
    assert "pool entries[0] (GB area code 20) could not be filled" in result["msg"]
    assert result["purchased"] == []
    counters = emulator.admin.counters()
    # 2 wanted + 5 spares, all taken: three refused purchases of two, then no candidate is left.
    assert len(rivals[0].bought) == 7
    assert calls(counters, "PurchasePhoneNumber") == 3 and counters["errors"] == {"not_found": 3}
    assert counters["purchases_by_number"] == {}


def test_a_pool_the_inventory_cannot_fill_fails_and_buys_nothing(emulator):
    emulator.admin.reset(inventory_size=60)  # a handful of numbers per area code
    explicit = available(emulator, "US", "212", 1)[0]
    result = run(
        emulator,
        "phone_number_fleet",
        entries=[
            {"phone_number": explicit},
            {"country_code": "US", "area_code": "415", "count": 9, "sip_dispatch_rule_id": "SDR_1"},
        ],
    )
    assert result["failed"] is True
    assert result["error"]["code"] == "pool_shortfall"
    offered = len(available(emulator, "US", "415", 9))
    assert offered < 9
    assert (
        "pool entries[1] (US area code 415) needs 9 more numbers (holds 0 of 9) but the search offered only %d"
        % offered
    ) in result["msg"]
    assert "nothing was bought" in result["msg"]
    counters = emulator.admin.counters()
    assert calls(counters, "PurchasePhoneNumber") == 0 and writes(counters) == 0
    assert held(emulator) == {}


@pytest.mark.parametrize("release_unlisted", [False, True])
def test_unlisted_numbers_are_reported_and_released_only_on_request(emulator, release_unlisted):
    keep, spare_a, spare_b = available(emulator, "US", "312", 3)
    hold(emulator, [keep, spare_a, spare_b], ["SDR_1"])
    entries = [{"phone_number": keep}]
    checked = run(
        emulator,
        "phone_number_fleet",
        entries=entries,
        release_unlisted=release_unlisted,
        check_mode=True,
    )
    assert checked["unlisted"] == [spare_a, spare_b]
    assert checked["released"] == ([spare_a, spare_b] if release_unlisted else [])
    assert writes(emulator.admin.counters()) == 0

    result = run(emulator, "phone_number_fleet", entries=entries, release_unlisted=release_unlisted)
    assert result["unlisted"] == [spare_a, spare_b]
    assert result["changed"] is release_unlisted
    counters = emulator.admin.counters()
    if release_unlisted:
        assert result["released"] == [spare_a, spare_b]
        # Nothing was bought or routed: no record comes back, and the count shows what is held.
        assert sorted(held(emulator)) == [keep] and result["phone_numbers"] == []
        assert result["counts"]["held"] == 1 and result["counts"]["released"] == 2
        assert calls(counters, "ReleasePhoneNumbers") == 1 and counters["writes"]["released"] == 2
    else:
        assert result["released"] == [] and len(held(emulator)) == 3
        assert writes(counters) == 0

    emulator.admin.reset_counters()
    again = run(emulator, "phone_number_fleet", entries=entries, release_unlisted=release_unlisted)
    assert again["changed"] is False and writes(emulator.admin.counters()) == 0


def test_release_unlisted_with_no_entries_is_refused(emulator):
    hold(emulator, available(emulator, "US", "312", 1))
    result = run(emulator, "phone_number_fleet", entries=[], release_unlisted=True)
    assert result["failed"] is True and "would release every number" in result["msg"]
    assert no_calls(emulator)


def test_absent_entries_release_in_one_call(emulator):
    numbers = available(emulator, "US", "512", 3)
    hold(emulator, numbers[:2])
    result = run(
        emulator,
        "phone_number_fleet",
        entries=[{"phone_number": n, "state": "absent"} for n in numbers],
    )
    assert result["released"] == numbers[:2]
    assert calls(emulator.admin.counters(), "ReleasePhoneNumbers") == 1
    assert held(emulator) == {}


def test_spend_guard_fails_before_searching_or_buying(emulator):
    explicit = available(emulator, "US", "415", 2)
    entries = [{"phone_number": n} for n in explicit] + [
        {"country_code": "US", "area_code": "650", "count": 2}
    ]
    for check_mode in (True, False):
        result = run(
            emulator, "phone_number_fleet", entries=entries, max_purchase=3, check_mode=check_mode
        )
        assert result["failed"] is True
        assert result["error"]["code"] == "purchase_limit"
        assert (
            "would buy 4 numbers ({}; 2 for pool entries[2] (US area code 650))".format(
                ", ".join(explicit)
            )
            in result["msg"]
        )
        counters = emulator.admin.counters()
        assert calls(counters, "SearchPhoneNumbers") == 0 and writes(counters) == 0
    assert "failed" not in run(emulator, "phone_number_fleet", entries=entries, max_purchase=4)


def test_purchase_limit_is_an_alias_of_max_purchase(emulator):
    entries = [{"country_code": "US", "area_code": "650", "count": 2}]
    refused = run(emulator, "phone_number_fleet", entries=entries, purchase_limit=1)
    assert refused["failed"] is True and refused["error"]["code"] == "purchase_limit"
    assert "more than purchase_limit=1" in refused["msg"]
    assert writes(emulator.admin.counters()) == 0
    assert (
        len(run(emulator, "phone_number_fleet", entries=entries, purchase_limit=2)["purchased"])
        == 2
    )


def test_the_default_spend_guard_is_ten(emulator):
    result = run(emulator, "phone_number_fleet", entries=[{"country_code": "US", "count": 11}])
    assert result["failed"] is True and "more than max_purchase=10" in result["msg"]


@pytest.mark.parametrize(
    "entries, message",
    [
        (
            [{"phone_number": "+14155550100", "count": 1}],
            "entries[0] mixes a number (phone_number) with pool keys (count)",
        ),
        (
            [{"phone_number": "+14155550100"}, {"country_code": "US", "cuont": 2}],
            "entries[1]: unknown key cuont",
        ),
        ([{"phone_number": "4155550100"}], "entries[0]: phone number '4155550100' is not E.164"),
        (
            [{"country_code": "US", "count": -2}],
            "entries[0]: count must be a whole number, 0 or more, not -2",
        ),
    ],
)
def test_malformed_entries_fail_before_any_api_call(emulator, entries, message):
    result = run(emulator, "phone_number_fleet", entries=entries)
    assert result["failed"] is True
    assert message in result["msg"]
    assert no_calls(emulator)


@pytest.mark.parametrize("size", [5, 60])
def test_api_calls_do_not_grow_with_entries(emulator, size):
    numbers = available(emulator, "US", "415", size)
    hold(emulator, numbers, ["SDR_1"])
    entries = [{"phone_number": n, "sip_dispatch_rule_id": "SDR_1"} for n in numbers]
    assert run(emulator, "phone_number_fleet", entries=entries)["changed"] is False
    assert emulator.admin.counters()["calls"] == dict.fromkeys(
        emulator.admin.counters()["calls"], 0
    ) | {"ListPhoneNumbers": 1}

    # Changes cost one call per purchase rule and per re-routed number, whatever the entries.
    emulator.admin.reset_counters()
    extra = available(emulator, "US", "212", 20)
    entries = (
        [{"phone_number": n, "sip_dispatch_rule_id": "SDR_2"} for n in numbers[:3]]
        + [{"phone_number": n, "sip_dispatch_rule_id": "SDR_1"} for n in numbers[3:]]
        + [{"phone_number": n, "sip_dispatch_rule_id": "SDR_1"} for n in extra]
    )
    result = run(emulator, "phone_number_fleet", entries=entries, max_purchase=20)
    assert len(result["purchased"]) == 20 and result["routed"] == numbers[:3]
    # The records of the changed numbers come from the writes' answers: no second listing.
    assert [r["e164_format"] for r in result["phone_numbers"]] == extra + numbers[:3]
    assert all(r["id"].startswith("PN_") for r in result["phone_numbers"])
    assert [r["sip_dispatch_rule_ids"] for r in result["phone_numbers"]] == [["SDR_1"]] * 20 + [
        ["SDR_2"]
    ] * 3
    assert result["counts"] == {
        "held": size + 20,
        "purchased": 20,
        "routed": 3,
        "labelled": 0,
        "released": 0,
        "unlisted": 0,
        "unchanged": size - 3,
    }
    counters = emulator.admin.counters()["calls"]
    assert counters == dict(
        counters,
        ListPhoneNumbers=1,
        PurchasePhoneNumber=1,
        UpdatePhoneNumber=3,
        SearchPhoneNumbers=0,
        ReleasePhoneNumbers=0,
        GetPhoneNumber=0,
    )

    # return_records=all reads the project again after a run that wrote, to return every record.
    emulator.admin.reset_counters()
    back = [dict(entry, sip_dispatch_rule_id="SDR_1") for entry in entries]
    every = run(emulator, "phone_number_fleet", entries=back, return_records="all")
    assert every["routed"] == numbers[:3] and len(every["phone_numbers"]) == size + 20
    assert {r["sip_dispatch_rule_id"] for r in every["phone_numbers"]} == {"SDR_1"}
    assert emulator.admin.counters()["calls"]["ListPhoneNumbers"] == 2


def test_listing_follows_pages(emulator):
    emulator.admin.reset(max_page_size=10)
    numbers = available(emulator, "US", "415", 25)
    hold(emulator, numbers, ["SDR_1"])
    result = run(
        emulator,
        "phone_number_fleet",
        entries=[{"country_code": "US", "area_code": "415", "count": 25}],
    )
    assert result["changed"] is False and len(result["pools"][0]["held"]) == 25
    assert calls(emulator.admin.counters(), "ListPhoneNumbers") == 3


def test_wait_until_bought_numbers_are_provisioned(emulator):
    emulator.admin.reset(provisioning_delay=1.0)
    result = run(
        emulator,
        "phone_number_fleet",
        wait=True,
        wait_timeout=30,
        entries=[
            {"country_code": "US", "area_code": "206", "count": 2, "sip_dispatch_rule_id": "SDR_1"}
        ],
    )
    assert [r["status"] for r in result["phone_numbers"]] == ["active", "active"]


def test_examples_run_against_the_emulator(emulator, tmp_path):
    """The module's EXAMPLES, as a playbook, against the emulator."""
    tasks = yaml.safe_load(phone_number_fleet.EXAMPLES)
    playbook = tmp_path / "examples.yml"
    playbook.write_text(
        yaml.safe_dump(
            [{"name": "EXAMPLES", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
        )
    )
    (tmp_path / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "hosts": {
                        "localhost": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                        }
                    }
                }
            }
        )
    )
    env = dict(
        os.environ,
        LIVEKIT_URL=emulator.url,
        LIVEKIT_API_KEY=emulator.api_key,
        LIVEKIT_API_SECRET=emulator.api_secret,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
    )
    done = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "-i",
            str(tmp_path / "hosts.yml"),
            str(playbook),
        ],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "failed=0" in done.stdout
    # The last example keeps exactly the three numbers of the pool.
    assert len(held(emulator)) == 3
    assert all(
        n.startswith("+1212") and rules == ["SDR_support"] for n, rules in held(emulator).items()
    )
