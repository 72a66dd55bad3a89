"""Normalisation, name lookups and planning of SIP dispatch rules (pure functions)."""

from __future__ import annotations

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _dispatch_rules as dr
from ansible_collections.livekit.sip.plugins.module_utils._errors import ParameterError


def params(**given):
    base = dict.fromkeys(dr.DESIRED_FIELDS)
    base.update(given)
    return base


def desired(**given):
    return dr.desired_from_params(params(**given))


def raw_rule(**extra):
    """A record as a server with default protojson options writes it."""
    record = {
        "sip_dispatch_rule_id": "SDR_1",
        "rule": {
            "dispatch_rule_individual": {"room_prefix": "call-", "pin": "", "no_randomness": False}
        },
        "trunk_ids": [],
        "hide_phone_number": False,
        "inbound_numbers": [],
        "numbers": [],
        "name": "support",
        "metadata": "",
        "attributes": {},
        "room_preset": "",
        "room_config": None,
        "media": None,
        "krisp_enabled": False,
        "media_encryption": "SIP_MEDIA_ENCRYPT_DISABLE",
        "created_at": "2026-09-08T12:00:00Z",
        "updated_at": "2026-09-08T12:00:00Z",
    }
    record.update(extra)
    return record


def plan(raw, **given):
    current = dr.normalize_rule(raw) if raw is not None else None
    return dr.plan_rule(desired(**given), current, raw)


# --- normalisation


def test_normalize_reads_proto_names_and_zero_values():
    rule = dr.normalize_rule(raw_rule())
    assert rule["id"] == "SDR_1"
    assert rule["type"] == "individual"
    assert rule["room_prefix"] == "call-"
    assert rule["randomize_room"] is True
    assert rule["agents"] == [] and rule["attributes"] == {}
    assert rule["media_encryption"] == "disable"
    assert rule["created_at"] == "2026-09-08T12:00:00Z"


def test_normalize_reads_camel_case_and_skipped_defaults():
    rule = dr.normalize_rule(
        {
            "sipDispatchRuleId": "SDR_2",
            "rule": {"dispatchRuleCallee": {"roomPrefix": "c-", "randomize": True, "pin": "12"}},
            "trunkIds": ["ST_1"],
            "roomConfig": {"agents": [{"agentName": "bot", "metadata": "m"}]},
            "media": {"encryption": "SIP_MEDIA_ENCRYPT_REQUIRE"},
            "krispEnabled": True,
        }
    )
    assert rule["id"] == "SDR_2"
    assert rule["type"] == "callee" and rule["room_prefix"] == "c-"
    assert rule["randomize_room"] is True and rule["pin"] == "12"
    assert rule["trunk_ids"] == ["ST_1"]
    assert rule["agents"] == [{"agent_name": "bot", "metadata": "m"}]
    assert rule["media_encryption"] == "require"
    assert rule["krisp_enabled"] is True
    assert rule["name"] == "" and rule["numbers"] == [] and rule["updated_at"] is None


def test_media_encryption_prefers_media_then_the_legacy_field():
    assert dr.effective_encryption({"media_encryption": "SIP_MEDIA_ENCRYPT_ALLOW"}) == "allow"
    assert dr.effective_encryption({"media_encryption": 2, "media": {"encryption": 1}}) == "allow"
    assert dr.effective_encryption({"media": {"codecs": []}}) == "disable"


def test_direct_rules_have_no_prefix_nor_random_suffix():
    rule = dr.normalize_rule(
        raw_rule(rule={"dispatch_rule_direct": {"room_name": "board", "pin": "4711"}})
    )
    assert (rule["type"], rule["room_name"], rule["room_prefix"]) == ("direct", "board", "")
    assert rule["randomize_room"] is False


def test_public_rule_hides_the_pin():
    rule = dr.normalize_rule(
        raw_rule(rule={"dispatch_rule_direct": {"room_name": "r", "pin": "4711"}})
    )
    shown = dr.public_rule(rule)
    assert "pin" not in shown and shown["pin_set"] is True
    assert "4711" not in repr(shown)


