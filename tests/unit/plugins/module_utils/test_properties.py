"""Property tests: formatting never changes the number; JSON variants never change the record."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.livekit.sip.plugins.module_utils._e164 import normalize_e164
from ansible_collections.livekit.sip.plugins.module_utils._records import camel, normalize_record

digits = st.text(alphabet="0123456789", min_size=7, max_size=14)
separators = st.sampled_from(["", " ", "-", ".", "(", ")", " - "])


@settings(max_examples=300)
@given(first=st.sampled_from("123456789"), rest=digits, data=st.data())
def test_any_formatting_normalises_to_the_digits(first, rest, data):
    number = "+" + first + rest
    formatted = "+"
    for char in first + rest:
        formatted += char + data.draw(separators)
    assert normalize_e164(formatted) == number


RAW = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=8),
        "e164_format": st.text(max_size=16),
        "country_code": st.sampled_from(["US", "GB", ""]),
        "number_type": st.sampled_from(
            ["PHONE_NUMBER_TYPE_LOCAL", "PHONE_NUMBER_TYPE_TOLL_FREE", 1, 0]
        ),
        "spam_score": st.floats(min_value=0, max_value=1),
        "capabilities": st.lists(st.sampled_from(["voice", "sms"]), max_size=2),
        "status": st.sampled_from(
            ["PHONE_NUMBER_STATUS_ACTIVE", "PHONE_NUMBER_STATUS_OFFLINE", 2, 3]
        ),
        "sip_dispatch_rule_id": st.text(max_size=6),
        "sip_dispatch_rule_ids": st.lists(st.text(min_size=1, max_size=6), max_size=3),
        "created_at": st.one_of(st.none(), st.just("2025-09-08T12:00:00.123Z")),
    },
)


@settings(max_examples=300)
@given(raw=RAW)
def test_camel_names_give_the_same_record(raw):
    record = normalize_record(raw)
    assert normalize_record({camel(k): v for k, v in raw.items()}) == record
    assert record["sip_dispatch_rule_id"] == (
        record["sip_dispatch_rule_ids"][0] if record["sip_dispatch_rule_ids"] else ""
    )
    assert record["status"] in ("active", "pending", "released", "offline", "unspecified")


@settings(max_examples=200)
@given(raw=RAW)
def test_zero_values_equal_missing_fields(raw):
    zeroes = {
        "id": "",
        "country_code": "",
        "capabilities": [],
        "sip_dispatch_rule_ids": [],
        "sip_dispatch_rule_id": "",
        "created_at": None,
        "spam_score": 0,
        "status": 0,
        "number_type": 0,
    }
    with_zeroes = dict(zeroes)
    with_zeroes.update(raw)
    assert normalize_record(with_zeroes) == normalize_record(raw)
