"""The modules' RETURN documentation matches what the code returns, so the two cannot drift.

The phone-number record of every module is checked against the normaliser (_records.py), and
the result keys the writing modules share against the executor's Progress and the errors.
"""

from __future__ import annotations

import ast
import os

import pytest
import yaml

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._execute import Progress
from ansible_collections.livekit.sip.plugins.module_utils._records import (
    RECORD_FIELDS,
    STATUS_NUMBERS,
    TYPE_NUMBERS,
    normalize_record,
)

MODULES_DIR = os.path.join(os.path.dirname(os.path.abspath(errors.__file__)), os.pardir, "modules")
MODULES = ["phone_number", "phone_number_fleet", "phone_number_info", "phone_number_search"]
WRITING = ["phone_number", "phone_number_fleet"]
# The keys every writing module returns the same way (the executor's Progress, and error).
SHARED = ["purchased", "routed", "released", "pending", "api_calls", "error"]

# A record as a server of the newest vintage writes it, every field populated.
FULL = {
    "id": "PN_1",
    "e164_format": "+14155550100",
    "country_code": "US",
    "area_code": "415",
    "number_type": "PHONE_NUMBER_TYPE_LOCAL",
    "locality": "San Francisco",
    "region": "CA",
    "spam_score": 0.25,
    "capabilities": ["voice"],
    "status": "PHONE_NUMBER_STATUS_ACTIVE",
    "sip_dispatch_rule_ids": ["SDR_1"],
    "created_at": "2025-09-08T12:00:00Z",
    "updated_at": "2025-09-08T12:00:00Z",
    "assigned_at": "2025-09-08T12:00:00Z",
    "released_at": "2025-09-08T12:00:00Z",
}
DOC_TYPES = {str: "str", list: "list", float: "float", int: "int", bool: "bool", dict: "dict"}


def module_doc(module, name):
    """A module's DOCUMENTATION or RETURN, parsed without importing the module."""
    with open(os.path.join(MODULES_DIR, module + ".py")) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(target, "id", None) == name for target in node.targets
        ):
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError(f"{module} has no {name}")


@pytest.mark.parametrize("module", MODULES)
def test_the_record_schema_is_the_normalisers(module):
    record_doc = module_doc(module, "RETURN")["phone_numbers"]
    contains = record_doc["contains"]
    produced = normalize_record(FULL)
    # Same fields, in the order records are presented.
    assert list(contains) == [name for name, dummy in RECORD_FIELDS] == list(produced)
    assert list(record_doc["sample"][0]) == list(produced)
    empty = normalize_record({})
    for name, spec in contains.items():
        assert spec["type"] == DOC_TYPES[type(produced[name])], name
        # A field the server leaves out is a zero value of the documented type, or null for
        # the timestamps, which say so.
        if empty[name] is None:
            assert "V(null)" in str(spec["description"]), name
        else:
            assert spec["type"] == DOC_TYPES[type(empty[name])], name
        if spec["type"] == "list":
            assert spec["elements"] == "str", name
        assert spec["returned"] == "always", name
    assert set(contains["number_type"]["choices"]) == set(TYPE_NUMBERS)
    assert set(contains["status"]["choices"]) <= set(STATUS_NUMBERS)


def without_samples(spec):
    if isinstance(spec, dict):
        return {k: without_samples(v) for k, v in spec.items() if k not in ("sample",)}
    return spec


@pytest.mark.parametrize("key", SHARED)
def test_writing_modules_document_the_shared_keys_alike(key):
    docs = [module_doc(module, "RETURN") for module in WRITING]
    assert all(key in doc for doc in docs), key
    first, second = (without_samples(doc[key]) for doc in docs)
    # Descriptions may name a module's own options; types and structure must agree.
    for spec in (first, second):
        spec.pop("description", None)
        spec.pop("version_added", None)
        for item in spec.get("contains", {}).values():
            item.pop("description", None)
    assert first == second, key


@pytest.mark.parametrize("module", WRITING)
def test_the_progress_keys_are_documented(module):
    doc = module_doc(module, "RETURN")

    class Stats:
        def as_dict(self):
            return {"calls": 1, "attempts": 2, "retries": 1, "other": 0}

    class Api:
        twirp = type("Twirp", (), {"stats": Stats()})()

    progress = Progress(Api())
    progress.pending = ["+14155550100"]
    result = progress.result()
    assert set(result) - {"changed"} <= set(doc)
    assert set(result["api_calls"]) == set(doc["api_calls"]["contains"])
    assert set(errors.LiveKitError("x").to_dict()) == set(doc["error"]["contains"])


def collection_codes():
    codes = set()
    for value in vars(errors).values():
        if isinstance(value, type) and issubclass(value, errors.LiveKitError):
            if not issubclass(value, errors.ApiError) and value.default_code != "unknown":
                codes.add(value.default_code)
    return codes


@pytest.mark.parametrize("module", WRITING)
def test_every_code_of_the_collection_is_documented(module):
    described = str(module_doc(module, "RETURN")["error"]["contains"]["code"]["description"])
    table = errors.__doc__
    for code in collection_codes():
        assert f"V({code})" in described, code
        assert f"\n{code} " in table, code


def test_the_fleets_rule_and_pool_results_are_documented():
    from ansible_collections.livekit.sip.plugins.module_utils._entries import parse_entries
    from ansible_collections.livekit.sip.plugins.module_utils._plan import Planner
    from ansible_collections.livekit.sip.plugins.module_utils._rule_set import (
        RULE_OPTIONS,
        RuleSet,
        parse_definitions,
    )
    from ansible_collections.livekit.sip.plugins.modules.phone_number_fleet import (
        pool_results,
        rule_result,
    )

    doc = module_doc("phone_number_fleet", "RETURN")
    definition = {option: spec.get("default") for option, spec in RULE_OPTIONS.items()}
    definition.update(name="support", type="direct", room_name="lobby")
    rules = RuleSet(parse_definitions([definition]), [])
    result = rule_result(rules, managed=True)
    assert {key for key in result if key.startswith("rules_")} == {
        key for key in doc if key.startswith("rules_")
    }
    assert set(result["sip_dispatch_rules"][0]) == set(doc["sip_dispatch_rules"]["contains"])
    assert rule_result(rules, managed=False) == {}

    numbers, pools = parse_entries([{"country_code": "US", "count": 0, "sip_dispatch_rule": "x"}])
    planner = Planner([], numbers, pools)
    planner.finish()
    item = pool_results(planner, pools)[0]
    assert list(item) == list(doc["pools"]["contains"]) == list(doc["pools"]["sample"][0])
    assert item["sip_dispatch_rule"] == "x"