# --- names


def rules(*pairs):
    return [dict(dr.normalize_rule({}), id=i, name=n) for i, n in pairs]


def test_find_by_name_fails_naming_both_ids():
    with pytest.raises(dr.DuplicateRuleName) as caught:
        dr.find_by_name(rules(("SDR_a", "x"), ("SDR_b", "x"), ("SDR_c", "y")), "x")
    assert "SDR_a" in str(caught.value) and "SDR_b" in str(caught.value)
    assert caught.value.code == "duplicate_name"


def test_find_by_name_exact_match_or_none():
    listing = rules(("SDR_a", "x"), ("SDR_b", "xy"))
    assert dr.find_by_name(listing, "xy")["id"] == "SDR_b"
    assert dr.find_by_name(listing, "X") is None


def test_resolve_names_maps_and_reports_unknown_names_with_the_existing_ones():
    listing = rules(("SDR_a", "sales"), ("SDR_b", "support"), ("SDR_c", ""))
    assert dr.resolve_names(listing, ["support", "sales"]) == {"support": "SDR_b", "sales": "SDR_a"}
    with pytest.raises(dr.UnknownRuleName) as caught:
        dr.resolve_names(listing, ["sales", "billing"])
    assert "'billing'" in str(caught.value) and "sales, support" in str(caught.value)
    with pytest.raises(dr.DuplicateRuleName):
        dr.resolve_names(rules(("SDR_a", "x"), ("SDR_b", "x")), ["x"])


# --- parameters


@pytest.mark.parametrize(
    "given, words",
    [
        ({"type": "direct"}, "room_name is required"),
        ({"type": "direct", "room_name": "r", "room_prefix": "p"}, "room_prefix applies"),
        ({"type": "direct", "room_name": "r", "randomize_room": True}, "randomize_room applies"),
        ({"type": "individual", "room_name": "r"}, "room_name applies to type direct"),
        ({"room_prefix": "p"}, "type is required"),
    ],
)
def test_rule_shape_is_checked_before_any_request(given, words):
    with pytest.raises(ParameterError) as caught:
        plan(None, **given)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    "given, words",
    [
        ({"trunk_ids": ["ST_1", " "]}, "trunk_ids must not contain empty"),
        ({"attributes": {"a": ""}}, "'a' has an empty value"),
        ({"agents": [{"agent_name": ""}]}, "needs an agent_name"),
        ({"agents": [{"agent_name": "a"}, {"agent_name": "a"}]}, "listed twice"),
        ({"name": "  "}, "name must not be empty"),
    ],
)
def test_bad_values_are_refused(given, words):
    with pytest.raises(ParameterError) as caught:
        desired(**given)
    assert words in str(caught.value)


# --- planning


def test_create_sends_the_current_form_with_only_what_was_given():
    p = plan(None, name="support", type="individual", room_prefix="s-", media_encryption="allow")
    assert p.action == "create" and p.method == "CreateSIPDispatchRule"
    info = p.body["dispatch_rule"]
    assert "sip_dispatch_rule_id" not in info
    assert info["rule"] == {
        "dispatch_rule_individual": {"room_prefix": "s-", "pin": "", "no_randomness": False}
    }
    assert info["media"] == {"encryption": "SIP_MEDIA_ENCRYPT_ALLOW"}
    assert set(info) == {"rule", "name", "media"}
    assert p.after["randomize_room"] is True and p.after["media_encryption"] == "allow"


def test_create_callee_without_random_suffix_by_default_and_agents_in_room_config():
    p = plan(None, name="c", type="callee", agents=[{"agent_name": "bot", "metadata": None}])
    info = p.body["dispatch_rule"]
    assert info["rule"]["dispatch_rule_callee"]["randomize"] is False
    assert info["room_config"] == {"agents": [{"agent_name": "bot", "metadata": ""}]}


