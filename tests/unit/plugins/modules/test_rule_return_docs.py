"""The dispatch-rule modules' RETURN documentation matches the normaliser and the errors."""

from __future__ import annotations

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils._dispatch_rules import (
    ENCRYPTIONS,
    RULE_TYPES,
    DuplicateRuleName,
    RuleInUse,
    normalize_rule,
    public_rule,
)
from tests.unit.plugins.modules.test_return_docs import DOC_TYPES, module_doc

# A rule as a server writes it, every field populated.
FULL = {
    "sip_dispatch_rule_id": "SDR_1",
    "rule": {"dispatch_rule_individual": {"room_prefix": "p-", "pin": "1", "no_randomness": True}},
    "trunk_ids": ["ST_1"],
    "hide_phone_number": True,
    "inbound_numbers": ["+14155550199"],
    "numbers": ["+14155550100"],
    "name": "n",
    "metadata": "m",
    "attributes": {"a": "1"},
    "room_preset": "preset",
    "room_config": {"agents": [{"agent_name": "bot", "metadata": "x"}]},
    "media": {"encryption": "SIP_MEDIA_ENCRYPT_ALLOW"},
    "krisp_enabled": True,
    "media_encryption": "SIP_MEDIA_ENCRYPT_ALLOW",
    "created_at": "2026-09-08T12:00:00Z",
    "updated_at": "2026-09-08T12:00:00Z",
}


def rule_doc(module):
    doc = module_doc(module, "RETURN")
    if module == "sip_dispatch_rule":
        return doc["sip_dispatch_rule"], doc["sip_dispatch_rule"]["sample"]
    return doc["sip_dispatch_rules"], doc["sip_dispatch_rules"]["sample"][0]


@pytest.mark.parametrize("module", ["sip_dispatch_rule", "sip_dispatch_rule_info"])
def test_the_rule_schema_is_the_normalisers(module):
    spec, sample = rule_doc(module)
    contains = spec["contains"]
    produced = public_rule(normalize_rule(FULL))
    empty = public_rule(normalize_rule({}))
    assert list(contains) == list(produced) == list(sample)
    for name, field in contains.items():
        assert field["type"] == DOC_TYPES[type(produced[name])], name
        assert field["returned"] == "always", name
        if empty[name] is None:
            assert "V(null)" in str(field["description"]), name
        else:
            assert field["type"] == DOC_TYPES[type(empty[name])], name
    assert list(contains["agents"]["contains"]) == list(produced["agents"][0])
    assert set(contains["type"]["choices"]) == set(RULE_TYPES) | {""}
    assert set(contains["media_encryption"]["choices"]) == set(ENCRYPTIONS)


def test_both_modules_describe_a_rule_alike():
    assert (
        rule_doc("sip_dispatch_rule")[0]["contains"]
        == rule_doc("sip_dispatch_rule_info")[0]["contains"]
    )


@pytest.mark.parametrize("module", ["sip_dispatch_rule", "sip_dispatch_rule_info"])
def test_errors_and_calls_are_documented(module):
    doc = module_doc(module, "RETURN")
    assert set(errors.LiveKitError("x").to_dict()) == set(doc["error"]["contains"])
    assert set(doc["api_calls"]["contains"]) == {"calls", "attempts", "retries"}


def test_the_codes_of_the_rule_module_are_documented():
    described = str(
        module_doc("sip_dispatch_rule", "RETURN")["error"]["contains"]["code"]["description"]
    )
    for code in (
        DuplicateRuleName.default_code,
        RuleInUse.default_code,
        "write_disagrees",
        "pagination",
    ):
        assert f"V({code})" in described, code
