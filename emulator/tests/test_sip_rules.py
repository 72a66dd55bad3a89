"""livekit.SIP's dispatch-rule RPCs: create, update/replace, list, delete, validation, conflicts."""

from __future__ import annotations

import json
import re

import pytest

from livekit_sip_emulator import cli

from .helpers import TIMESTAMP, Api, assert_twirp_error

SIP_PREFIX = "/twirp/livekit.SIP/"


class SipApi(Api):
    def post(self, method, body=None, auth=True, headers=None, data=None, timeout=10):
        sent = {"Content-Type": "application/json", "Authorization": "Bearer " + self.token()}
        sent.update(headers or {})
        if data is None:
            data = json.dumps({} if body is None else body)
        return self.session.post(
            self.url + SIP_PREFIX + method, data=data, headers=sent, timeout=timeout
        )

    def create(self, **info):
        return self.ok("CreateSIPDispatchRule", {"dispatch_rule": info})

    def rules(self, **body):
        return self.ok("ListSIPDispatchRule", body)["items"]


@pytest.fixture
def sip(emulator):
    return SipApi(emulator)


def direct(room="r", pin=""):
    return {"dispatch_rule_direct": {"room_name": room, "pin": pin}}


def individual(prefix="call-", pin=""):
    return {"dispatch_rule_individual": {"room_prefix": prefix, "pin": pin}}


# --- create


def test_create_answers_the_whole_record_with_an_id_and_timestamps(sip):
    rule = sip.create(
        rule=individual(), name="support", trunk_ids=["ST_1"], attributes={"team_name": "s"}
    )
    assert rule["sip_dispatch_rule_id"].startswith("SDR_")
    assert rule["name"] == "support" and rule["trunk_ids"] == ["ST_1"]
    assert rule["rule"] == {
        "dispatch_rule_individual": {"room_prefix": "call-", "pin": "", "no_randomness": False}
    }
    assert rule["attributes"] == {"team_name": "s"}
    # Unpopulated fields are written: zero values, null for unset messages.
    assert rule["numbers"] == [] and rule["metadata"] == "" and rule["krisp_enabled"] is False
    assert rule["room_config"] is None and rule["media"] is None
    assert rule["media_encryption"] == "SIP_MEDIA_ENCRYPT_DISABLE"
    assert rule["created_at"] == rule["updated_at"]
    assert re.match(TIMESTAMP, rule["created_at"])


def test_create_in_the_legacy_top_level_form(sip):
    rule = sip.ok(
        "CreateSIPDispatchRule",
        {
            "rule": direct("board"),
            "trunkIds": ["ST_9"],
            "name": "legacy",
            "hide_phone_number": True,
        },
    )
    assert (
        rule["name"] == "legacy"
        and rule["trunk_ids"] == ["ST_9"]
        and rule["hide_phone_number"] is True
    )
    assert sip.rules()[0]["sip_dispatch_rule_id"] == rule["sip_dispatch_rule_id"]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"dispatch_rule": {"name": "no rule"}}, "invalid_argument"),
        ({"dispatch_rule": {"rule": {}}}, "invalid_argument"),
        (
            {"dispatch_rule": {"rule": direct(), "sip_dispatch_rule_id": "SDR_mine"}},
            "invalid_argument",
        ),
        ({"name": "legacy without rule"}, "invalid_argument"),
        ({"dispatch_rule": {"rule": dict(direct(), **individual())}}, "malformed"),
        ({"dispatch_rule": {"rule": direct(), "trunk_ids": "ST_1"}}, "malformed"),
        ({"dispatch_rule": {"rule": direct(), "trunk_ids": ["a"], "trunkIds": ["b"]}}, "malformed"),
        (
            {"dispatch_rule": {"rule": direct(), "media": {"codecs": [{"name": "PCM U"}]}}},
            "invalid_argument",
        ),
        (
            {"dispatch_rule": {"rule": direct(), "media": {"media_timeout": "601s"}}},
            "invalid_argument",
        ),
        (
            {
                "dispatch_rule": {
                    "rule": direct(),
                    "media_encryption": "SIP_MEDIA_ENCRYPT_SOMETIMES",
                }
            },
            "malformed",
        ),
    ],
)
def test_create_refuses_what_the_server_refuses(sip, body, code):
    sip.fails("CreateSIPDispatchRule", body, code)
    assert sip.rules() == []


