"""The JSON wire format as Twirp (protojson) writes and reads it: names, enums, timestamps, errors."""

from __future__ import annotations

import datetime
import json
import re

STATUSES = (
    "PHONE_NUMBER_STATUS_UNSPECIFIED",
    "PHONE_NUMBER_STATUS_ACTIVE",
    "PHONE_NUMBER_STATUS_PENDING",
    "PHONE_NUMBER_STATUS_RELEASED",
    "PHONE_NUMBER_STATUS_OFFLINE",
)
UNSPECIFIED, ACTIVE, PENDING, RELEASED, OFFLINE = range(5)

NUMBER_TYPES = (
    "PHONE_NUMBER_TYPE_UNKNOWN",
    "PHONE_NUMBER_TYPE_MOBILE",
    "PHONE_NUMBER_TYPE_LOCAL",
    "PHONE_NUMBER_TYPE_TOLL_FREE",
)
TYPE_BY_SHORT_NAME = {"mobile": 1, "local": 2, "toll_free": 3}

# Protocol 1.52: whether a number takes inbound calls and can place outbound ones.
INBOUND_STATUSES = (
    "PHONE_NUMBER_IN_STATUS_UNSPECIFIED",
    "PHONE_NUMBER_IN_STATUS_ACTIVE",
    "PHONE_NUMBER_IN_STATUS_UNAVAILABLE",
    "PHONE_NUMBER_IN_STATUS_DETACHED",
)
IN_UNSPECIFIED, IN_ACTIVE, IN_UNAVAILABLE, IN_DETACHED = range(4)
OUTBOUND_STATUSES = (
    "PHONE_NUMBER_OUT_STATUS_UNSPECIFIED",
    "PHONE_NUMBER_OUT_STATUS_ACTIVE",
    "PHONE_NUMBER_OUT_STATUS_UNAVAILABLE",
)
OUT_UNSPECIFIED, OUT_ACTIVE, OUT_UNAVAILABLE = range(3)
# PhoneNumber fields a server that predates protocol 1.52 neither writes nor reads.
FIELDS_SINCE_1_52 = ("name", "inbound_status", "outbound_status")

# protojson writes the zero value of an enum as its name; with skip-defaults it is left out.
_ENUM_ZEROES = frozenset((STATUSES[0], NUMBER_TYPES[0], INBOUND_STATUSES[0], OUTBOUND_STATUSES[0]))

HTTP_STATUS = {
    "canceled": 408,
    "unknown": 500,
    "invalid_argument": 400,
    "malformed": 400,
    "deadline_exceeded": 408,
    "not_found": 404,
    "bad_route": 404,
    "already_exists": 409,
    "permission_denied": 403,
    "unauthenticated": 401,
    "resource_exhausted": 429,
    "failed_precondition": 412,
    "aborted": 409,
    "out_of_range": 400,
    "unimplemented": 501,
    "internal": 500,
    "unavailable": 503,
    "dataloss": 500,
}

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")


class TwirpError(Exception):
    def __init__(self, code, msg, meta=None):
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.meta = {str(k): str(v) for k, v in (meta or {}).items()}

    @property
    def status(self):
        return HTTP_STATUS[self.code]

    def body(self):
        payload = {"code": self.code, "msg": self.msg}
        if self.meta:
            payload["meta"] = self.meta
        return json.dumps(payload, separators=(",", ":")).encode()


def malformed(detail):
    return TwirpError("malformed", f"the json request could not be decoded: {detail}")


def invalid(msg, **meta):
    return TwirpError("invalid_argument", msg, meta)


# ---------------------------------------------------------------- timestamps

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)


