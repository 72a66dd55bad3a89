"""The emulator against the published protocol (1.52): request fields read, fields written,
labels, call statuses, and the schema of a server that predates them."""

from __future__ import annotations

import json
import pathlib

import pytest

from livekit_sip_emulator import AdminError, cli, store, wire

from .helpers import RECORD_FIELDS, RECORD_FIELDS_BEFORE_1_52, Api, pick


def protocol_data(name):
    """A field list of tests/data/protocol, found from here up (the emulator may move)."""
    for folder in pathlib.Path(__file__).resolve().parents:
        path = folder / "tests" / "data" / "protocol" / name
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise AssertionError(f"tests/data/protocol/{name} not found")


PHONE = protocol_data("livekit_phone_number.json")
MODELS = protocol_data("livekit_models.json")
NEW_FIELDS = ("name", "inbound_status", "outbound_status")


def kind_of(field):
    """The emulator's decoder kind for a protocol field."""
    if field["kind"] == "message" and field["type"] == "TokenPagination":
        return store.PAGE_TOKEN
    if field["kind"] == "enum" and field["repeated"] and field["type"] == "PhoneNumberStatus":
        return store.STATUS_LIST
    if field["kind"] == "scalar" and field["type"] == "string":
        return store.STRINGS if field["repeated"] else store.STRING
    if field["kind"] == "scalar" and field["type"] == "int32" and not field["repeated"]:
        return store.INT32
    raise AssertionError(f"no decoder kind for {field}")


def protocol_request(method):
    return {f["name"]: kind_of(f) for f in PHONE["messages"][f"livekit.{method}Request"]}


@pytest.mark.parametrize("method", sorted(store.SCHEMAS))
def test_each_method_reads_exactly_the_protocols_request_fields(method):
    assert store.SCHEMAS[method] == protocol_request(method)


def test_every_method_of_the_service_has_a_request_schema():
    requests = {
        name[len("livekit.") : -len("Request")]
        for name in PHONE["messages"]
        if name.endswith("Request")
    }
    assert set(store.SCHEMAS) == requests


def test_the_page_token_decoder_reads_the_protocols_field():
    assert [f["name"] for f in MODELS["messages"]["livekit.TokenPagination"]] == ["token"]
    assert (
        wire.decode_request(
            b'{"page_token": {"token": "t", "cursor": 1}}', protocol_request("ListPhoneNumbers")
        )["page_token"]
        == "t"
    )


def test_a_server_before_1_52_reads_the_same_fields_but_the_label():
    before = store.REQUEST_SCHEMAS["pre-1.52"]
    for method, fields in store.SCHEMAS.items():
        expected = {
            k: v for k, v in fields.items() if not (method == "UpdatePhoneNumber" and k == "name")
        }
        assert before[method] == expected
    assert "name" not in before["UpdatePhoneNumber"]


def test_records_are_written_with_the_protocols_fields_in_its_order(api):
    declared = tuple(f["name"] for f in PHONE["messages"]["livekit.PhoneNumber"])
    assert RECORD_FIELDS == declared
    offer = api.ok("SearchPhoneNumbers", {"country_code": "US", "limit": 1})["items"][0]
    record = api.buy(1, rule="SDR_1")[0]
    for written in (offer, record, api.get(record["e164_format"]), api.list_all()["items"][0]):
        assert tuple(written) == declared


def test_camel_case_names_are_the_protocols_json_names(api, emulator):
    emulator.admin.configure(json_names="camel")
    record = api.buy(1)[0]
    assert tuple(record) == tuple(f["json_name"] for f in PHONE["messages"]["livekit.PhoneNumber"])
    assert record["inboundStatus"] == "PHONE_NUMBER_IN_STATUS_DETACHED"
    assert record["outboundStatus"] == "PHONE_NUMBER_OUT_STATUS_UNAVAILABLE"


def test_offers_carry_zero_values_and_skip_defaults_leaves_them_out(api, emulator):
    offer = api.ok("SearchPhoneNumbers", {"country_code": "US", "limit": 1})["items"][0]
    assert (offer["name"], offer["inbound_status"], offer["outbound_status"]) == (
        "",
        "PHONE_NUMBER_IN_STATUS_UNSPECIFIED",
        "PHONE_NUMBER_OUT_STATUS_UNSPECIFIED",
    )
    emulator.admin.configure(skip_defaults=True)
    offer = api.ok("SearchPhoneNumbers", {"country_code": "US", "limit": 1})["items"][0]
    assert not set(NEW_FIELDS) & set(offer)
    record = api.buy(1)[0]
    # An unlabelled number: no name; its call statuses are not zero values, so they stay.
    assert "name" not in record
    assert record["inbound_status"] == "PHONE_NUMBER_IN_STATUS_DETACHED"