def test_fields_outside_the_protocol_are_ignored(sip):
    rule = sip.create(rule=direct(), name="x", bogus={"a": 1}, sip_dispatch_rule_ids=["SDR_1"])
    assert "bogus" not in rule and "sip_dispatch_rule_ids" not in rule


# --- conflicts


def test_two_catch_all_rules_conflict_and_the_message_names_the_first(sip):
    first = sip.create(rule=individual(), name="first")
    answer = sip.fails(
        "CreateSIPDispatchRule", {"dispatch_rule": {"rule": direct(), "name": "second"}}
    )
    assert first["sip_dispatch_rule_id"] in answer["msg"] and "first" in answer["msg"]
    assert answer["meta"]["conflicting_rule"] == first["sip_dispatch_rule_id"]
    assert len(sip.rules()) == 1


@pytest.mark.parametrize(
    "second",
    [
        {"trunk_ids": ["ST_1"]},  # a specific trunk beats the catch-all, no conflict
        {"rule": individual(pin="1234")},  # another PIN
        {"numbers": ["+14155550100"]},
        {"inbound_numbers": ["+14155550199"]},
    ],
)
def test_rules_that_differ_in_one_dimension_do_not_conflict(sip, second):
    sip.create(rule=individual(), name="catch-all")
    info = dict({"rule": direct(), "name": "other"}, **second)
    sip.create(**info)
    assert len(sip.rules()) == 2


def test_overlapping_trunks_and_numbers_conflict_whatever_their_format(sip):
    sip.create(rule=direct(), trunk_ids=["ST_1", "ST_2"], numbers=["+14155550100"])
    sip.fails(
        "CreateSIPDispatchRule",
        {
            "dispatch_rule": {
                "rule": individual(),
                "trunk_ids": ["ST_2", "ST_3"],
                "numbers": ["+1 (415) 555-0100"],
            }
        },
    )
    sip.create(rule=individual(), trunk_ids=["ST_3"], numbers=["+1 (415) 555-0100"])


def test_updates_are_checked_for_conflicts_but_not_against_the_rule_itself(sip):
    sip.create(rule=direct(), trunk_ids=["ST_1"])
    second = sip.create(rule=direct(), trunk_ids=["ST_2"])
    rule_id = second["sip_dispatch_rule_id"]
    sip.ok(
        "UpdateSIPDispatchRule",
        {"sip_dispatch_rule_id": rule_id, "update": {"name": "same calls, new name"}},
    )
    sip.fails(
        "UpdateSIPDispatchRule",
        {"sip_dispatch_rule_id": rule_id, "update": {"trunk_ids": {"add": ["ST_1"]}}},
    )
    sip.fails(
        "UpdateSIPDispatchRule",
        {"sip_dispatch_rule_id": rule_id, "replace": {"rule": direct(), "trunk_ids": ["ST_1"]}},
    )
    assert sip.rules(dispatch_rule_ids=[rule_id])[0]["trunk_ids"] == ["ST_2"]


# --- update


