"""Labels as code (entries' ``name``) and pool filters: parsing, planning, carrying out."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._api import SearchScan
from ansible_collections.livekit.sip.plugins.module_utils._entries import (
    NumberEntry,
    PoolEntry,
    parse_entries,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LabelIgnored,
    ParameterError,
    PoolShortfall,
)
from ansible_collections.livekit.sip.plugins.module_utils._execute import (
    Progress,
    Settings,
    execute,
    read_and_plan,
)
from ansible_collections.livekit.sip.plugins.module_utils._filters import SearchFilter
from ansible_collections.livekit.sip.plugins.module_utils._plan import (
    Planner,
    Route,
    diff,
    plan_numbers,
    predict,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import normalize_record

A, B, C = "+14155550101", "+14155550102", "+14155550103"
RUN = Settings(workers=4, page_size=500, batch_size=None, wait=False, wait_timeout=0)


def rec(e164, rules=(), name="", status="active", **extra):
    raw = {
        "id": "PN_" + e164[-4:],
        "e164_format": e164,
        "name": name,
        "country_code": "US",
        "area_code": e164[2:5],
        "status": "PHONE_NUMBER_STATUS_" + status.upper(),
        "sip_dispatch_rule_ids": list(rules),
    }
    raw.update(extra)
    return normalize_record(raw)


# ---------------------------------------------------------------- parsing


def test_number_entries_take_a_name_and_pools_take_filters():
    numbers, pools = parse_entries(
        [
            {"phone_number": A, "name": "Support line"},
            {"phone_number": B, "name": ""},
            {"phone_number": C},
            {
                "country_code": "us",
                "number_type": "toll_free",
                "capabilities": "sms",
                "contains": 555,
                "count": 2,
            },
        ]
    )
    assert [n.name for n in numbers] == ["Support line", "", None]
    assert pools[0].filter == SearchFilter(
        number_type="toll_free", capabilities=["sms"], contains="555"
    )
    assert pools[0].filter.active


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"phone_number": A, "name": 7}, "name must be a string"),
        ({"phone_number": A, "name": "x", "state": "absent"}, "released"),
        ({"phone_number": A, "number_type": "local"}, "mixes a number"),
        ({"country_code": "US", "count": 1, "name": "x"}, "unknown key name"),
        ({"country_code": "US", "count": 1, "number_type": "landline"}, "number_type must be"),
        ({"country_code": "US", "count": 1, "contains": "55!"}, "contains"),
        ({"country_code": "US", "count": 1, "capabilities": {"sms": 1}}, "capabilities must"),
        ({"country_code": "US", "count": 1, "locality": 3}, "locality must be a string"),
    ],
)
def test_bad_names_and_filters_are_refused_naming_the_entry(entry, message):
    with pytest.raises(ParameterError) as info:
        parse_entries([entry])
    assert "entries[0]" in str(info.value) and message in str(info.value)


def test_duplicate_entries_must_agree_on_the_name():
    numbers, dummy = parse_entries([{"phone_number": A}, {"phone_number": A, "name": "X"}])
    assert numbers[0].name == "X"
    with pytest.raises(ParameterError) as info:
        parse_entries([{"phone_number": A, "name": "X"}, {"phone_number": A, "name": "Y"}])
    assert "name 'X'/'Y'" in str(info.value)


# ---------------------------------------------------------------- planning


def plan_of(current, entries, pools=()):
    planner = Planner(current, entries, pools)
    planner.finish()
    return planner.plan


def test_a_label_that_differs_is_one_update_and_a_route_joins_it():
    current = [rec(A, ["SDR_1"], "Old"), rec(B, ["SDR_1"]), rec(C, ["SDR_1"], "Same")]
    plan = plan_of(
        current,
        [
            NumberEntry(0, A, "SDR_2", "present", "New"),
            NumberEntry(1, B, None, "present", "Fresh"),
            NumberEntry(2, C, "SDR_1", "present", "Same"),
        ],
    )
    assert plan.routes == [
        Route(A, "PN_0101", ["SDR_1"], "SDR_2", "New"),
        Route(B, "PN_0102", ["SDR_1"], None, "Fresh"),
    ]
    assert plan.routed == [A] and plan.labelled == [A, B]
    assert plan.unchanged == [C] and plan.changed


def test_no_name_leaves_labels_alone_and_an_equal_name_writes_nothing():
    current = [rec(A, ["SDR_1"], "Kept")]
    assert not plan_of(current, [NumberEntry(0, A, "SDR_1", "present")]).changed
    assert not plan_of(current, [NumberEntry(0, A, "SDR_1", "present", "Kept")]).changed
    cleared = plan_of(current, [NumberEntry(0, A, None, "present", "")])
    assert cleared.routes == [Route(A, "PN_0101", ["SDR_1"], None, "")]


def test_numbers_bought_get_their_label_after_the_purchase():
    plan = plan_of(
        [], [NumberEntry(0, A, "SDR_1", "present", "Sales"), NumberEntry(1, B, None, "present", "")]
    )
    assert plan.purchased == [A, B]
    assert plan.names == {A: "Sales"}, "a fresh number has no label: an empty one needs no write"
    assert plan.labelled == [A] and plan.routes == []
    predicted = {r["e164_format"]: r for r in predict([], plan)}
    assert predicted[A]["name"] == "Sales" and predicted[B]["name"] == ""


def test_check_mode_and_diff_show_labels():
    current = [rec(A, ["SDR_1"], "Old")]
    planner = plan_numbers(current, "present", numbers=[A], name="New")
    assert predict(current, planner.plan)[0]["name"] == "New"
    shown = diff(current, planner.plan)
    assert shown["before"][A]["name"] == "Old" and shown["after"][A]["name"] == "New"
    assert shown["after"][A]["sip_dispatch_rule_ids"] == ["SDR_1"]


def test_phone_number_labels_every_number_it_is_given():
    current = [rec(A), rec(B, name="Desk")]
    planner = plan_numbers(current, "present", numbers=[A, B, C], rule=None, name="Desk")
    assert [r.number for r in planner.plan.routes] == [A]
    assert planner.plan.names == {C: "Desk"}
    assert planner.plan.labelled == [A, C]


def sms_toll_free():
    return SearchFilter(number_type="toll_free", capabilities=["sms"])


def test_a_pool_with_filters_counts_only_held_numbers_that_pass_them():
    free_sms = rec(
        "+18005550001", number_type="PHONE_NUMBER_TYPE_TOLL_FREE", capabilities=["voice", "sms"]
    )
    free_voice = rec(
        "+18005550002", number_type="PHONE_NUMBER_TYPE_TOLL_FREE", capabilities=["voice"]
    )
    local_sms = rec("+14155550003", number_type="PHONE_NUMBER_TYPE_LOCAL", capabilities=["sms"])
    pool = PoolEntry(0, "US", "", 2, None, sms_toll_free())
    planner = Planner([free_sms, free_voice, local_sms], [], [pool])
    assert planner.pools[0].claimed == ["+18005550001"]
    assert planner.pools[0].shortfall == 1
    assert sorted(planner.unlisted) == ["+14155550003", "+18005550002"]
    offered = [
        rec(
            "+18005550010",
            number_type="PHONE_NUMBER_TYPE_TOLL_FREE",
            capabilities=["voice"],
            status="unspecified",
        ),
        rec(
            "+18005550011",
            number_type="PHONE_NUMBER_TYPE_TOLL_FREE",
            capabilities=["sms"],
            status="unspecified",
        ),
    ]
    planner.choose(planner.pools[0], offered)
    assert planner.pools[0].buy == ["+18005550011"]


# ---------------------------------------------------------------- carrying out


class LabelApi:
    """An in-memory project whose updates set rules and labels (or ignore labels, as an older
    server does); searches answer what ``offers`` holds, filtered as the executor asks."""

    def __init__(self, held=(), ignore_labels=False, offers=(), bound_reached=False):
        self.held = {r["e164_format"]: r for r in held}
        self.ignore_labels = ignore_labels
        self.offers = list(offers)
        self.bound_reached = bound_reached
        self.calls = []
        self.lock = threading.Lock()

    def list(self, statuses=None, sip_dispatch_rule_id=None, limit=None, page_size=500):
        from ansible_collections.livekit.sip.plugins.module_utils._api import ListResult

        self.calls.append(("list",))
        return ListResult(list(self.held.values()), len(self.held), 0, 1)

    def holdings(self, page_size=500):
        return self.list(page_size=page_size)

    def purchase(self, numbers, sip_dispatch_rule_id=None, request_id=None):
        self.calls.append(("purchase", list(numbers), sip_dispatch_rule_id))
        for n in numbers:
            self.held[n] = rec(
                n, [sip_dispatch_rule_id] if sip_dispatch_rule_id else [], status="pending"
            )
        return [self.held[n] for n in numbers]

    def update(self, rule, id=None, phone_number=None, request_id=None, name=None):
        with self.lock:
            self.calls.append(("update", id or phone_number, rule, name))
        key = phone_number or next(n for n, r in self.held.items() if r["id"] == id)
        record = dict(self.held[key])
        if rule is not None:
            record.update(sip_dispatch_rule_ids=[rule], sip_dispatch_rule_id=rule)
        if name is not None and not self.ignore_labels:
            record["name"] = name
        self.held[key] = record
        return record

    def search(self, *args, **kwargs):
        raise AssertionError("a pool with filters must use search_matching")

    def search_matching(self, country_code, accept, area_code=None, limit=50, max_pages=20):
        self.calls.append(("search_matching", country_code, area_code, limit, max_pages))
        records = [r for r in self.offers if accept(r)][:limit]
        return SearchScan(records, 3, 150, not self.bound_reached, self.bound_reached)


def run(api, entries, pools=()):
    planner = Planner(list(api.held.values()), entries, pools)
    planner.finish()
    progress = Progress()
    execute(api, planner, RUN, progress)
    return progress


def updates(api):
    return [call for call in api.calls if call[0] == "update"]


def test_a_label_and_a_route_go_in_one_call():
    api = LabelApi([rec(A, ["SDR_1"], "Old")])
    progress = run(api, [NumberEntry(0, A, "SDR_2", "present", "New")])
    assert updates(api) == [("update", "PN_0101", "SDR_2", "New")]
    assert progress.routed == [A] and progress.labelled == [A]
    assert progress.result()["changed"] is True


def test_a_bought_number_is_labelled_by_id_after_its_purchase():
    api = LabelApi()
    progress = run(api, [NumberEntry(0, A, "SDR_1", "present", "Sales")])
    assert [c[0] for c in api.calls] == ["purchase", "update"]
    assert updates(api) == [("update", "PN_0101", None, "Sales")]
    assert progress.purchased == [A] and progress.labelled == [A] and progress.routed == []
    assert api.held[A]["name"] == "Sales"


def test_a_server_that_ignores_labels_fails_the_run_naming_it():
    api = LabelApi([rec(A, ["SDR_1"]), rec(B, ["SDR_1"])], ignore_labels=True)
    entries = [
        NumberEntry(0, A, "SDR_2", "present", "New"),
        NumberEntry(1, B, None, "present", "X"),
    ]
    progress = Progress()
    planner = Planner(list(api.held.values()), entries, ())
    planner.finish()
    with pytest.raises(LabelIgnored) as info:
        execute(api, planner, RUN, progress)
    assert info.value.code == "label_ignored"
    message = str(info.value)
    assert "ignores labels" in message and "protocol 1.52" in message
    assert A in message and B in message
    # The route in the same call was set, and is reported; the labels are not.
    assert progress.routed == [A] and progress.labelled == []
    assert api.held[A]["sip_dispatch_rule_ids"] == ["SDR_2"]


def test_a_filtered_pool_searches_with_its_filters_and_takes_only_matches():
    offers = [
        rec(
            "+18005550010",
            status="unspecified",
            number_type="PHONE_NUMBER_TYPE_TOLL_FREE",
            capabilities=["voice"],
        ),
        rec(
            "+18005550011",
            status="unspecified",
            number_type="PHONE_NUMBER_TYPE_TOLL_FREE",
            capabilities=["sms"],
        ),
        rec(
            "+18005550012",
            status="unspecified",
            number_type="PHONE_NUMBER_TYPE_TOLL_FREE",
            capabilities=["sms"],
        ),
    ]
    api = LabelApi(offers=offers)
    pool = PoolEntry(0, "US", "800", 2, "SDR_1", sms_toll_free())
    dummy, planner = read_and_plan(api, RUN, [], [pool], max_purchase=5)
    search = [c for c in api.calls if c[0] == "search_matching"]
    assert search == [("search_matching", "US", "800", planner.search_limit(planner.pools[0]), 20)]
    assert planner.plan.purchased == ["+18005550011", "+18005550012"]


def test_a_filtered_pool_short_at_the_page_bound_says_so():
    offers = [
        rec(
            "+18005550011",
            status="unspecified",
            number_type="PHONE_NUMBER_TYPE_TOLL_FREE",
            capabilities=["sms"],
        )
    ]
    api = LabelApi(offers=offers, bound_reached=True)
    pool = PoolEntry(0, "US", "", 3, None, sms_toll_free())
    with pytest.raises(PoolShortfall) as info:
        read_and_plan(api, RUN, [], [pool], max_purchase=5)
    message = str(info.value)
    assert "number_type=toll_free, capabilities=sms" in message
    assert "bound of 3 pages" in message and "150 numbers read" in message
    assert not [c for c in api.calls if c[0] == "purchase"]
