"""The role converges 300 numbers in one run while a fifth of all requests fail.

The emulator injects, under a fixed seed, 20% faults of all four kinds: 503, 429 with
Retry-After, connections dropped before the call executes, and writes that commit but whose
answer is lost. The desired state mixes every kind of change: explicit numbers to buy, to
re-route, to keep and to release, pools that count held numbers (re-routing them) and buy the
shortfall, and held numbers no entry names, which must not be touched.

Afterwards the project must be exactly the desired state, every number bought once, and the
emulator's write counters must equal the changes the entries ask for: not one write more.
"""

from __future__ import annotations

import sys

from tests.integration.helpers import available, run
from tests.integration.playbooks import RolePlay

pytest_plugins = ["livekit_sip_emulator.fixtures"]

FAULT_RATE = 0.2
FAULT_SEED = 6
# Each call gets RETRIES + 1 attempts: at 20% faults one gives up with odds of 0.2**9 (5e-7), so
# none of the ~120 calls does. The role's default (3) gives up with odds of 0.2**4 (1 in 625) per call.
RETRIES = 8


def desired_and_initial(emulator):
    """(entries, initial state, expected changes): 200 explicit numbers, 3 pools of 100 in all."""
    explicit = available(emulator, "US", "512", 200)
    reroute, keep, gone, buy = explicit[:60], explicit[60:80], explicit[80:100], explicit[100:]
    sf_held = available(emulator, "US", "415", 40)
    strangers = available(emulator, "GB", "20", 10)
    initial = [{"e164_format": n, "sip_dispatch_rule_ids": ["SDR_old"]} for n in reroute + gone]
    initial += [{"e164_format": n, "sip_dispatch_rule_ids": ["SDR_a"]} for n in keep]
    # The 415 pool finds 40 matching numbers: 20 routed elsewhere, 20 not routed at all.
    initial += [{"e164_format": n, "sip_dispatch_rule_ids": ["SDR_other"]} for n in sf_held[:20]]
    initial += [{"e164_format": n, "status": "PHONE_NUMBER_STATUS_OFFLINE"} for n in sf_held[20:]]
    initial += [{"e164_format": n, "sip_dispatch_rule_ids": ["SDR_keep"]} for n in strangers]

    entries = [
        {"phone_number": n, "sip_dispatch_rule_id": "SDR_a"} for n in reroute + keep + buy[:50]
    ]
    entries += [{"phone_number": n, "sip_dispatch_rule_id": "SDR_b"} for n in buy[50:]]
    entries += [{"phone_number": n, "state": "absent"} for n in gone]
    entries += [
        {"country_code": "US", "area_code": "415", "count": 60, "sip_dispatch_rule_id": "SDR_415"},
        {"country_code": "US", "area_code": "212", "count": 20, "sip_dispatch_rule_id": "SDR_212"},
        {"country_code": "CA", "count": 20, "sip_dispatch_rule_id": "SDR_ca"},
    ]
    expected = {"purchased": 100 + 20 + 20 + 20, "routed": 60 + 40, "released": 20}
    groups = {
        "reroute": reroute,
        "keep": keep,
        "gone": gone,
        "buy": buy,
        "sf_held": sf_held,
        "strangers": strangers,
    }
    return entries, {"numbers": initial}, expected, groups


def test_the_role_converges_300_numbers_under_20_percent_faults(emulator, tmp_path):
    entries, initial, expected, groups = desired_and_initial(emulator)
    emulator.admin.load(initial)
    before = {n["e164_format"]: n for n in emulator.admin.dump()["numbers"]}
    emulator.admin.reset_counters()
    emulator.admin.set_faults(rate=FAULT_RATE, seed=FAULT_SEED, retry_after=1)

    done = RolePlay(tmp_path, emulator.url, emulator.api_key, emulator.api_secret).run(
        livekit_phone_numbers=entries,
        livekit_phone_numbers_max_purchase=expected["purchased"],
        livekit_retries=RETRIES,
    )
    assert done.returncode == 0, done.failure_messages() or done.output[-3000:]
    counters = emulator.admin.counters()
    emulator.admin.clear_faults()

    # Every fault kind happened, and each failed attempt was repeated exactly once: the client's
    # count of requests equals the server's, so no request went unaccounted for.
    faults = counters["faults"]
    assert min(faults.values()) > 0, faults
    api_calls = done.summary["api_calls"]
    assert api_calls["retries"] == sum(faults.values())
    assert api_calls["attempts"] == sum(counters["calls"].values())
    assert counters["replays"] >= 1  # lost answers of writes were recovered by their request id

    # No number bought twice, and the writes are exactly the changes the entries ask for.
    assert set(counters["purchases_by_number"].values()) == {1}
    assert sorted(counters["purchases_by_number"]) == sorted(done.summary["purchased"])
    assert counters["writes"] == expected
    assert (
        len(done.summary["purchased"]),
        len(done.summary["routed"]),
        len(done.summary["released"]),
    ) == (expected["purchased"], expected["routed"], expected["released"])

    # The final state is the desired state.
    after = {
        n["e164_format"]: n for n in emulator.admin.dump()["numbers"] if not n.get("released_at")
    }
    rules = {n: record["sip_dispatch_rule_ids"] for n, record in after.items()}
    assert all(
        rules[n] == ["SDR_a"] for n in groups["reroute"] + groups["keep"] + groups["buy"][:50]
    )
    assert all(rules[n] == ["SDR_b"] for n in groups["buy"][50:])
    assert not set(groups["gone"]) & set(after)
    for prefix, rule, count in (("+1415", "SDR_415", 60), ("+1212", "SDR_212", 20)):
        assert sorted(r for n, r in rules.items() if n.startswith(prefix)) == [[rule]] * count
    assert set(groups["sf_held"]) <= set(after)  # the pool kept the numbers it found
    assert sum(1 for r in rules.values() if r == ["SDR_ca"]) == 20
    # Numbers no entry names are untouched: same record, same rule.
    assert all(after[n] == before[n] for n in groups["strangers"])
    assert len(after) == 180 + 100 + 10

    # A second run without faults has nothing left to do.
    emulator.admin.reset_counters()
    again = run(emulator, "phone_number_fleet", entries=entries, max_purchase=0)
    assert again["changed"] is False, again.get("msg")
    assert sum(emulator.admin.counters()["writes"].values()) == 0

    # The figures docs/reliability.md quotes; shown with pytest -s.
    sys.stdout.write(
        "\n300 numbers under %d%% faults: %s; injected %s; %d replays; writes %s; %.1f s\n"
        % (
            FAULT_RATE * 100,
            api_calls,
            faults,
            counters["replays"],
            counters["writes"],
            done.seconds,
        )
    )