def test_identical_wishes_plan_nothing():
    raw = raw_rule(trunk_ids=["ST_2", "ST_1"], attributes={"team": "s"})
    p = plan(
        raw,
        name="support",
        type="individual",
        room_prefix="call-",
        trunk_ids=["ST_1", "ST_2"],
        attributes={"team": "s"},
    )
    assert p.action == "none" and not p.changed and p.body is None


def test_unset_options_are_left_alone():
    raw = raw_rule(metadata="kept", krisp_enabled=True, numbers=["+14155550100"])
    assert plan(raw, name="support").action == "none"


def test_update_covers_metadata_trunks_and_attribute_diff():
    raw = raw_rule(attributes={"keep": "1", "drop": "2", "change": "3"}, trunk_ids=["ST_1"])
    p = plan(raw, metadata="m", trunk_ids=[], attributes={"keep": "1", "change": "4", "new": "5"})
    assert p.action == "update"
    update = p.body["update"]
    assert p.body["sip_dispatch_rule_id"] == "SDR_1"
    assert update["metadata"] == "m"
    assert update["trunk_ids"] == {"clear": True}
    assert update["attributes"] == {"drop": "", "change": "4", "new": "5"}
    assert "rule" not in update and "media" not in update
    assert p.changes == ["trunk_ids", "metadata", "attributes"]


def test_update_of_the_rule_keeps_the_pin_and_unknown_rule_fields():
    raw = raw_rule(
        rule={
            "dispatch_rule_individual": {
                "room_prefix": "a-",
                "pin": "99",
                "noRandomness": True,
                "future": 1,
            }
        }
    )
    p = plan(raw, room_prefix="b-")
    assert p.action == "update"
    body = p.body["update"]["rule"]["dispatch_rule_individual"]
    assert body == {"future": 1, "room_prefix": "b-", "pin": "99", "no_randomness": True}


def test_changing_the_kind_carries_the_pin_over_and_starts_from_the_kind_defaults():
    raw = raw_rule(rule={"dispatch_rule_individual": {"room_prefix": "a-", "pin": "99"}})
    p = plan(raw, type="callee")
    assert p.body["update"]["rule"] == {
        "dispatch_rule_callee": {"room_prefix": "", "pin": "99", "randomize": False}
    }
    assert p.after["type"] == "callee" and p.after["randomize_room"] is False


def test_media_encryption_update_keeps_the_other_media_settings():
    raw = raw_rule(media={"codecs": [{"name": "PCMU"}], "encryption": None})
    p = plan(raw, media_encryption="require")
    assert p.action == "update"
    assert p.body["update"]["media"] == {
        "codecs": [{"name": "PCMU"}],
        "encryption": "SIP_MEDIA_ENCRYPT_REQUIRE",
    }


@pytest.mark.parametrize(
    "given",
    [
        {"numbers": ["+14155550100"]},
        {"inbound_numbers": ["+14155550199"]},
        {"hide_phone_number": True},
        {"room_preset": "p"},
        {"krisp_enabled": True},
        {"agents": [{"agent_name": "bot", "metadata": None}]},
    ],
)
def test_fields_update_cannot_express_need_replace(given):
    p = plan(raw_rule(), **given)
    assert p.action == "replace" and p.method == "UpdateSIPDispatchRule"
    assert list(p.changes) == list(given)


def test_replace_sends_the_servers_record_with_the_changes_laid_over():
    raw = raw_rule(
        metadata="someone else's",
        room_config={
            "empty_timeout": 30,
            "agents": [{"agent_name": "bot", "metadata": "m", "deployment": "prod"}],
        },
        media={"codecs": [{"name": "PCMU"}]},
        futureField={"x": 1},
    )
    p = plan(
        raw,
        krisp_enabled=True,
        metadata="mine",
        agents=[{"agent_name": "bot", "metadata": None}, {"agent_name": "new", "metadata": "n"}],
    )
    info = p.body["replace"]
    assert p.body["sip_dispatch_rule_id"] == "SDR_1" and info["sip_dispatch_rule_id"] == "SDR_1"
    assert info["krisp_enabled"] is True and info["metadata"] == "mine"
    assert info["futureField"] == {"x": 1}
    assert info["media"] == {"codecs": [{"name": "PCMU"}]}
    assert info["room_config"]["empty_timeout"] == 30
    assert info["room_config"]["agents"] == [
        {"deployment": "prod", "agent_name": "bot", "metadata": "m"},
        {"agent_name": "new", "metadata": "n"},
    ]
    assert "created_at" not in info and "updated_at" not in info
    assert info["rule"] == raw["rule"]