def test_update_changes_only_what_it_names(sip):
    rule = sip.create(
        rule=individual(pin="99"),
        name="n",
        metadata="m",
        trunk_ids=["ST_1", "ST_2"],
        numbers=["+14155550100"],
        attributes={"keep": "1", "drop": "2"},
        room_config={"empty_timeout": 30, "agents": [{"agent_name": "bot"}]},
        krisp_enabled=True,
    )
    rule_id = rule["sip_dispatch_rule_id"]
    updated = sip.ok(
        "UpdateSIPDispatchRule",
        {
            "sip_dispatch_rule_id": rule_id,
            "update": {
                "trunk_ids": {"add": ["ST_3", "ST_1"], "remove": ["ST_2"]},
                "metadata": "new",
                "attributes": {"drop": "", "add": "3"},
            },
        },
    )
    assert updated["trunk_ids"] == ["ST_1", "ST_3"]
    assert updated["metadata"] == "new" and updated["name"] == "n"
    assert updated["attributes"] == {"keep": "1", "add": "3"}
    assert updated["numbers"] == ["+14155550100"] and updated["krisp_enabled"] is True
    assert updated["room_config"]["empty_timeout"] == 30
    assert updated["room_config"]["agents"][0]["agent_name"] == "bot"
    assert updated["rule"]["dispatch_rule_individual"]["pin"] == "99"
    assert updated["created_at"] == rule["created_at"]
    assert sip.rules(dispatch_rule_ids=[rule_id])[0] == updated


def test_update_sets_clears_and_renames(sip):
    rule_id = sip.create(rule=direct(), trunk_ids=["ST_1"], name="a")["sip_dispatch_rule_id"]
    cleared = sip.ok(
        "UpdateSIPDispatchRule",
        {
            "sip_dispatch_rule_id": rule_id,
            "update": {"trunk_ids": {"clear": True}, "name": "b", "rule": individual()},
        },
    )
    assert cleared["trunk_ids"] == [] and cleared["name"] == "b"
    assert "dispatch_rule_individual" in cleared["rule"]
    again = sip.ok(
        "UpdateSIPDispatchRule",
        {"sip_dispatch_rule_id": rule_id, "update": {"trunk_ids": {"set": ["ST_7"]}}},
    )
    assert again["trunk_ids"] == ["ST_7"] and again["name"] == "b"


def test_update_replaces_media_whole_and_keeps_the_legacy_encryption_in_step(sip):
    rule_id = sip.create(
        rule=direct(), media={"codecs": [{"name": "PCMU"}], "media_timeout": "30s"}
    )["sip_dispatch_rule_id"]
    updated = sip.ok(
        "UpdateSIPDispatchRule",
        {
            "sip_dispatch_rule_id": rule_id,
            "update": {"media": {"encryption": "SIP_MEDIA_ENCRYPT_REQUIRE"}},
        },
    )
    assert (
        updated["media"]["encryption"] == "SIP_MEDIA_ENCRYPT_REQUIRE"
        and updated["media"]["codecs"] == []
    )
    assert "media_timeout" not in updated["media"]
    assert updated["media_encryption"] == "SIP_MEDIA_ENCRYPT_REQUIRE"
    legacy = sip.ok(
        "UpdateSIPDispatchRule",
        {
            "sip_dispatch_rule_id": rule_id,
            "update": {"media_encryption": "SIP_MEDIA_ENCRYPT_ALLOW", "media": {}},
        },
    )
    assert legacy["media"]["encryption"] == "SIP_MEDIA_ENCRYPT_ALLOW"
    assert legacy["media_encryption"] == "SIP_MEDIA_ENCRYPT_ALLOW"


