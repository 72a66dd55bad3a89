"""Every module that returns records documents exactly the fields a record has, in its order."""

from __future__ import annotations

import importlib

import pytest
import yaml

from ansible_collections.livekit.sip.plugins.module_utils._records import (
    INBOUND_NUMBERS,
    OUTBOUND_NUMBERS,
    RECORD_FIELDS,
    STATUS_NUMBERS,
    TYPE_NUMBERS,
)

MODULES = ("phone_number", "phone_number_fleet", "phone_number_info", "phone_number_search")
FIELD_NAMES = [name for name, dummy in RECORD_FIELDS]
ENUMS = {
    "status": STATUS_NUMBERS,
    "number_type": TYPE_NUMBERS,
    "inbound_status": INBOUND_NUMBERS,
    "outbound_status": OUTBOUND_NUMBERS,
}


def returned_records(name):
    module = importlib.import_module("ansible_collections.livekit.sip.plugins.modules." + name)
    return yaml.safe_load(module.RETURN)["phone_numbers"]


@pytest.mark.parametrize("name", MODULES)
def test_contains_lists_every_record_field_in_order(name):
    assert list(returned_records(name)["contains"]) == FIELD_NAMES


@pytest.mark.parametrize("name", MODULES)
def test_sample_has_every_record_field_in_order(name):
    for sample in returned_records(name)["sample"]:
        assert list(sample) == FIELD_NAMES


@pytest.mark.parametrize("name", MODULES)
def test_enum_choices_are_the_names_records_use(name):
    contains = returned_records(name)["contains"]
    for field, numbers in ENUMS.items():
        # A module may document fewer statuses (the fleet returns held numbers only), never others.
        assert set(contains[field]["choices"]) <= set(numbers), (name, field)
    assert sorted(contains["inbound_status"]["choices"]) == sorted(INBOUND_NUMBERS)
    assert sorted(contains["outbound_status"]["choices"]) == sorted(OUTBOUND_NUMBERS)
