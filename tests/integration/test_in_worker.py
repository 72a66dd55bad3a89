"""Every module run in the action plugin's worker returns what it returns as a module.

Each scenario runs twice against the same fresh project: once as Ansible runs a module
(AnsibleModule, its JSON result) and once as the action plugin runs it on the controller
(ControllerModule). The results must be the same, apart from the timestamps of records.
"""

from __future__ import annotations

import copy
import importlib

import pytest

from ansible_collections.livekit.sip.plugins.plugin_utils._controller_module import run_in_worker

from .helpers import MODULES, available, connection, run_module, warning_texts


def comparable(result):
    result = copy.deepcopy(result)
    result["warnings"] = warning_texts(result)
    _drop_times(result)
    return result


def _drop_times(value):
    if isinstance(value, dict):
        for key in ("created_at", "updated_at", "assigned_at"):
            value.pop(key, None)
        for item in value.values():
            _drop_times(item)
    elif isinstance(value, list):
        for item in value:
            _drop_times(item)


def both(emulator, steps, name="phone_number_fleet"):
    """Run ``steps`` (args, check_mode, diff) from an empty project each way; the two lists."""
    module_code = importlib.import_module(MODULES + name)
    outcomes = []
    for way in ("module", "worker"):
        emulator.admin.reset()
        results = []
        for args, check_mode, diff in steps:
            merged = dict(connection(emulator), **args)
            if way == "module":
                result = run_module(name, merged, check_mode=check_mode, diff=diff)
            else:
                fqcn = "livekit.sip." + name
                result = run_in_worker(module_code, fqcn, copy.deepcopy(merged), check_mode, diff)
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


def test_phone_number_the_same_either_way(emulator):
    number = available(emulator, "US", "415", 1)[0]
    present = {"phone_numbers": [number], "sip_dispatch_rule_id": "SDR_a", "name": "front desk"}
    absent = {"phone_numbers": [number], "state": "absent"}
    steps = [
        (present, True, True),
        (present, False, True),
        (present, False, False),
        (absent, True, True),
        (absent, False, False),
        ({"phone_numbers": ["+1 415 not a number"]}, False, False),
        ({"phone_numbers": [number], "ids": ["PN_x"]}, False, False),
    ]
    module, worker = both(emulator, steps, "phone_number")
    assert module == worker
    assert [r["changed"] for r in worker[:5]] == [True, True, False, True, True]
    assert worker[5]["failed"] and "mutually exclusive" in worker[6]["msg"]


def test_the_info_and_search_modules_the_same_either_way(emulator):
    numbers = available(emulator, "US", "415", 2)
    run_module(
        "phone_number_fleet",
        dict(connection(emulator), entries=[{"phone_number": n} for n in numbers]),
    )
    for name, steps in (
        (
            "phone_number_info",
            [
                ({}, False, False),
                ({"phone_number": numbers[0]}, True, False),
                ({"statuses": ["offline"], "limit": 1}, False, False),
                ({"id": "PN_x", "phone_number": numbers[0]}, False, False),
            ],
        ),
        (
            "phone_number_search",
            [
                ({"country_code": "US", "area_code": "415", "limit": 3}, False, False),
                ({"country_code": "USA"}, False, False),
            ],
        ),
    ):
        module, worker = [], []
        for args, check_mode, diff in steps:
            merged = dict(connection(emulator), **args)
            module.append(comparable(run_module(name, merged, check_mode, diff)))
            code = importlib.import_module(MODULES + name)
            fqcn = "livekit.sip." + name
            worker.append(comparable(run_in_worker(code, fqcn, merged, check_mode, diff)))
        assert module == worker, name
        assert worker[-1]["failed"] is True


def test_the_dispatch_rule_modules_the_same_either_way(emulator):
    rule = {"name": "support-line", "type": "individual", "room_prefix": "call-", "pin": "4321"}
    steps = [
        (rule, True, True),
        (rule, False, True),
        (dict(rule, room_prefix="line-"), False, True),
        (rule, False, False),
        ({"name": "support-line", "state": "absent"}, False, False),
        ({"type": "direct"}, False, False),
    ]
    module, worker = both(emulator, steps, "sip_dispatch_rule")
    assert module == worker
    assert [r["changed"] for r in worker[:5]] == [True, True, True, True, True]
    assert "4321" not in repr(worker)
    listed = both(
        emulator,
        [(rule, False, False)],
        "sip_dispatch_rule",
    )
    assert listed[0] == listed[1]
    info_steps = [({}, False, False), ({"name": "nobody"}, False, False)]
    module, worker = both(emulator, info_steps, "sip_dispatch_rule_info")
    assert module == worker
