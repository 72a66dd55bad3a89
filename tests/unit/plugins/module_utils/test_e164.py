"""E.164 input normalisation: what is accepted, what is refused, and what the message says."""

from __future__ import annotations

import pytest

from ansible_collections.livekit.sip.plugins.module_utils._e164 import (
    normalize_e164,
    normalize_many,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    InvalidPhoneNumber,
    LiveKitError,
)


@pytest.mark.parametrize(
    "given, expected",
    [
        ("+14155550100", "+14155550100"),
        ("+1 (415) 555-0100", "+14155550100"),
        ("+1 415 555 0100", "+14155550100"),
        ("+1-415-555-0100", "+14155550100"),
        ("+1.415.555.0100", "+14155550100"),
        ("  +44 20 7946 0958 ", "+442079460958"),
        ("+4420\u00a079460958", "+442079460958"),  # no-break space
        ("+49/30/1234567", "+49301234567"),
        ("+12345678", "+12345678"),  # 8 digits: the shortest accepted
        ("+123456789012345", "+123456789012345"),  # 15 digits: the E.164 maximum
    ],
)
def test_accepted_forms(given, expected):
    assert normalize_e164(given) == expected


@pytest.mark.parametrize(
    "given, reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("14155550100", "must start with '+'"),
        ("004420794609", "not '00'"),
        ("+0415555010", "cannot start with 0"),
        ("+1234567", "at least 8"),
        ("+1234567890123456", "at most 15"),
        ("+1 415 CALL NOW", "only digits"),
        ("+1415555010x12", "only digits"),
        ("++14155550100", "only digits"),
        (
            "+1\u0664\u0661\u0665\u0665\u0665\u0660\u0661\u0660\u0660",
            "only digits",
        ),  # Arabic-Indic digits
    ],
)
def test_refused_forms_name_the_value(given, reason):
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize_e164(given)
    text = str(info.value)
    assert repr(given) in text
    assert reason in text
    assert info.value.code == "invalid_phone_number"
    assert isinstance(info.value, LiveKitError)


@pytest.mark.parametrize("given", [None, 14155550100, ["+14155550100"]])
def test_non_strings_are_refused(given):
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize_e164(given)
    assert repr(given) in str(info.value)


def test_many_keeps_order_and_drops_duplicates_after_normalising():
    assert normalize_many(["+1 415 555 0101", "+14155550100", "+1-415-555-0101"]) == [
        "+14155550101",
        "+14155550100",
    ]


def test_many_with_one_bad_value_names_it():
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize_many(["+14155550100", "415-555-0101"])
    assert str(info.value).startswith("phone number '415-555-0101' is not E.164")


def test_many_names_every_bad_value_with_its_position_bounded():
    values = ["+14155550100", "415-555-0101", "0044 20 7946 0000"]
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize_many(values)
    text = str(info.value)
    assert text.startswith("2 of the 3 phone numbers are not E.164: [1] phone number '415-555")
    assert "; [2] phone number '0044 20 7946 0000' is not E.164: write the international" in text
    many = ["415555%04d" % n for n in range(50)]
    with pytest.raises(InvalidPhoneNumber) as info:
        normalize_many(many)
    text = str(info.value)
    assert "[9] phone number '4155550009'" in text and "[10]" not in text
    assert text.endswith("; and 40 more") and len(text) < 1200
