"""The phone_numbers role through ansible-playbook against the emulator: inventory in, summary out."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.integration.helpers import available, calls, writes
from tests.integration.playbooks import PLAYBOOK, ROOT, Outcome

pytest_plugins = ["livekit_sip_emulator.fixtures"]


class Playbook:
    """Runs the role with host variables written to an inventory, as an operator would."""

    def __init__(self, emulator, tmp_path):
        self.emulator = emulator
        self.tmp = tmp_path
        (tmp_path / "site.yml").write_text(PLAYBOOK)

    def run(self, check=False, credentials="vars", **host_vars):
        host = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "summary_path": str(self.tmp / "summary.json"),
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_")}
        connection = {
            "url": self.emulator.url,
            "api_key": self.emulator.api_key,
            "api_secret": self.emulator.api_secret,
        }
        if credentials == "vars":
            host.update(("livekit_" + name, value) for name, value in connection.items())
        else:
            env.update(("LIVEKIT_" + name.upper(), value) for name, value in connection.items())
        host.update(host_vars)
        (self.tmp / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": host}}}))
        summary = self.tmp / "summary.json"
        if summary.exists():
            summary.unlink()
        env.update(
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
        )
        argv = [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "-i",
            str(self.tmp / "hosts.yml"),
            str(self.tmp / "site.yml"),
        ] + (["--check"] if check else [])
        done = subprocess.run(
            argv,
            cwd=str(self.tmp),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.output = done.stdout + done.stderr
        self.returncode = done.returncode
        self.summary = json.loads(summary.read_text()) if summary.exists() else None
        return self

    def failure_messages(self):
        return Outcome(self.returncode, self.output, self.summary, 0).failure_messages()

    def recap(self):
        line = [
            line
            for line in self.output.splitlines()
            if line.startswith("localhost") and "ok=" in line
        ][-1]
        return dict(item.split("=") for item in line.split(":", 1)[1].split())


@pytest.fixture
def playbook(emulator, tmp_path):
    return Playbook(emulator, tmp_path)


def entries(emulator):
    return [
        {
            "phone_number": available(emulator, "US", "415", 1)[0],
            "sip_dispatch_rule_id": "SDR_main",
        },
        {"country_code": "US", "area_code": "650", "count": 2, "sip_dispatch_rule_id": "SDR_pool"},
    ]


def test_check_mode_apply_and_rerun(emulator, playbook):
    wanted = entries(emulator)

    checked = playbook.run(check=True, livekit_phone_numbers=wanted)
    assert checked.returncode == 0, checked.output
    assert checked.summary["check_mode"] is True and checked.summary["changed"] is True
    assert (
        len(checked.summary["purchased"]) == 3
        and wanted[0]["phone_number"] in checked.summary["purchased"]
    )
    assert (
        "Would purchase (3): {}".format(", ".join(checked.summary["purchased"])) in checked.output
    )
    assert "Pool US 650 -> SDR_pool: 2 of 2 held, 2 to buy" in checked.output
    assert writes(emulator.admin.counters()) == 0

    applied = playbook.run(livekit_phone_numbers=wanted)
    assert applied.returncode == 0, applied.output
    assert applied.recap()["changed"] == "1"
    assert applied.summary["purchased"] == checked.summary["purchased"]
    assert sorted(r["e164_format"] for r in applied.summary["phone_numbers"]) == sorted(
        applied.summary["purchased"]
    )
    assert "Purchased (3)" in applied.output
    assert emulator.admin.counters()["writes"]["purchased"] == 3

    emulator.admin.reset_counters()
    again = playbook.run(livekit_phone_numbers=wanted)
    assert again.returncode == 0, again.output
    assert again.recap()["changed"] == "0"
    assert again.summary["changed"] is False and again.summary["purchased"] == []
    counters = emulator.admin.counters()
    assert writes(counters) == 0 and calls(counters, "ListPhoneNumbers") == 1


def test_credentials_default_to_the_environment(emulator, playbook):
    done = playbook.run(credentials="environment", livekit_phone_numbers=entries(emulator)[1:])
    assert done.returncode == 0, done.output
    assert len(done.summary["purchased"]) == 2


def test_release_unlisted_is_off_by_default(emulator, playbook):
    kept, extra = available(emulator, "US", "212", 2)
    emulator.admin.load(
        {
            "numbers": [
                {"e164_format": n, "status": "PHONE_NUMBER_STATUS_OFFLINE"} for n in (kept, extra)
            ]
        }
    )
    wanted = [{"phone_number": kept}]

    default = playbook.run(livekit_phone_numbers=wanted)
    assert default.returncode == 0, default.output
    assert default.summary["unlisted"] == [extra] and default.summary["released"] == []
    assert f"Held but in no entry (1): {extra}" in default.output
    assert writes(emulator.admin.counters()) == 0

    released = playbook.run(
        livekit_phone_numbers=wanted, livekit_phone_numbers_release_unlisted=True
    )
    assert released.returncode == 0, released.output
    assert released.summary["released"] == [extra]
    assert released.summary["phone_numbers"] == [] and released.summary["counts"]["held"] == 1
    assert "Numbers held: 1 (1 unchanged)" in released.output


def test_the_spend_guard_defaults_to_ten(emulator, playbook):
    done = playbook.run(livekit_phone_numbers=[{"country_code": "US", "count": 11}])
    assert done.returncode != 0
    assert (
        "would buy 11 numbers (11 for pool entries[0] (US)), more than max_purchase=10"
        in done.output
    )
    assert (
        writes(emulator.admin.counters()) == 0
        and calls(emulator.admin.counters(), "SearchPhoneNumbers") == 0
    )

    # The alias, as the modules' purchase_limit; the spend guard's own name wins over it.
    alias = playbook.run(
        livekit_phone_numbers=[{"country_code": "US", "count": 11}],
        livekit_phone_numbers_purchase_limit=5,
    )
    assert alias.returncode != 0 and "more than max_purchase=5" in alias.output
    assert writes(emulator.admin.counters()) == 0

    raised = playbook.run(
        livekit_phone_numbers=[{"country_code": "US", "count": 11}],
        livekit_phone_numbers_max_purchase=11,
        livekit_phone_numbers_purchase_limit=5,
    )
    assert raised.returncode == 0, raised.output
    assert len(raised.summary["purchased"]) == 11
    # The play output names ten numbers and counts the rest; the fact keeps all of them.
    assert (
        "Purchased (11): {} and 1 more".format(", ".join(raised.summary["purchased"][:10]))
        in raised.output
    )


@pytest.mark.parametrize(
    "bad, message",
    [
        (
            [{"phone_number": "+14155550100", "country_code": "US", "count": 1}],
            "entries[0] mixes a number (phone_number) with pool keys (country_code, count)",
        ),
        ([{"country_code": "US"}], "entries[0]: a pool needs count"),
        (
            [{"country_code": "US", "count": 2, "state": "absent"}],
            "entries[0]: unknown key state (a pool entry takes",
        ),
        (
            [{"phone_number": "+14155550100", "state": "gone"}],
            "entries[0]: state must be present or absent, not 'gone'",
        ),
        ([{"country_code": "US", "cuont": 2}], "entries[0]: unknown key cuont"),
        ([{"country_code": "US", "count": "many"}], "entries[0]: count must be a whole number"),
    ],
)
def test_malformed_entries_fail_naming_the_entry_before_any_call(emulator, playbook, bad, message):
    # The role's spec checks only that entries are mappings; the module names the entry.
    done = playbook.run(livekit_phone_numbers=bad)
    assert done.returncode != 0
    (failure,) = done.failure_messages()
    assert message in failure, failure
    assert sum(emulator.admin.counters()["calls"].values()) == 0


def test_a_thousand_broken_entries_give_one_short_message(emulator, playbook):
    bad = [{"phone_number": "+1415555%04d" % n, "count": 1} for n in range(1000)]
    done = playbook.run(livekit_phone_numbers=bad)
    assert done.returncode != 0
    (failure,) = done.failure_messages()
    assert failure.startswith("1000 problems in 1000 entries: entries[0] mixes a number")
    assert "entries[9] mixes" in failure and "entries[10]" not in failure
    assert failure.endswith("and 990 more problems")
    assert len(failure) < 1500
    assert "Validation of arguments failed" not in done.output
    assert sum(emulator.admin.counters()["calls"].values()) == 0


def test_what_the_spec_cannot_check_fails_in_the_module_before_any_call(emulator, playbook):
    done = playbook.run(
        livekit_phone_numbers=[
            {"phone_number": "+14155550100"},
            {"phone_number": "415-555-0101"},
            {"country_code": "USA", "count": 1},
        ]
    )
    assert done.returncode != 0
    assert "entries[1]: phone number '415-555-0101' is not E.164" in done.output
    assert "entries[2]: country_code must be an ISO 3166-1 alpha-2 code" in done.output
    assert sum(emulator.admin.counters()["calls"].values()) == 0


@pytest.mark.parametrize(
    "wanted", [[{"country_code": "US", "count": "x"}], [{"country_code": "US", "count": 1}]]
)
def test_the_secret_stays_out_of_the_output(emulator_factory, tmp_path, wanted):
    secret = "zq-distinctive-role-secret-0123456789"
    emulator = emulator_factory(api_secret=secret)
    done = Playbook(emulator, tmp_path).run(livekit_phone_numbers=wanted)
    assert (done.returncode == 0) is (wanted[0]["count"] == 1), done.output
    assert "livekit.sip.phone_numbers" in done.output
    assert secret not in done.output


RULES = [
    {
        "name": "support",
        "type": "individual",
        "room_prefix": "support-",
        "pin": "zq-distinctive-pin-4711",
        "agents": [{"agent_name": "support-agent", "metadata": "tier1"}],
    }
]


def test_the_role_creates_a_rule_and_routes_a_new_number_to_it(emulator, playbook):
    emulator.admin.load(
        {
            "sip_dispatch_rules": [
                {
                    "sip_dispatch_rule_id": "SDR_legacy",
                    "name": "legacy",
                    "trunk_ids": ["ST_old"],
                    "rule": {"dispatch_rule_direct": {"room_name": "old"}},
                }
            ]
        }
    )
    number = available(emulator, "US", "415", 1)[0]
    wanted = {
        "livekit_sip_dispatch_rules": RULES,
        "livekit_phone_numbers": [{"phone_number": number, "sip_dispatch_rule": "support"}],
    }
    emulator.admin.reset_counters()

    checked = playbook.run(check=True, **wanted)
    assert checked.returncode == 0, checked.output
    summary = checked.summary
    assert summary["rules_created"] == ["support"] and summary["rules_unlisted"] == ["legacy"]
    assert summary["purchased"] == [number]
    assert summary["phone_numbers"][0]["sip_dispatch_rule_ids"] == [
        "(created by this run: support)"
    ]
    assert "Would create rules (1): support" in checked.output
    assert "Rules in no definition (1): legacy" in checked.output
    counters = emulator.admin.counters()
    assert writes(counters) == 0 and sum(counters["rule_writes"].values()) == 0
    assert calls(counters, "CreateSIPDispatchRule") == 0

    applied = playbook.run(**wanted)
    assert applied.returncode == 0, applied.output
    assert applied.recap()["changed"] == "1"
    assert "Created rules (1): support" in applied.output
    rule_id = applied.summary["sip_dispatch_rules"][0]["sip_dispatch_rule"]["id"]
    assert rule_id.startswith("SDR_") and rule_id != "SDR_legacy"
    assert applied.summary["phone_numbers"][0]["sip_dispatch_rule_ids"] == [rule_id]
    counters = emulator.admin.counters()
    assert counters["rule_writes"]["created"] == 1 and counters["writes"]["purchased"] == 1
    assert "zq-distinctive-pin-4711" not in applied.output + checked.output

    emulator.admin.reset_counters()
    again = playbook.run(**wanted)
    assert again.returncode == 0, again.output
    assert again.recap()["changed"] == "0"
    assert again.summary["rules_created"] == [] and again.summary["purchased"] == []
    assert "Created rules (0): -" in again.output
    counters = emulator.admin.counters()
    assert writes(counters) == 0 and sum(counters["rule_writes"].values()) == 0
    # One listing of the rules (a page, then the empty page that ends it), one of the numbers.
    assert calls(counters, "ListSIPDispatchRule") == 2 and calls(counters, "ListPhoneNumbers") == 1


def test_an_entry_naming_an_unknown_rule_fails_before_any_write(emulator, playbook):
    done = playbook.run(
        livekit_sip_dispatch_rules=RULES,
        livekit_phone_numbers=[{"country_code": "US", "count": 1, "sip_dispatch_rule": "sales"}],
    )
    assert done.returncode != 0
    assert (
        "no SIP dispatch rule is named 'sales'; the project's rules are named: (none); "
        "this run creates: support" in done.output
    )
    counters = emulator.admin.counters()
    assert writes(counters) == 0 and sum(counters["rule_writes"].values()) == 0