def update(api, record, **fields):
    return api.ok("UpdatePhoneNumber", dict({"id": record["id"]}, **fields))["phone_number"]


def test_a_label_is_stored_read_back_and_counted(api, emulator):
    record = api.buy(1, rule="SDR_1")[0]
    assert record["name"] == ""
    labelled = update(api, record, name="Support line")
    assert labelled["name"] == "Support line"
    assert labelled["sip_dispatch_rule_ids"] == ["SDR_1"], "a label leaves routing alone"
    assert labelled["updated_at"] > record["updated_at"]
    assert api.get(record["e164_format"])["name"] == "Support line"
    assert api.list_all()["items"][0]["name"] == "Support line"
    again = update(api, record, name="Support line")
    assert again["updated_at"] == labelled["updated_at"]
    counters = emulator.admin.counters()
    assert counters["labelled"] == 1 and counters["writes"]["routed"] == 0
    untouched = update(api, record, sip_dispatch_rule_id="SDR_1")
    assert untouched["name"] == "Support line", "leaving name out leaves the label alone"
    cleared = update(api, record, name="")
    assert cleared["name"] == "" and emulator.admin.counters()["labelled"] == 2


def test_a_label_and_a_route_in_one_call(api, emulator):
    record = api.buy(1)[0]
    both = update(api, record, name="Sales", sip_dispatch_rule_id="SDR_sales")
    assert (both["name"], both["sip_dispatch_rule_ids"]) == ("Sales", ["SDR_sales"])
    assert both["status"] == "PHONE_NUMBER_STATUS_ACTIVE"
    assert both["inbound_status"] == "PHONE_NUMBER_IN_STATUS_ACTIVE"
    counters = emulator.admin.counters()
    assert (counters["labelled"], counters["writes"]["routed"]) == (1, 1)
    assert counters["calls"]["UpdatePhoneNumber"] == 1


def test_labels_survive_a_dump_and_a_load(api, emulator):
    record = api.buy(1)[0]
    update(api, record, name="Front desk")
    state = emulator.admin.dump()
    assert state["numbers"][0]["name"] == "Front desk"
    emulator.admin.reset()
    emulator.admin.load(state=state)
    assert api.get(record["e164_format"])["name"] == "Front desk"
    assert emulator.admin.dump() == state


def test_the_rule_ids_list_is_no_request_field_and_routes_nothing(api, emulator):
    record = api.buy(1)[0]
    ignored = update(api, record, sip_dispatch_rule_ids=["SDR_1"])
    assert (
        ignored["sip_dispatch_rule_ids"] == []
        and ignored["status"] == "PHONE_NUMBER_STATUS_OFFLINE"
    )
    assert emulator.admin.counters()["writes"]["routed"] == 0


def test_inbound_status_follows_routing(api, emulator):
    emulator.admin.configure(provisioning_delay=60)
    pending = api.buy(1, rule="SDR_1")[0]
    assert pending["status"] == "PHONE_NUMBER_STATUS_PENDING"
    assert pending["inbound_status"] == "PHONE_NUMBER_IN_STATUS_UNAVAILABLE"
    emulator.admin.configure(provisioning_delay=0)
    offline = api.buy(1)[0]
    assert offline["inbound_status"] == "PHONE_NUMBER_IN_STATUS_DETACHED"
    active = update(api, offline, sip_dispatch_rule_id="SDR_1")
    assert active["inbound_status"] == "PHONE_NUMBER_IN_STATUS_ACTIVE"
    detached = update(api, offline, sip_dispatch_rule_id="")
    assert detached["inbound_status"] == "PHONE_NUMBER_IN_STATUS_DETACHED"
    api.ok("ReleasePhoneNumbers", {"ids": [offline["id"]]})
    released = api.get(offline["e164_format"])
    assert released["status"] == "PHONE_NUMBER_STATUS_RELEASED"
    assert released["inbound_status"] == "PHONE_NUMBER_IN_STATUS_UNAVAILABLE"
    for record in (pending, offline, active, released):
        assert record["outbound_status"] == "PHONE_NUMBER_OUT_STATUS_UNAVAILABLE"