def test_replace_of_a_camel_case_record_never_sends_a_field_twice():
    raw = {
        "sipDispatchRuleId": "SDR_9",
        "rule": {"dispatchRuleDirect": {"roomName": "r", "pin": ""}},
        "hidePhoneNumber": False,
        "roomConfig": {"emptyTimeout": 5},
        "mediaEncryption": "SIP_MEDIA_ENCRYPT_DISABLE",
        "createdAt": "2026-09-08T12:00:00Z",
    }
    p = plan(
        raw,
        hide_phone_number=True,
        room_name="s",
        media_encryption="allow",
        agents=[{"agent_name": "a", "metadata": None}],
    )
    info = p.body["replace"]
    keys = set(info)
    assert (
        not {"hidePhoneNumber", "sipDispatchRuleId", "mediaEncryption", "createdAt", "roomConfig"}
        & keys
    )
    assert info["hide_phone_number"] is True
    assert info["rule"] == {"dispatch_rule_direct": {"room_name": "s", "pin": ""}}
    assert info["room_config"] == {
        "emptyTimeout": 5,
        "agents": [{"agent_name": "a", "metadata": ""}],
    }
    assert info["media_encryption"] == "SIP_MEDIA_ENCRYPT_ALLOW"
    assert info["media"] == {"encryption": "SIP_MEDIA_ENCRYPT_ALLOW"}


def test_agents_without_metadata_keep_the_current_metadata():
    raw = raw_rule(room_config={"agents": [{"agent_name": "bot", "metadata": "m"}]})
    assert plan(raw, agents=[{"agent_name": "bot", "metadata": None}]).action == "none"
    assert plan(raw, agents=[{"agent_name": "bot", "metadata": ""}]).action == "replace"


def test_absent_plans_delete_or_nothing():
    current = dr.normalize_rule(raw_rule())
    p = dr.plan_rule(desired(), current, raw_rule(), "absent")
    assert p.action == "delete" and p.body == {"sip_dispatch_rule_id": "SDR_1"}
    assert dr.plan_rule(desired(), None, None, "absent").action == "none"


def test_disagreement_names_the_fields_the_answer_got_wrong():
    p = plan(raw_rule(), metadata="m", krisp_enabled=True)
    answered = dict(p.after, metadata="other")
    assert dr.disagreement(p, answered) == ["metadata"]
    assert dr.disagreement(p, dict(p.after)) == []


def test_diff_shows_a_pin_change_without_the_pin():
    raw = raw_rule(rule={"dispatch_rule_direct": {"room_name": "r", "pin": "1111"}})
    diff = dr.rule_diff(plan(raw, pin="2222"))
    assert diff["before"]["pin"] != diff["after"]["pin"]
    assert "1111" not in repr(diff) and "2222" not in repr(diff)


def test_a_rule_of_an_unknown_kind_keeps_its_rule_while_other_fields_change():
    raw = raw_rule(rule={"dispatch_rule_someday": {"x": 1}})
    assert dr.normalize_rule(raw)["type"] == ""
    p = plan(raw, metadata="m")
    assert p.action == "update" and "rule" not in p.body["update"]
    p = plan(raw, krisp_enabled=True)
    assert p.action == "replace" and p.body["replace"]["rule"] == {
        "dispatch_rule_someday": {"x": 1}
    }
    with pytest.raises(ParameterError):
        plan(raw, pin="1")
    assert plan(raw, type="direct", room_name="r").body["update"]["rule"] == {
        "dispatch_rule_direct": {"room_name": "r", "pin": ""}
    }