@pytest.mark.parametrize(
    "body",
    [
        {"update": {"name": "x"}},  # no id
        {"sip_dispatch_rule_id": "SDR_1"},  # no action
        {"sip_dispatch_rule_id": "SDR_1", "update": {"trunk_ids": {}}},
        {"sip_dispatch_rule_id": "SDR_1", "update": {"trunk_ids": {"clear": True, "add": ["a"]}}},
        {"sip_dispatch_rule_id": "SDR_1", "update": {"trunk_ids": {"set": ["a"], "remove": ["b"]}}},
        {"sip_dispatch_rule_id": "SDR_1", "update": {"trunk_ids": {"add": [""]}}},
        {"sip_dispatch_rule_id": "SDR_1", "replace": {"name": "no rule"}},
        {
            "sip_dispatch_rule_id": "SDR_1",
            "replace": {"rule": direct(), "sip_dispatch_rule_id": "SDR_2"},
        },
    ],
)
def test_bad_updates_are_invalid_arguments(sip, emulator, body):
    rule = sip.create(rule=direct())
    if body.get("sip_dispatch_rule_id") == "SDR_1":
        body = dict(body, sip_dispatch_rule_id=rule["sip_dispatch_rule_id"])
    sip.fails("UpdateSIPDispatchRule", body)
    assert sip.rules() == [rule]
    assert emulator.admin.counters()["rule_writes"]["updated"] == 0


def test_update_and_replace_of_an_unknown_rule_are_not_found(sip):
    sip.fails(
        "UpdateSIPDispatchRule",
        {"sip_dispatch_rule_id": "SDR_no", "update": {"name": "x"}},
        "not_found",
    )
    sip.fails(
        "UpdateSIPDispatchRule",
        {"sip_dispatch_rule_id": "SDR_no", "replace": {"rule": direct()}},
        "not_found",
    )


def test_replace_clears_every_field_not_sent_and_keeps_id_and_creation_time(sip):
    rule = sip.create(
        rule=direct(pin="1"), name="n", metadata="m", numbers=["+14155550100"], krisp_enabled=True
    )
    rule_id = rule["sip_dispatch_rule_id"]
    replaced = sip.ok(
        "UpdateSIPDispatchRule",
        {"sip_dispatch_rule_id": rule_id, "replace": {"rule": individual()}},
    )
    assert (
        replaced["sip_dispatch_rule_id"] == rule_id and replaced["created_at"] == rule["created_at"]
    )
    assert replaced["name"] == "" and replaced["metadata"] == "" and replaced["numbers"] == []
    assert replaced["krisp_enabled"] is False
    assert replaced["rule"] == {
        "dispatch_rule_individual": {"room_prefix": "call-", "pin": "", "no_randomness": False}
    }


# --- list


def test_list_pages_by_after_id_in_id_order(sip):
    ids = sorted(
        sip.create(rule=direct(), trunk_ids=["ST_%d" % i])["sip_dispatch_rule_id"] for i in range(5)
    )
    first = sip.rules(page={"limit": 2})
    assert [r["sip_dispatch_rule_id"] for r in first] == ids[:2]
    rest = sip.rules(page={"after_id": ids[1], "limit": 10})
    assert [r["sip_dispatch_rule_id"] for r in rest] == ids[2:]
    assert sip.rules(page={"afterId": ids[-1], "limit": 10}) == []
    # Without a page, everything.
    assert len(sip.rules()) == 5
    sip.fails("ListSIPDispatchRule", {"page": {"limit": -1}})


def test_the_page_cap_makes_short_pages_and_changes_at_run_time(sip, emulator):
    for i in range(5):
        sip.create(rule=direct(), trunk_ids=["ST_%d" % i])
    emulator.admin.configure(max_rule_page_size=2)
    assert len(sip.rules(page={"limit": 100})) == 2
    assert len(sip.rules(page={})) == 2  # no limit: a page of the cap
    assert emulator.admin.config()["max_rule_page_size"] == 2
    emulator.admin.configure(max_rule_page_size=3)
    assert len(sip.rules(page={"limit": 100})) == 3


def test_list_by_ids_keeps_their_order_and_answers_an_empty_item_for_missing_rules(sip):
    a = sip.create(rule=direct(), trunk_ids=["ST_1"])["sip_dispatch_rule_id"]
    b = sip.create(rule=direct(), trunk_ids=["ST_2"])["sip_dispatch_rule_id"]
    items = sip.rules(dispatch_rule_ids=[b, "SDR_missing", a])
    assert [item.get("sip_dispatch_rule_id") for item in items] == [b, None, a]
    assert items[1] == {}