def check_before_1_52(api, emulator):
    offer = api.ok("SearchPhoneNumbers", {"country_code": "US", "limit": 1})["items"][0]
    assert tuple(offer) == RECORD_FIELDS_BEFORE_1_52
    record = api.buy(1)[0]
    assert tuple(record) == RECORD_FIELDS_BEFORE_1_52
    # The label is an unknown field there: ignored, while the route in the same call is set.
    updated = update(api, record, name="Sales", sip_dispatch_rule_id="SDR_1")
    assert tuple(updated) == RECORD_FIELDS_BEFORE_1_52
    assert updated["sip_dispatch_rule_ids"] == ["SDR_1"]
    listed = api.list_all()["items"][0]
    assert tuple(listed) == RECORD_FIELDS_BEFORE_1_52
    counters = emulator.admin.counters()
    assert counters["labelled"] == 0 and counters["writes"]["routed"] == 1
    return record


def test_a_server_before_1_52_as_a_start_up_switch(emulator_factory):
    emulator = emulator_factory(schema="pre-1.52")
    assert emulator.admin.config()["schema"] == "pre-1.52"
    check_before_1_52(Api(emulator), emulator)


def test_a_server_before_1_52_at_run_time_and_back(api, emulator):
    emulator.admin.configure(schema="pre-1.52")
    record = check_before_1_52(api, emulator)
    emulator.admin.configure(schema="1.52")
    again = api.get(record["e164_format"])
    assert again["name"] == "", "the older server never stored the label"
    assert again["inbound_status"] == "PHONE_NUMBER_IN_STATUS_ACTIVE"


def test_a_server_before_1_52_with_camel_names_and_skip_defaults(emulator_factory):
    emulator = emulator_factory(schema="pre-1.52", json_names="camel", skip_defaults=True)
    api = Api(emulator)
    record = api.buy(1, rule="SDR_1")[0]
    assert not {"name", "inboundStatus", "outboundStatus"} & set(record)
    assert pick(record, "sip_dispatch_rule_ids") == ["SDR_1"]


def test_a_bad_schema_is_refused(emulator):
    with pytest.raises(AdminError) as info:
        emulator.admin.configure(schema="1.51")
    assert info.value.status == 400
    with pytest.raises(AdminError):
        emulator.admin.reset(schema="")


def test_the_command_line_switch(tmp_path):
    args = cli.build_parser().parse_args(["serve", "--schema", "pre-1.52"])
    assert cli.config_from_args(args).schema == "pre-1.52"
    assert ["--schema", "pre-1.52"] == cli.serve_argv(args)[
        cli.serve_argv(args).index("--schema") : cli.serve_argv(args).index("--schema") + 2
    ]
    default = cli.build_parser().parse_args(["serve"])
    assert cli.config_from_args(default).schema == "1.52"
    with pytest.raises(SystemExit) as info:
        cli.build_parser().parse_args(["serve", "--schema", "1.51"])
    assert info.value.code == 2


def test_fields_the_protocol_lacks_are_counted_as_ignored(api, emulator):
    record = api.buy(1)[0]
    update(api, record, sip_dispatch_rule_ids=["SDR_1"], sipDispatchRuleIds=["SDR_2"])
    api.ok("ListPhoneNumbers", {"limit": 5, "sip_dispatch_rule_id": "SDR_1", "colour": "red"})
    api.ok("ListPhoneNumbers", {"pageSize": 5})
    assert emulator.admin.counters()["ignored_fields"] == {
        "UpdatePhoneNumber": {"sipDispatchRuleIds": 1, "sip_dispatch_rule_ids": 1},
        "ListPhoneNumbers": {"colour": 1, "pageSize": 1},
    }
    emulator.admin.reset_counters()
    update(api, record, sipDispatchRuleId="SDR_1", name="x")
    assert emulator.admin.counters()["ignored_fields"] == {}


def test_an_older_server_counts_the_label_as_ignored(api, emulator):
    emulator.admin.configure(schema="pre-1.52")
    record = api.buy(1)[0]
    update(api, record, name="x")
    assert emulator.admin.counters()["ignored_fields"] == {"UpdatePhoneNumber": {"name": 1}}
