"""sip_dispatch_rule and sip_dispatch_rule_info against the emulator over HTTP."""

from __future__ import annotations

import json

import pytest
import requests

from tests.integration.helpers import available, calls, connection, run_module

pytest_plugins = ["livekit_sip_emulator.fixtures"]


def run(emulator, module, check_mode=False, diff=False, **args):
    """The module with the emulator's connection options (``name`` is a module option here)."""
    return run_module(module, dict(connection(emulator), **args), check_mode=check_mode, diff=diff)


RULE_WRITES = ("CreateSIPDispatchRule", "UpdateSIPDispatchRule", "DeleteSIPDispatchRule")


class Someone:
    """Another client of the same project, writing rules straight over the API."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.session = requests.Session()
        self.session.trust_env = False

    def call(self, method, body, service="livekit.SIP"):
        answer = self.session.post(
            f"{self.emulator.url}/twirp/{service}/{method}",
            data=json.dumps(body),
            headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer " + self.emulator.token(),
            },
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def create(self, **info):
        return self.call("CreateSIPDispatchRule", {"dispatch_rule": info})

    def rule(self, rule_id):
        return self.call("ListSIPDispatchRule", {"dispatch_rule_ids": [rule_id]})["items"][0]

    def rules(self):
        return self.call("ListSIPDispatchRule", {})["items"]


def rule_writes(emulator):
    counters = emulator.admin.counters()
    return {method: calls(counters, method) for method in RULE_WRITES}


NO_WRITES = dict.fromkeys(RULE_WRITES, 0)

SUPPORT = {
    "name": "support",
    "type": "individual",
    "room_prefix": "support-",
    "agents": [{"agent_name": "support-agent", "metadata": "tier1"}],
    "attributes": {"team": "support"},
    "media_encryption": "allow",
}


def test_create_then_a_second_run_writes_nothing(emulator):
    created = run(emulator, "sip_dispatch_rule", **SUPPORT)
    assert created["changed"] is True and created["action"] == "create"
    rule = created["sip_dispatch_rule"]
    assert rule["id"].startswith("SDR_") and rule["name"] == "support"
    assert rule["type"] == "individual" and rule["room_prefix"] == "support-"
    assert rule["randomize_room"] is True and rule["pin_set"] is False
    assert rule["agents"] == [{"agent_name": "support-agent", "metadata": "tier1"}]
    assert rule["media_encryption"] == "allow" and rule["attributes"] == {"team": "support"}
    assert rule["created_at"] and rule["numbers"] == []
    emulator.admin.reset_counters()
    again = run(emulator, "sip_dispatch_rule", **SUPPORT)
    assert again["changed"] is False and again["action"] == "none"
    assert again["sip_dispatch_rule"] == rule
    assert rule_writes(emulator) == NO_WRITES
    assert again["api_calls"]["calls"] == 2  # one page with the rule, one empty page


def test_check_mode_plans_a_creation_and_writes_nothing(emulator):
    result = run(emulator, "sip_dispatch_rule", check_mode=True, diff=True, **SUPPORT)
    assert result["changed"] is True and result["action"] == "create"
    assert (
        result["sip_dispatch_rule"]["id"] == ""
        and result["sip_dispatch_rule"]["room_prefix"] == "support-"
    )
    assert result["diff"]["before"] == {} and result["diff"]["after"]["name"] == "support"
    assert rule_writes(emulator) == NO_WRITES
    assert Someone(emulator).rules() == []


def test_a_rule_is_found_by_name_beyond_the_first_short_page(emulator):
    emulator.admin.configure(max_rule_page_size=2)
    someone = Someone(emulator)
    ids = [
        someone.create(
            rule={"dispatch_rule_direct": {"room_name": "r"}},
            trunk_ids=[f"ST_{i}"],
            name=f"rule-{i}",
        )["sip_dispatch_rule_id"]
        for i in range(7)
    ]
    last = max(ids)
    name = f"rule-{ids.index(last)}"
    emulator.admin.reset_counters()
    result = run(emulator, "sip_dispatch_rule", name=name, page_size=5, metadata="found")
    assert result["action"] == "update" and result["sip_dispatch_rule"]["id"] == last
    # Pages of 2, 2, 2, 1 (all short of the 5 asked for), then the empty page.
    assert calls(emulator.admin.counters(), "ListSIPDispatchRule") == 5
    assert someone.rule(last)["metadata"] == "found"
    info = run(emulator, "sip_dispatch_rule_info", page_size=5)
    assert sorted(r["id"] for r in info["sip_dispatch_rules"]) == sorted(ids) and info["pages"] == 5
    by_name = run(emulator, "sip_dispatch_rule_info", name=name)
    assert [r["id"] for r in by_name["sip_dispatch_rules"]] == [last]


def test_an_update_keeps_what_someone_else_set(emulator):
    rule_id = run(emulator, "sip_dispatch_rule", **SUPPORT)["sip_dispatch_rule"]["id"]
    someone = Someone(emulator)
    theirs = someone.rule(rule_id)
    theirs.update(
        numbers=["+14155550100"],
        krisp_enabled=True,
        room_config={
            "empty_timeout": 45,
            "agents": [{"agent_name": "support-agent", "metadata": "tier1", "deployment": "blue"}],
        },
        media={"encryption": "SIP_MEDIA_ENCRYPT_ALLOW", "codecs": [{"name": "PCMU"}]},
    )
    someone.call("UpdateSIPDispatchRule", {"sip_dispatch_rule_id": rule_id, "replace": theirs})
    emulator.admin.reset_counters()
    # Partial update: metadata only.
    updated = run(emulator, "sip_dispatch_rule", name="support", metadata="hours 9-17")
    assert updated["action"] == "update" and updated["changes"] == ["metadata"]
    # A change only replace can make: the agents; the server's record is sent back with it.
    replaced = run(
        emulator,
        "sip_dispatch_rule",
        name="support",
        agents=[{"agent_name": "support-agent"}, {"agent_name": "billing-agent", "metadata": "b"}],
        media_encryption="require",
    )
    assert replaced["action"] == "replace" and replaced["changes"] == ["media_encryption", "agents"]
    stored = someone.rule(rule_id)
    assert stored["numbers"] == ["+14155550100"] and stored["krisp_enabled"] is True
    assert stored["room_config"]["empty_timeout"] == 45
    assert stored["room_config"]["agents"][0] == {
        "agent_name": "support-agent",
        "metadata": "tier1",
        "restart_policy": "JRP_ON_FAILURE",
        "deployment": "blue",
        "attributes": {},
    }
    assert stored["room_config"]["agents"][1]["agent_name"] == "billing-agent"
    assert stored["media"]["codecs"] == [{"name": "PCMU", "rate": 0}]
    assert stored["media"]["encryption"] == "SIP_MEDIA_ENCRYPT_REQUIRE"
    assert stored["metadata"] == "hours 9-17" and stored["attributes"] == {"team": "support"}
    counters = emulator.admin.counters()
    assert counters["rule_writes"] == {"created": 0, "updated": 1, "replaced": 1, "deleted": 0}


def test_two_rules_with_the_name_fail_naming_both_and_write_nothing(emulator):
    someone = Someone(emulator)
    a = someone.create(
        rule={"dispatch_rule_direct": {"room_name": "a"}}, trunk_ids=["ST_1"], name="twin"
    )
    b = someone.create(
        rule={"dispatch_rule_direct": {"room_name": "b"}}, trunk_ids=["ST_2"], name="twin"
    )
    emulator.admin.reset_counters()
    for state in ("present", "absent"):
        result = run(
            emulator, "sip_dispatch_rule", name="twin", state=state, metadata=None, force=True
        )
        assert result["failed"] is True and result["error"]["code"] == "duplicate_name"
        assert (
            a["sip_dispatch_rule_id"] in result["msg"]
            and b["sip_dispatch_rule_id"] in result["msg"]
        )
    assert rule_writes(emulator) == NO_WRITES


def test_delete_of_a_rule_numbers_are_routed_to_needs_force(emulator):
    created = run(emulator, "sip_dispatch_rule", name="sales", type="callee", room_prefix="sales-")
    rule_id = created["sip_dispatch_rule"]["id"]
    number = available(emulator, count=1)[0]
    bought = run(emulator, "phone_number", phone_number=number, sip_dispatch_rule_id=rule_id)
    assert bought["purchased"] == [number]
    emulator.admin.reset_counters()
    for check_mode in (True, False):
        refused = run(
            emulator, "sip_dispatch_rule", name="sales", state="absent", check_mode=check_mode
        )
        assert refused["failed"] is True and refused["error"]["code"] == "rule_in_use"
        assert number in refused["msg"] and refused["routed_numbers"] == [number]
    assert rule_writes(emulator) == NO_WRITES
    preview = run(
        emulator, "sip_dispatch_rule", name="sales", state="absent", force=True, check_mode=True
    )
    assert preview["changed"] is True and preview["unrouted_numbers"] == [number]
    assert rule_writes(emulator) == NO_WRITES
    deleted = run(
        emulator, "sip_dispatch_rule", name="sales", state="absent", force=True, diff=True
    )
    assert deleted["changed"] is True and deleted["action"] == "delete"
    assert deleted["unrouted_numbers"] == [number] and deleted["sip_dispatch_rule"] == {}
    assert deleted["diff"]["before"]["id"] == rule_id and deleted["diff"]["after"] == {}
    assert Someone(emulator).rules() == []
    info = run(emulator, "phone_number_info", phone_number=number)
    assert info["phone_numbers"][0]["status"] == "offline"
    gone = run(emulator, "sip_dispatch_rule", name="sales", state="absent")
    assert gone["changed"] is False and gone["action"] == "none"


def test_delete_without_numbers_needs_no_force(emulator):
    run(emulator, "sip_dispatch_rule", name="idle", type="direct", room_name="lobby")
    deleted = run(emulator, "sip_dispatch_rule", name="idle", state="absent")
    assert deleted["changed"] is True and deleted["unrouted_numbers"] == []
    assert Someone(emulator).rules() == []


def test_rename_by_id_and_unknown_ids(emulator):
    rule_id = run(emulator, "sip_dispatch_rule", name="old", type="direct", room_name="lobby")[
        "sip_dispatch_rule"
    ]["id"]
    run(
        emulator,
        "sip_dispatch_rule",
        name="other",
        type="direct",
        room_name="x",
        trunk_ids=["ST_1"],
    )
    renamed = run(emulator, "sip_dispatch_rule", id=rule_id, name="new")
    assert renamed["action"] == "update" and renamed["sip_dispatch_rule"]["name"] == "new"
    clash = run(emulator, "sip_dispatch_rule", id=rule_id, name="other")
    assert clash["failed"] is True and "has that name already" in clash["msg"]
    unknown = run(emulator, "sip_dispatch_rule", id="SDR_nope", metadata="m")
    assert unknown["failed"] is True and "SDR_nope" in unknown["msg"]
    assert run(emulator, "sip_dispatch_rule", id="SDR_nope", state="absent")["changed"] is False
    info = run(emulator, "sip_dispatch_rule_info", id="SDR_nope")
    assert info["sip_dispatch_rules"] == [] and info["changed"] is False
    assert [
        r["name"] for r in run(emulator, "sip_dispatch_rule_info", id=rule_id)["sip_dispatch_rules"]
    ] == ["new"]


def test_a_conflict_the_server_refuses_fails_with_its_message(emulator):
    first = run(emulator, "sip_dispatch_rule", name="catch-all", type="individual")
    second = run(
        emulator, "sip_dispatch_rule", name="another catch-all", type="direct", room_name="r"
    )
    assert second["failed"] is True and second["error"]["code"] == "invalid_argument"
    assert first["sip_dispatch_rule"]["id"] in second["msg"]


def test_the_pin_is_never_returned(emulator):
    result = run(
        emulator,
        "sip_dispatch_rule",
        name="bridge",
        type="direct",
        room_name="board",
        pin="4711",
        diff=True,
    )
    assert result["sip_dispatch_rule"]["pin_set"] is True
    assert "4711" not in json.dumps(result)
    changed = run(emulator, "sip_dispatch_rule", name="bridge", pin="1234", diff=True)
    assert changed["changed"] is True and changed["changes"] == ["pin"]
    assert "4711" not in json.dumps(changed) and "1234" not in json.dumps(changed)
    assert Someone(emulator).rules()[0]["rule"]["dispatch_rule_direct"]["pin"] == "1234"
    assert run(emulator, "sip_dispatch_rule", name="bridge", pin="1234")["changed"] is False


@pytest.mark.parametrize("settings", [{"json_names": "camel"}, {"skip_defaults": True}])
def test_other_server_variants_are_idempotent_too(emulator_factory, settings):
    emulator = emulator_factory(**settings)
    run(emulator, "sip_dispatch_rule", **SUPPORT)
    someone = Someone(emulator)
    rule_id = run(emulator, "sip_dispatch_rule_info", name="support")["sip_dispatch_rules"][0]["id"]
    theirs = someone.rule(rule_id)
    if settings.get("json_names") == "camel":
        theirs["roomConfig"]["emptyTimeout"] = 9
    else:
        theirs["room_config"]["empty_timeout"] = 9
    someone.call("UpdateSIPDispatchRule", {"sip_dispatch_rule_id": rule_id, "replace": theirs})
    assert run(emulator, "sip_dispatch_rule", **SUPPORT)["changed"] is False
    replaced = run(emulator, "sip_dispatch_rule", name="support", krisp_enabled=True)
    assert replaced["action"] == "replace"
    stored = someone.rule(rule_id)
    config = stored.get("roomConfig") or stored.get("room_config")
    assert config.get("emptyTimeout", config.get("empty_timeout")) == 9
    assert (
        run(emulator, "sip_dispatch_rule", name="support", krisp_enabled=True)["changed"] is False
    )


def test_bad_options_fail_before_any_write(emulator):
    for args, words in (
        ({"name": "x"}, "type is required"),
        ({"name": "x", "type": "direct"}, "room_name is required"),
        ({"name": "x", "type": "callee", "room_name": "r"}, "room_name applies"),
        ({"name": "x", "type": "direct", "room_name": "r", "page_size": 0}, "page_size"),
        ({"name": "x", "type": "direct", "room_name": "r", "attributes": {"a": ""}}, "empty value"),
    ):
        result = run(emulator, "sip_dispatch_rule", **args)
        assert result["failed"] is True and words in result["msg"], (args, result["msg"])
    assert rule_writes(emulator) == NO_WRITES


@pytest.mark.parametrize("retries", [0, 3])
def test_a_create_whose_answer_was_lost_is_found_not_repeated(emulator, retries):
    emulator.admin.set_faults(script={"CreateSIPDispatchRule": ["lost_response"]})
    result = run(emulator, "sip_dispatch_rule", retries=retries, **SUPPORT)
    assert result.get("failed") is not True, result["msg"]
    assert result["action"] == "create" and result["changed"] is True
    rules = Someone(emulator).rules()
    assert [r["sip_dispatch_rule_id"] for r in rules] == [result["sip_dispatch_rule"]["id"]]
    assert emulator.admin.counters()["rule_writes"]["created"] == 1


def test_a_delete_whose_answer_was_lost_is_checked(emulator):
    run(emulator, "sip_dispatch_rule", name="idle", type="direct", room_name="lobby")
    emulator.admin.set_faults(script={"DeleteSIPDispatchRule": ["lost_response"]})
    deleted = run(emulator, "sip_dispatch_rule", name="idle", state="absent", retries=0)
    assert deleted.get("failed") is not True, deleted["msg"]
    assert deleted["changed"] is True and Someone(emulator).rules() == []


def test_an_update_that_keeps_failing_is_reported(emulator):
    run(emulator, "sip_dispatch_rule", name="idle", type="direct", room_name="lobby")
    emulator.admin.set_faults(script={"UpdateSIPDispatchRule": ["unavailable"] * 3})
    failed = run(emulator, "sip_dispatch_rule", name="idle", metadata="m", retries=2)
    assert failed["failed"] is True and failed["error"]["code"] == "unavailable"
    assert "3 attempts" in failed["msg"]
    assert Someone(emulator).rules()[0]["metadata"] == ""
