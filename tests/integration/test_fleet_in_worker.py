"""phone_number_fleet run in the action plugin's worker returns what the module returns.

Each scenario runs twice against the same fresh project: once as Ansible runs a module
(AnsibleModule, its JSON result) and once as the action plugin runs it on the controller
(ControllerModule). The results must be the same, apart from the timestamps of records.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.livekit.sip.plugins.modules import phone_number_fleet as module_code
from ansible_collections.livekit.sip.plugins.plugin_utils._controller_module import run_in_worker

from .helpers import available, connection, run_module, warning_texts

NAME = "livekit.sip.phone_number_fleet"


def comparable(result):
    result = copy.deepcopy(result)
    result["warnings"] = warning_texts(result)
    for record in result.get("phone_numbers", []):
        record.pop("created_at", None)
        record.pop("updated_at", None)
        record.pop("assigned_at", None)
    return result


def both(emulator, steps):
    """Run ``steps`` (args, check_mode, diff) from an empty project each way; the two lists."""
    outcomes = []
    for way in ("module", "worker"):
        emulator.admin.reset()
        results = []
        for args, check_mode, diff in steps:
            merged = dict(connection(emulator), **args)
            if way == "module":
                result = run_module("phone_number_fleet", merged, check_mode=check_mode, diff=diff)
            else:
                result = run_in_worker(module_code, NAME, copy.deepcopy(merged), check_mode, diff)
            results.append(comparable(result))
        outcomes.append(results)
    return outcomes


def test_check_mode_a_run_and_a_re_run_return_the_same_either_way(emulator):
    numbers = available(emulator, "US", "415", 2)
    entries = [
        {"phone_number": numbers[0], "sip_dispatch_rule_id": "SDR_a", "name": "support"},
        {"phone_number": numbers[1]},
        {"country_code": "US", "area_code": "212", "count": 2, "sip_dispatch_rule_id": "SDR_b"},
    ]
    args = {"entries": entries, "return_records": "all"}
    module, worker = both(emulator, [(args, True, True), (args, False, True), (args, False, False)])
    assert module == worker
    checked, applied, again = worker
    assert checked["changed"] is True and len(checked["purchased"]) == 4
    assert applied["changed"] is True and applied["counts"]["held"] == 4
    assert again["changed"] is False and again["purchased"] == []
    for result in worker:
        assert result["invocation"]["module_args"]["api_secret"] == (
            "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
        )


@pytest.mark.parametrize(
    "args",
    [
        {"entries": [{"phone_number": "+14155550100", "colour": "red"}]},
        {"entries": [{"phone_number": "+14155550100"}], "bogus": True},
        {"entries": [{"phone_number": "+14155550100"}], "return_records": "some"},
        {"entries": [{"country_code": "US", "count": 50}]},
        {"entries": [{"phone_number": "+14155550100"}], "max_purchase": 1, "purchase_limit": 2},
    ],
    ids=["bad-entry", "unknown-option", "bad-choice", "spend-guard", "alias-and-option"],
)
def test_failures_and_warnings_are_the_same_either_way(emulator, args):
    module, worker = both(emulator, [(args, False, False)])
    assert module == worker
    assert worker[0].get("failed") or worker[0]["warnings"]


def test_many_entries_come_out_as_they_go_in(emulator):
    # Past the size the stand-in hands over without the validator's copy.
    numbers = available(emulator, "US", None, 150)
    args = {"entries": [{"phone_number": n} for n in numbers], "max_purchase": 150}
    module, worker = both(emulator, [(args, True, False), (args, False, False)])
    assert module == worker
    assert worker[1]["counts"]["held"] == 150