def test_list_by_trunk_includes_wildcard_rules(sip):
    wildcard = sip.create(rule=direct())["sip_dispatch_rule_id"]
    one = sip.create(rule=direct(), trunk_ids=["ST_1"])["sip_dispatch_rule_id"]
    sip.create(rule=direct(), trunk_ids=["ST_2"])
    found = {r["sip_dispatch_rule_id"] for r in sip.rules(trunk_ids=["ST_1"])}
    assert found == {wildcard, one}


def test_camel_names_and_skip_defaults_leave_map_keys_alone(emulator_factory):
    emulator = emulator_factory(json_names="camel", skip_defaults=True)
    sip = SipApi(emulator)
    rule = sip.create(rule=individual(), attributes={"team_name": "s"}, hide_phone_number=True)
    assert rule["attributes"] == {"team_name": "s"}
    assert rule["hidePhoneNumber"] is True and "sipDispatchRuleId" in rule
    assert "numbers" not in rule and "mediaEncryption" not in rule and "media" not in rule
    assert rule["rule"] == {"dispatchRuleIndividual": {"roomPrefix": "call-"}}


# --- delete


def test_delete_answers_the_rule_and_unroutes_its_numbers(sip, emulator):
    keep = sip.create(rule=direct(), trunk_ids=["ST_1"])["sip_dispatch_rule_id"]
    gone = sip.create(rule=direct(), trunk_ids=["ST_2"])
    numbers = Api(emulator)
    records = numbers.buy(1, rule=gone["sip_dispatch_rule_id"]) + numbers.buy(1, rule=keep)
    deleted = sip.ok(
        "DeleteSIPDispatchRule", {"sip_dispatch_rule_id": gone["sip_dispatch_rule_id"]}
    )
    assert deleted == gone
    sip.fails(
        "DeleteSIPDispatchRule", {"sip_dispatch_rule_id": gone["sip_dispatch_rule_id"]}, "not_found"
    )
    sip.fails("DeleteSIPDispatchRule", {}, "invalid_argument")
    first, second = (numbers.get(r["e164_format"]) for r in records)
    assert first["sip_dispatch_rule_ids"] == [] and first["status"] == "PHONE_NUMBER_STATUS_OFFLINE"
    assert (
        second["sip_dispatch_rule_ids"] == [keep]
        and second["status"] == "PHONE_NUMBER_STATUS_ACTIVE"
    )
    assert [r["sip_dispatch_rule_id"] for r in sip.rules()] == [keep]


# --- the rule-id switch, counters, faults, state


def test_rule_ids_are_taken_on_trust_by_default(emulator):
    numbers = Api(emulator)
    assert numbers.buy(1, rule="SDR_nowhere")[0]["sip_dispatch_rule_ids"] == ["SDR_nowhere"]


def test_check_rule_ids_refuses_unknown_rules_for_purchase_and_update(emulator_factory):
    emulator = emulator_factory(check_rule_ids=True)
    sip, numbers = SipApi(emulator), Api(emulator)
    rule_id = sip.create(rule=direct())["sip_dispatch_rule_id"]
    offer = numbers.available(1)
    answer = numbers.fails(
        "PurchasePhoneNumber", {"phone_numbers": offer, "sip_dispatch_rule_id": "SDR_no"}
    )
    assert answer["meta"]["sip_dispatch_rule_id"] == "SDR_no"
    assert numbers.list_all()["items"] == []
    record = numbers.buy(1, rule=rule_id)[0]
    numbers.fails("UpdatePhoneNumber", {"id": record["id"], "sip_dispatch_rule_id": "SDR_no"})
    assert numbers.get(record["e164_format"])["sip_dispatch_rule_ids"] == [rule_id]
    other = sip.create(rule=direct(), trunk_ids=["ST_1"])["sip_dispatch_rule_id"]
    numbers.ok("UpdatePhoneNumber", {"id": record["id"], "sip_dispatch_rule_id": other})


