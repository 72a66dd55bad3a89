"""Search and listing filters: pure predicates over normalised records."""

from __future__ import annotations

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._errors import ParameterError
from ansible_collections.livekit.sip.plugins.module_utils._filters import (
    ListingFilter,
    SearchFilter,
    contains_digits,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import normalize_record


def offer(e164="+14155550100", **fields):
    raw = {"e164_format": e164, "country_code": "US", "area_code": e164[2:5]}
    raw.update(fields)
    return normalize_record(raw)


SF_LOCAL = offer(
    number_type="PHONE_NUMBER_TYPE_LOCAL",
    locality="San Francisco",
    region="CA",
    capabilities=["voice", "sms"],
    spam_score=0.3,
)
TOLL_FREE = offer("+18005551234", number_type="PHONE_NUMBER_TYPE_TOLL_FREE", capabilities=["voice"])


@pytest.mark.parametrize(
    "pattern, digits",
    [
        ("555", "555"),
        ("8*8", "8*8"),
        ("FLOWERS", "3569377"),
        ("800-flowers", "8003569377"),
        (" 4 1 5 ", "415"),
        ("*1*", "*1*"),
    ],
)
def test_contains_digits(pattern, digits):
    assert contains_digits(pattern) == digits


@pytest.mark.parametrize("pattern", ["", "***", "5+5", "55.5", "٥٥٥", "--"])
def test_contains_refuses_what_is_no_pattern(pattern):
    with pytest.raises(ParameterError):
        contains_digits(pattern)


def test_no_filter_matches_everything_and_is_inactive():
    wanted = SearchFilter()
    assert not wanted.active
    assert wanted.matches(SF_LOCAL) and wanted.matches(TOLL_FREE)
    assert wanted.describe() == ""


@pytest.mark.parametrize(
    "options, sf_local, toll_free",
    [
        ({"number_type": "local"}, True, False),
        ({"number_type": "toll_free"}, False, True),
        ({"number_type": "mobile"}, False, False),
        ({"locality": "san  francisco"}, True, False),
        ({"locality": "San"}, False, False),
        ({"region": "ca"}, True, False),
        ({"capabilities": ["voice"]}, True, True),
        ({"capabilities": ["VOICE", "sms"]}, True, False),
        ({"capabilities": ["sms", "mms"]}, False, False),
        ({"contains": "555"}, True, True),
        ({"contains": "800555"}, False, True),
        ({"contains": "5*5*2"}, False, True),
        ({"contains": "0100"}, True, False),
        # The country code is part of the digits.
        ({"contains": "1415"}, True, False),
        ({"max_spam_score": 0.3}, True, True),
        ({"max_spam_score": 0.29}, False, True),
        ({"max_spam_score": 0}, False, True),
        ({"number_type": "local", "capabilities": ["sms"], "contains": "555"}, True, False),
    ],
)
def test_filters(options, sf_local, toll_free):
    wanted = SearchFilter(**options)
    assert wanted.active
    assert wanted.matches(SF_LOCAL) is sf_local
    assert wanted.matches(TOLL_FREE) is toll_free


def test_blank_locality_and_region_are_no_filter():
    assert not SearchFilter(locality="  ", region="").active


def test_from_params_ignores_other_options():
    wanted = SearchFilter.from_params(
        {"country_code": "US", "number_type": "toll_free", "capabilities": ["sms", "sms"]}
    )
    assert wanted.describe() == "number_type=toll_free, capabilities=sms"


@pytest.mark.parametrize(
    "options",
    [
        {"number_type": "landline"},
        {"capabilities": ["voice", " "]},
        {"max_spam_score": -0.1},
        {"max_spam_score": "high"},
        {"max_spam_score": float("nan")},
        {"contains": "abc!"},
    ],
)
def test_bad_filters_are_refused(options):
    with pytest.raises(ParameterError):
        SearchFilter(**options)


def held(e164, name="", country="US", area=None):
    return normalize_record(
        {"e164_format": e164, "name": name, "country_code": country, "area_code": area or e164[2:5]}
    )


LISTED = [
    held("+14155550100", "Support line"),
    held("+14155550101"),
    held("+16505550102", "Support line"),
    held("+442071234567", "London desk", country="GB", area="20"),
]


@pytest.mark.parametrize(
    "options, expected",
    [
        ({}, [0, 1, 2, 3]),
        ({"name": "Support line"}, [0, 2]),
        ({"name": "support line"}, []),
        ({"name": ""}, [1]),
        ({"country_code": "gb"}, [3]),
        ({"area_code": "415"}, [0, 1]),
        ({"name": "Support line", "country_code": "US", "area_code": "650"}, [2]),
    ],
)
def test_listing_filter(options, expected):
    wanted = ListingFilter(**options)
    assert wanted.active is bool(options)
    assert wanted.apply(LISTED) == [LISTED[i] for i in expected]


@pytest.mark.parametrize("options", [{"country_code": "USA"}, {"area_code": "41x"}])
def test_bad_listing_filters_are_refused(options):
    with pytest.raises(ParameterError):
        ListingFilter(**options)


def test_as_dict_names_the_filters_set():
    assert SearchFilter().as_dict() == {}
    assert SearchFilter(region="CA", capabilities=["SMS"], max_spam_score=0).as_dict() == {
        "region": "ca",
        "capabilities": ["sms"],
        "max_spam_score": 0.0,
    }
