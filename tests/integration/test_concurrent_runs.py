"""Two ansible-playbook runs converging the same project at the same time.

Both read the project before either buys (the emulator's latency makes sure of it), so both plan
the same purchases: explicit numbers and the same pool candidates. The server sells each number
once; the run that comes second must count the numbers the first one bought as held, instead of
failing or buying replacements that would overfill its pools.
"""

from __future__ import annotations

import sys

import pytest

from ansible_collections.livekit.sip.plugins.modules import phone_number_fleet
from tests.integration.helpers import available, run
from tests.integration.playbooks import RolePlay

pytest_plugins = ["livekit_sip_emulator.fixtures"]

# Long enough that the second run lists the project before the first run's purchase lands,
# whatever the start-up jitter of ansible-playbook.
LATENCY_MS = 400


def held(emulator):
    return {
        n["e164_format"]: n["sip_dispatch_rule_ids"]
        for n in emulator.admin.dump()["numbers"]
        if not n.get("released_at")
    }


def test_two_runs_at_once_end_in_the_desired_state_and_buy_nothing_twice(emulator, tmp_path):
    to_buy = available(emulator, "US", "415", 3)
    reroute, gone = available(emulator, "US", "312", 2)
    emulator.admin.load(
        {
            "numbers": [
                {"e164_format": reroute, "sip_dispatch_rule_ids": ["SDR_old"]},
                {"e164_format": gone, "sip_dispatch_rule_ids": ["SDR_old"]},
            ]
        }
    )
    emulator.admin.reset_counters()
    entries = [{"phone_number": n, "sip_dispatch_rule_id": "SDR_a"} for n in to_buy + [reroute]]
    entries += [
        {"phone_number": gone, "state": "absent"},
        {"country_code": "US", "area_code": "650", "count": 4, "sip_dispatch_rule_id": "SDR_pool"},
        {"country_code": "GB", "area_code": "20", "count": 2},
    ]
    emulator.admin.set_faults(latency_ms=LATENCY_MS)

    plays = [
        RolePlay(tmp_path / name, emulator.url, emulator.api_key, emulator.api_secret)
        for name in "ab"
    ]
    for play in plays:
        # Every record held after the run, read again once the run wrote.
        play.start(livekit_phone_numbers=entries, livekit_phone_numbers_return_records="all")
    outcomes = [play.finish() for play in plays]

    counters = emulator.admin.counters()
    # The race happened: a purchase was refused because the other run had bought the numbers.
    assert counters["errors"].get("failed_precondition", 0) >= 1, counters
    for outcome in outcomes:
        assert "Traceback" not in outcome.output
        assert outcome.returncode == 0, outcome.failure_messages() or outcome.output[-3000:]
    # Nothing bought twice, and each number bought is reported by exactly one of the runs.
    assert set(counters["purchases_by_number"].values()) == {1}
    reported = [n for outcome in outcomes for n in outcome.summary["purchased"]]
    assert sorted(reported) == sorted(counters["purchases_by_number"])
    assert counters["writes"] == {"purchased": 3 + 4 + 2, "routed": 1, "released": 1}

    final = held(emulator)
    assert all(final[n] == ["SDR_a"] for n in to_buy + [reroute]) and gone not in final
    assert (
        sorted(rules for n, rules in final.items() if n.startswith("+1650")) == [["SDR_pool"]] * 4
    )
    assert len([n for n in final if n.startswith("+4420")]) == 2
    assert len(final) == 4 + 4 + 2
    # Both runs report the whole desired state as held.
    for outcome in outcomes:
        assert sorted(r["e164_format"] for r in outcome.summary["phone_numbers"]) == sorted(final)
    # What each run reported, for docs/reliability.md; shown with pytest -s.
    for name, outcome in zip("ab", outcomes):
        sys.stdout.write(
            "\nrun %s: changed=%s, bought %d, routed %d, released %d, %s, %.1f s"
            % (
                name,
                outcome.summary["changed"],
                len(outcome.summary["purchased"]),
                len(outcome.summary["routed"]),
                len(outcome.summary["released"]),
                outcome.summary["api_calls"],
                outcome.seconds,
            )
        )


class SameProjectRun:
    """Wraps the module's API: right after the search, another run on the same project buys
    the explicit number, if any (without its rule), and the pool's first two candidates."""

    def __init__(self, api, explicit):
        self.api = api
        self.explicit = explicit
        self.bought = []

    def search(self, *args, **kwargs):
        offered = self.api.search(*args, **kwargs)
        pool = [record["e164_format"] for record in offered[:2]]
        if self.explicit:
            self.api.purchase([self.explicit])
        self.api.purchase(pool, sip_dispatch_rule_id="SDR_pool")
        self.bought = pool
        return offered

    def __getattr__(self, name):
        return getattr(self.api, name)


@pytest.mark.parametrize("with_explicit", [True, False])
def test_numbers_a_concurrent_run_bought_count_as_held_and_are_not_replaced(
    emulator, monkeypatch, with_explicit
):
    """The race above made deterministic, in-process. Counting them as held is what keeps a
    pool from buying spares in their place (five numbers for a pool of three), and an explicit
    number from failing the run as "not available"."""
    explicit = available(emulator, "US", "312", 1)[0] if with_explicit else None
    other = []
    real = phone_number_fleet.build_api

    def build(module):
        other.append(SameProjectRun(real(module), explicit))
        return other[-1]

    monkeypatch.setattr(phone_number_fleet, "build_api", build)
    entries = [
        {"country_code": "US", "area_code": "415", "count": 3, "sip_dispatch_rule_id": "SDR_pool"}
    ]
    if explicit:
        entries.insert(0, {"phone_number": explicit, "sip_dispatch_rule_id": "SDR_a"})
    result = run(emulator, "phone_number_fleet", entries=entries)
    assert "failed" not in result, result.get("msg")
    (pool,) = result["pools"]
    theirs = other[0].bought
    assert (
        sorted(pool["held"]) == sorted(theirs + pool["purchased"]) and len(pool["purchased"]) == 1
    )
    assert result["purchased"] == pool["purchased"]
    # The explicit number was bought without a rule; counted as held, it is routed to its own.
    assert result["routed"] == ([explicit] if explicit else [])
    counters = emulator.admin.counters()
    assert set(counters["purchases_by_number"].values()) == {1}
    final = held(emulator)
    assert final == dict(
        [(n, ["SDR_pool"]) for n in pool["held"]] + ([(explicit, ["SDR_a"])] if explicit else [])
    )