def test_counters_count_calls_and_rule_writes(sip, emulator):
    rule_id = sip.create(rule=direct())["sip_dispatch_rule_id"]
    sip.ok("UpdateSIPDispatchRule", {"sip_dispatch_rule_id": rule_id, "update": {"name": "a"}})
    sip.ok(
        "UpdateSIPDispatchRule", {"sip_dispatch_rule_id": rule_id, "replace": {"rule": direct()}}
    )
    sip.rules()
    sip.ok("DeleteSIPDispatchRule", {"sip_dispatch_rule_id": rule_id})
    sip.fails("DeleteSIPDispatchRule", {"sip_dispatch_rule_id": rule_id}, "not_found")
    counters = emulator.admin.counters()
    assert {m: counters["calls"][m] for m in counters["calls"] if "SIP" in m} == {
        "CreateSIPDispatchRule": 1,
        "UpdateSIPDispatchRule": 2,
        "ListSIPDispatchRule": 1,
        "DeleteSIPDispatchRule": 2,
    }
    assert counters["rule_writes"] == {"created": 1, "updated": 1, "replaced": 1, "deleted": 1}
    assert counters["errors"] == {"not_found": 1}
    assert emulator.admin.health()["sip_dispatch_rules"] == 0


def test_faults_apply_to_the_sip_methods(sip, emulator):
    emulator.admin.set_faults(script={"ListSIPDispatchRule": ["unavailable", "ok"]})
    assert_twirp_error(sip.post("ListSIPDispatchRule", {}), "unavailable")
    assert sip.rules() == []
    emulator.admin.set_faults(rate=1, methods=["CreateSIPDispatchRule"], kinds=["rate_limited"])
    assert_twirp_error(
        sip.post("CreateSIPDispatchRule", {"dispatch_rule": {"rule": direct()}}),
        "resource_exhausted",
    )
    assert emulator.admin.counters()["faults"]["rate_limited"] == 1


def test_a_replayed_request_id_answers_the_first_answer(sip):
    headers = {"X-Livekit-Request-Id": "req-1"}
    first = sip.post(
        "CreateSIPDispatchRule", {"dispatch_rule": {"rule": direct()}}, headers=headers
    ).json()
    again = sip.post(
        "CreateSIPDispatchRule", {"dispatch_rule": {"rule": direct()}}, headers=headers
    ).json()
    assert first == again and len(sip.rules()) == 1


def test_rules_travel_in_state_dumps(sip, emulator, emulator_factory, tmp_path):
    rule = sip.create(rule=individual(), name="kept", attributes={"a": "1"})
    state = emulator.admin.dump()
    assert [r["sip_dispatch_rule_id"] for r in state["sip_dispatch_rules"]] == [
        rule["sip_dispatch_rule_id"]
    ]
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    loaded = emulator_factory(state_file=str(path))
    assert SipApi(loaded).rules() == [rule]
    assert loaded.admin.dump()["sip_dispatch_rules"] == state["sip_dispatch_rules"]
    conflicting = dict(
        state,
        sip_dispatch_rules=state["sip_dispatch_rules"]
        + [dict(state["sip_dispatch_rules"][0], sip_dispatch_rule_id="SDR_b")],
    )
    with pytest.raises(Exception) as caught:
        emulator.admin.load(conflicting)
    assert "same calls" in str(caught.value)
    assert sip.rules() == [rule]


def test_cli_options_reach_the_configuration():
    args = cli.build_parser().parse_args(["serve", "--max-rule-page-size", "7", "--check-rule-ids"])
    config = cli.config_from_args(args)
    assert config.max_rule_page_size == 7 and config.check_rule_ids is True
    assert "--check-rule-ids" in cli.serve_argv(args)
