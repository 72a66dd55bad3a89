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
from typing import Any, Dict, List, Optional, Tuple

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
# A record the project lists with a status this collection does not know (a later protocol's
# SUSPENDED, a bare 7, or none at all) is counted as held: buying a replacement for it, or
# buying it again, would spend money on a guess. Planners never release such a number unless
# an entry names it, and modules warn about it (see status_is_known).
NOT_HELD_STATUSES = ("released",)

# NANP (+1) area codes outside the United States, by ISO 3166-1 alpha-2 code: the country of a
# +1 number is in its area code. Used only to fill a record whose server left country_code
# out; toll-free codes are shared by every NANP country and give no country.
NANP_COUNTRIES = {
    "CA": (
        "204 226 236 249 250 257 263 289 306 343 354 365 367 368 382 387 403 416 418 428 431 "
        "437 438 450 460 468 474 506 514 519 548 579 581 584 587 600 604 613 622 639 647 672 "
        "683 705 709 742 753 778 780 782 807 819 825 867 873 879 902 905 942"
    ),
    "AG": "268",
    "AI": "264",
    "AS": "684",
    "BB": "246",
    "BM": "441",
    "BS": "242",
    "DM": "767",
    "DO": "809 829 849",
    "GD": "473",
    "GU": "671",
    "JM": "658 876",
    "KN": "869",
    "KY": "345",
    "LC": "758",
    "MP": "670",
    "MS": "664",
    "PR": "787 939",
    "SX": "721",
    "TC": "649",
    "TT": "868",
    "VC": "784",
    "VG": "284",
    "VI": "340",
}
NANP_TOLL_FREE = ("800", "833", "844", "855", "866", "877", "888")
_NANP_COUNTRY = {
    code: country for country, codes in NANP_COUNTRIES.items() for code in codes.split()
}
_NANP = re.compile(r"^\+1([2-9][0-9]{2})[2-9][0-9]{6}$")

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


# A listing of 20,000 records repeats a handful of enum names and timestamps (one per purchase
# batch); each distinct text is worked out once. Bounded, as a server may send anything.
_MEMO_LIMIT = 4096
_ENUM_MEMO: Dict[Any, str] = {}
_TIMESTAMP_MEMO: Dict[str, Optional[str]] = {}


def _remember(memo, key, value):
    if len(memo) >= _MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


def _enum(value, prefix, numbers, names, fallback):
    """Short lowercase name for an enum given as full name, short name or number."""
    if isinstance(value, str):
        key = (value, prefix, fallback)
        known = _ENUM_MEMO.get(key)
        if known is None:
            known = _remember(_ENUM_MEMO, key, _enum_name(value, prefix, numbers, names, fallback))
        return known
    return _enum_name(value, prefix, numbers, names, fallback)


def _enum_name(value, prefix, numbers, names, fallback):
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


def record_status(value: Any) -> str:
    """The status of a record as the server gave it, in the short lowercase form.

    Known values as ``status_name`` gives them; a name this collection does not know keeps its
    own short form (``PHONE_NUMBER_STATUS_SUSPENDED`` -> ``suspended``) and a number it does not
    know becomes ``unknown_7``, so that the record is neither hidden nor mistaken for another
    status.
    """
    known = status_name(value)
    if known != "unspecified" or value is None or value == "" or isinstance(value, bool):
        return known
    if isinstance(value, int):
        return "unspecified" if value == 0 else "unknown_%d" % value
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        number = int(text)
        return "unspecified" if number == 0 else "unknown_%d" % number
    text = text.upper()
    if text.startswith(STATUS_PREFIX):
        text = text[len(STATUS_PREFIX) :]
    short = re.sub(r"[^a-z0-9_]+", "_", text.lower()).strip("_")
    return short or "unspecified"


def status_is_known(status: str) -> bool:
    """True for the statuses whose meaning this collection knows (UNSPECIFIED is not one)."""
    return status in STATUS_CHOICES


def nanp_fields(e164: Optional[str]) -> Tuple[str, str]:
    """(country_code, area_code) that the digits of a +1 number show; ("", "") otherwise.

    The area code is always in the digits; the country is, except for toll-free codes. Area
    codes this table does not list as another country's are the United States'.
    """
    match = _NANP.match(e164 or "")
    if not match:
        return "", ""
    area = match.group(1)
    if area in NANP_TOLL_FREE:
        return "", area
    return _NANP_COUNTRY.get(area, "US"), area


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
    """An ISO 8601 string in UTC with a ``Z`` suffix, or None when unset (see ``_timestamp``).

    Each text is worked out once.
    """
    if isinstance(value, str):
        if value in _TIMESTAMP_MEMO:
            return _TIMESTAMP_MEMO[value]
        return _remember(_TIMESTAMP_MEMO, value, _timestamp(value))
    return _timestamp(value)


def _timestamp(value: Any) -> Optional[str]:
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
        "status": record_status(field(raw, "status")),
        "inbound_status": inbound_status_name(field(raw, "inbound_status")),
        "outbound_status": outbound_status_name(field(raw, "outbound_status")),
        "sip_dispatch_rule_id": rules[0] if rules else "",
        "sip_dispatch_rule_ids": rules,
        "created_at": timestamp(field(raw, "created_at")),
        "updated_at": timestamp(field(raw, "updated_at")),
        "assigned_at": timestamp(field(raw, "assigned_at")),
        "released_at": timestamp(field(raw, "released_at")),
    }
    if not record["country_code"] or not record["area_code"]:
        # Some servers leave these out; a pool that cannot tell a number's area would buy a
        # replacement for it and count the number itself as unlisted.
        country, area = nanp_fields(record["e164_format"])
        record["country_code"] = record["country_code"] or country
        record["area_code"] = record["area_code"] or area
    return record


def missing_fields(raw: Any) -> List[str]:
    """The identifying fields a raw record lacks (empty or absent), in RECORD_FIELDS order."""
    wanted = ("id", "e164_format", "country_code", "area_code", "status")
    return [name for name in wanted if field(raw, name) in (None, "", 0)]


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
    """True when the project holds the number: any status but RELEASED.

    PENDING, ACTIVE and OFFLINE are held; so is a status this collection does not know, since
    a record the project lists must never count as absent because its status is new.
    """
    if not record or not (record.get("e164_format") or record.get("id")):
        return False
    return record.get("status", "unspecified") not in NOT_HELD_STATUSES