def format_timestamp(ns):
    """RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, as protojson writes a Timestamp."""
    if ns is None:
        return None
    seconds, nanos = divmod(ns, 1000000000)
    text = (_EPOCH + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos == 0:
        return text + "Z"
    if nanos % 1000000 == 0:
        return "%s.%03dZ" % (text, nanos // 1000000)
    if nanos % 1000 == 0:
        return "%s.%06dZ" % (text, nanos // 1000)
    return "%s.%09dZ" % (text, nanos)


def parse_timestamp(text):
    if text is None:
        return None
    match = _RFC3339.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    day, clock, fraction, zone = match.groups()
    zone = "+00:00" if zone in ("Z", "z") else zone
    moment = datetime.datetime.fromisoformat(f"{day}T{clock}{zone}")
    delta = moment - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return seconds * 1000000000 + int((fraction or "0").ljust(9, "0"))


# ---------------------------------------------------------------- output


def camel(name):
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _is_default(value):
    if isinstance(value, str):
        return value == "" or value in _ENUM_ZEROES
    if isinstance(value, (list, dict)):
        return False if isinstance(value, dict) else not value
    return value is None or value is False or value == 0


def _shape(value, camel_names, skip_defaults):
    if isinstance(value, dict):
        shaped = {}
        for key, item in value.items():
            if skip_defaults and _is_default(item):
                continue
            shaped[camel(key) if camel_names else key] = _shape(item, camel_names, skip_defaults)
        return shaped
    if isinstance(value, list):
        return [_shape(item, camel_names, skip_defaults) for item in value]
    if isinstance(value, float) and value.is_integer():
        # Go writes a whole double without a fractional part.
        return int(value)
    return value


def without_fields(message, names):
    """The message with the PhoneNumber fields ``names`` removed wherever a record appears."""
    shaped = dict(message)
    for key in ("items", "phone_numbers"):
        if isinstance(shaped.get(key), list):
            shaped[key] = [_drop(item, names) for item in shaped[key]]
    if isinstance(shaped.get("phone_number"), dict):
        shaped["phone_number"] = _drop(shaped["phone_number"], names)
    return shaped


def _drop(record, names):
    return {key: value for key, value in record.items() if key not in names}


class Rendered(list):
    """Records already rendered (each one ``render``'s bytes), spliced in as a JSON array."""


def render(message, json_names="proto", skip_defaults=False):
    """Serialise a response given with proto field names, as the configured server variant would.

    A top-level list given as Rendered is written as the array of its parts, in its place among
    the other fields, so the bytes are the same as for the plain records.
    """
    if isinstance(message, dict) and any(isinstance(v, Rendered) for v in message.values()):
        parts = []
        for key, value in message.items():
            if isinstance(value, Rendered):
                if skip_defaults and not value:
                    continue
                name = camel(key) if json_names == "camel" else key
                parts.append(json.dumps(name).encode() + b":[" + b",".join(value) + b"]")
            else:
                one = render({key: value}, json_names, skip_defaults)
                if one != b"{}":
                    parts.append(one[1:-1])
        return b"{" + b",".join(parts) + b"}"
    return json.dumps(
        _shape(message, json_names == "camel", skip_defaults), separators=(",", ":")
    ).encode()


# ---------------------------------------------------------------- input

STRING, INT32, STRINGS, STATUS_LIST, PAGE_TOKEN = "string", "int32", "strings", "statuses", "token"

_INTEGER_TEXT = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.0*)?(?:[eE][+-]?[0-9]+)?$")


class _Object(dict):
    """A JSON object that remembers repeated keys, which protojson refuses."""

    repeated = frozenset()


def _object_hook(pairs):
    obj = _Object()
    repeated = set()
    for key, value in pairs:
        if key in obj:
            repeated.add(key)
        obj[key] = value
    if repeated:
        obj.repeated = frozenset(repeated)
    return obj


def _int32(name, value):
    if isinstance(value, bool):
        raise malformed(f"{name}: invalid value for int32 field: {json.dumps(value)}")
    if isinstance(value, str):
        if not _INTEGER_TEXT.match(value):
            raise malformed(f"{name}: invalid value for int32 field: {json.dumps(value)}")
        value = float(value) if any(c in value for c in ".eE") else int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise malformed(f"{name}: invalid value for int32 field: {value}")
        value = int(value)
    if not isinstance(value, int) or not -(2**31) <= value < 2**31:
        raise malformed(f"{name}: invalid value for int32 field: {json.dumps(value)}")
    return value


def _string(name, value):
    if not isinstance(value, str):
        raise malformed(f"{name}: invalid value for string field: {json.dumps(value)}")
    return value


def _list(name, value, item):
    if not isinstance(value, list):
        raise malformed(f"{name}: invalid value for repeated field: {json.dumps(value)}")
    return [item(name, element) for element in value]


def _status(name, value):
    if isinstance(value, str):
        # protojson, told to discard unknown fields, also drops unknown enum names from lists.
        return STATUSES.index(value) if value in STATUSES else None
    return _int32(name, value)


def _page_token(name, value):
    if not isinstance(value, dict):
        raise malformed(f"{name}: invalid value for message field: {json.dumps(value)}")
    token = value.get("token")
    return "" if token is None else _string(name + ".token", token)


def _field(name, kind, value):
    if kind == STRING:
        return _string(name, value)
    if kind == INT32:
        return _int32(name, value)
    if kind == STRINGS:
        return _list(name, value, _string)
    if kind == STATUS_LIST:
        return [status for status in _list(name, value, _status) if status is not None]
    return _page_token(name, value)


class Request(dict):
    """A decoded request; ``ignored`` names the fields it carried that the schema does not."""

    ignored = ()


def decode_request(body, schema):
    """Parse a request body against {proto_name: kind}; absent fields are None."""
    if not body or not body.strip():
        raise malformed("empty body")
    try:
        data = json.loads(body, object_pairs_hook=_object_hook)
    except (ValueError, UnicodeDecodeError) as exc:
        raise malformed(str(exc)) from exc
    if not isinstance(data, dict):
        raise malformed("expected a JSON object")
    request = Request()
    known = set()
    for name, kind in schema.items():
        known.update((name, camel(name)))
        present = [
            key
            for key in dict.fromkeys((name, camel(name)))
            if key in data and data[key] is not None
        ]
        if len(present) > 1 or any(key in data.repeated for key in present):
            raise malformed(f"duplicate field {name}")
        request[name] = _field(name, kind, data[present[0]]) if present else None
    request.ignored = tuple(sorted(key for key in data if key not in known))
    return request
