# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One normalised phone number record, whatever JSON the server wrote.

The server's JSON is Go protojson: field names are the proto names (``e164_format``) or, when
so configured, lowerCamelCase (``e164Format``); unpopulated fields are emitted as zero values or
skipped; enums come as names (or numbers); timestamps are RFC 3339 strings. Older servers also
lack fields added later (``sip_dispatch_rule_ids``, ``offline_count``, ``created_at``...). Every
record leaving this module has the same keys, snake_case, with zero values for what was absent,
so module output and planning never depend on the server's configuration or age.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Any, Dict, List, Optional

# A normalised phone-number record: the fields of RECORD_FIELDS, always all of them.
Record = Dict[str, Any]

# Field -> zero value, in the order records are presented.
RECORD_FIELDS = (
    ("id", ""),
    ("name", ""),
    ("e164_format", ""),
    ("country_code", ""),
    ("area_code", ""),
    ("number_type", "unknown"),
    ("locality", ""),
    ("region", ""),
    ("spam_score", 0.0),
    ("capabilities", []),
    ("status", "unspecified"),
    ("inbound_status", "unspecified"),
    ("outbound_status", "unspecified"),
    ("sip_dispatch_rule_id", ""),
    ("sip_dispatch_rule_ids", []),
    ("created_at", None),
    ("updated_at", None),
    ("assigned_at", None),
    ("released_at", None),
)

STATUS_PREFIX = "PHONE_NUMBER_STATUS_"
TYPE_PREFIX = "PHONE_NUMBER_TYPE_"
INBOUND_PREFIX = "PHONE_NUMBER_IN_STATUS_"
OUTBOUND_PREFIX = "PHONE_NUMBER_OUT_STATUS_"

STATUS_NUMBERS = {"unspecified": 0, "active": 1, "pending": 2, "released": 3, "offline": 4}
STATUS_NAMES = {v: k for k, v in STATUS_NUMBERS.items()}
TYPE_NUMBERS = {"unknown": 0, "mobile": 1, "local": 2, "toll_free": 3}
TYPE_NAMES = {v: k for k, v in TYPE_NUMBERS.items()}
# Whether the number can take calls (1.52 protocol); servers before it send neither field.
INBOUND_NUMBERS = {"unspecified": 0, "active": 1, "unavailable": 2, "detached": 3}
INBOUND_NAMES = {v: k for k, v in INBOUND_NUMBERS.items()}
OUTBOUND_NUMBERS = {"unspecified": 0, "active": 1, "unavailable": 2}
OUTBOUND_NAMES = {v: k for k, v in OUTBOUND_NUMBERS.items()}

# A number the project holds. RELEASED numbers stay listed but are gone for good.
HELD_STATUSES = ("active", "pending", "offline")
STATUS_CHOICES = ("active", "pending", "released", "offline")

_CAMEL = re.compile(r"_([a-z0-9])")


def camel(name):
    """``sip_dispatch_rule_ids`` -> ``sipDispatchRuleIds`` (protojson's JSON name)."""
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


def field(raw: Dict[str, Any], name: str, default: Any = None) -> Any:
    """Read a field under its proto name or its lowerCamelCase JSON name."""
    if not isinstance(raw, dict):
        return default
    if name in raw:
        return raw[name]
    return raw.get(camel(name), default)


def _enum(value, prefix, numbers, names, fallback):
    """Short lowercase name for an enum given as full name, short name or number."""
    if value is None or value == "":
        return fallback
    if isinstance(value, bool):
        return fallback
    if isinstance(value, int):
        return names.get(value, fallback)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return names.get(int(text), fallback)
    text = text.upper()
    if text.startswith(prefix):
        text = text[len(prefix) :]
    short = text.lower().replace("-", "_")
    return short if short in numbers else fallback


def status_name(value: Any) -> str:
    """``PHONE_NUMBER_STATUS_ACTIVE``, ``active`` or ``1`` -> ``active``."""
    return _enum(value, STATUS_PREFIX, STATUS_NUMBERS, STATUS_NAMES, "unspecified")


def number_type_name(value: Any) -> str:
    """``PHONE_NUMBER_TYPE_TOLL_FREE``, ``toll_free`` or ``3`` -> ``toll_free``."""
    return _enum(value, TYPE_PREFIX, TYPE_NUMBERS, TYPE_NAMES, "unknown")


def inbound_status_name(value: Any) -> str:
    """``PHONE_NUMBER_IN_STATUS_DETACHED``, ``detached`` or ``3`` -> ``detached``."""
    return _enum(value, INBOUND_PREFIX, INBOUND_NUMBERS, INBOUND_NAMES, "unspecified")


def outbound_status_name(value: Any) -> str:
    """``PHONE_NUMBER_OUT_STATUS_ACTIVE``, ``active`` or ``1`` -> ``active``."""
    return _enum(value, OUTBOUND_PREFIX, OUTBOUND_NUMBERS, OUTBOUND_NAMES, "unspecified")


def status_to_api(short: str) -> str:
    """``active`` -> ``PHONE_NUMBER_STATUS_ACTIVE`` (the enum name the API defines)."""
    short = status_name(short)
    return STATUS_PREFIX + short.upper()


def status_to_number(short: str) -> int:
    """``offline`` -> ``4``.

    Requests send status filters as numbers: protojson accepts a number for any enum value,
    while a server that predates a value (OFFLINE) would reject its name.
    """
    return STATUS_NUMBERS[status_name(short)]


_TIMESTAMP = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?"
)
_ZERO_DATES = ("0001-01-01T00:00:00", "1970-01-01T00:00:00")


def timestamp(value: Any) -> Optional[str]:
    """An ISO 8601 string in UTC with a ``Z`` suffix, or None when unset.

    RFC 3339 strings keep their fractional digits as given; a non-UTC offset is converted.
    A ``{"seconds", "nanos"}`` object or epoch seconds are accepted too. The zero time (epoch
    or Go's zero date) means "never" and becomes None. Text that is not a timestamp at all is
    returned unchanged rather than dropped.
    """
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, dict):
        seconds = value.get("seconds", 0) or 0
        nanos = value.get("nanos", 0) or 0
        try:
            seconds = int(seconds)
            nanos = int(nanos)
        except (TypeError, ValueError):
            return None
        if seconds == 0 and nanos == 0:
            return None
        return _from_epoch(seconds, nanos)
    if isinstance(value, (int, float)):
        if value == 0:
            return None
        whole = int(value)
        return _from_epoch(whole, int(round((value - whole) * 1e9)))
    text = str(value).strip()
    match = _TIMESTAMP.fullmatch(text)
    if not match:
        return text
    date, clock, fraction, offset = match.groups()
    fraction = fraction or ""
    base = f"{date}T{clock}"
    if offset and offset.upper() != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        try:
            moment = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S") - sign * delta
        except (ValueError, OverflowError):
            return text
        base = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if base in _ZERO_DATES and not fraction.strip(".0"):
        return None
    return base + fraction + "Z"


def _from_epoch(seconds, nanos):
    epoch = datetime.datetime(1970, 1, 1)
    try:
        moment = epoch + datetime.timedelta(seconds=seconds)
    except OverflowError:
        return None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += ("." + "%09d" % nanos).rstrip("0")
    return text + "Z"


def _string(value):
    if value is None:
        return ""
    return str(value)


def _string_list(value):
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and v != ""]
    return [str(value)]


def _float(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    # protojson writes NaN/Infinity as strings; they are meaningless as a spam score.
    if not math.isfinite(number):
        return 0.0
    return number


def normalize_record(raw: Any) -> Record:
    """Return the normalised record for one ``PhoneNumber`` JSON object."""
    if not isinstance(raw, dict):
        raw = {}
    rules = _string_list(field(raw, "sip_dispatch_rule_ids"))
    single = _string(field(raw, "sip_dispatch_rule_id"))
    if not rules and single:
        # Servers before the list field (or clients of the deprecated one) set only this.
        rules = [single]
    record = {
        "id": _string(field(raw, "id")),
        "name": _string(field(raw, "name")),
        "e164_format": _string(field(raw, "e164_format")),
        "country_code": _string(field(raw, "country_code")),
        "area_code": _string(field(raw, "area_code")),
        "number_type": number_type_name(field(raw, "number_type")),
        "locality": _string(field(raw, "locality")),
        "region": _string(field(raw, "region")),
        "spam_score": _float(field(raw, "spam_score")),
        "capabilities": _string_list(field(raw, "capabilities")),
        "status": status_name(field(raw, "status")),
        "inbound_status": inbound_status_name(field(raw, "inbound_status")),
        "outbound_status": outbound_status_name(field(raw, "outbound_status")),
        "sip_dispatch_rule_id": rules[0] if rules else "",
        "sip_dispatch_rule_ids": rules,
        "created_at": timestamp(field(raw, "created_at")),
        "updated_at": timestamp(field(raw, "updated_at")),
        "assigned_at": timestamp(field(raw, "assigned_at")),
        "released_at": timestamp(field(raw, "released_at")),
    }
    return record


def normalize_records(items: Optional[List[Any]]) -> List[Record]:
    if not items:
        return []
    return [normalize_record(item) for item in items]


def empty_record(e164_format: str = "") -> Record:
    """A record with every field at its zero value."""
    record = {name: list(zero) if isinstance(zero, list) else zero for name, zero in RECORD_FIELDS}
    record["e164_format"] = e164_format
    return record


def merge_records(base: Record, update: Record) -> Record:
    """Overlay the populated fields of ``update`` on ``base`` (both normalised).

    Write responses carry only some fields (a purchase answers id, number and status); merging
    keeps what an earlier, fuller record said about the rest.
    """
    merged = dict(base)
    for name, zero in RECORD_FIELDS:
        value = update.get(name, zero)
        if value != zero and value is not None:
            merged[name] = value
    return merged


def is_held(record: Optional[Record]) -> bool:
    """True when the project holds the number: PENDING, ACTIVE or OFFLINE."""
    return bool(record) and record.get("status") in HELD_STATUSES
