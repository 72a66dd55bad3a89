"""The messages of livekit.SIP's dispatch-rule RPCs, read and written as protojson does.

Requests are read against the protocol's own field list: proto or lowerCamelCase names, JSON
null as unset, a field given twice (under both names, or repeated) refused as ``malformed``, and
fields the protocol does not define ignored. Values are kept with proto names and only the fields
that were present, so that proto3 ``optional`` fields and unset messages keep their meaning.
Answers are written with every field (unset messages as ``null``) or, with skip-defaults, without
the zero values; map keys are data and never renamed.
"""

from __future__ import annotations

import json
import re

from .wire import camel, malformed

STRING, BOOL, UINT32, INT32, TIMESTAMP, DURATION = (
    "string",
    "bool",
    "uint32",
    "int32",
    "timestamp",
    "duration",
)

ENCRYPTIONS = ("SIP_MEDIA_ENCRYPT_DISABLE", "SIP_MEDIA_ENCRYPT_ALLOW", "SIP_MEDIA_ENCRYPT_REQUIRE")
RESTART_POLICIES = ("JRP_ON_FAILURE", "JRP_ALWAYS", "JRP_NEVER")
ENUMS = {"SIPMediaEncryption": ENCRYPTIONS, "JobRestartPolicy": RESTART_POLICIES}


def msg(name):
    return ("message", name)


def repeated(kind):
    return ("repeated", kind)


def optional(kind):
    return ("optional", kind)


def enum(name):
    return ("enum", name)


MAP = ("map", STRING)
# Nested messages of RoomConfiguration that dispatch rules carry but never look into.
OPAQUE = ("opaque", None)

# message -> {field: kind}; oneofs are listed apart.
MESSAGES = {
    "SIPDispatchRuleDirect": {"room_name": STRING, "pin": STRING},
    "SIPDispatchRuleIndividual": {"room_prefix": STRING, "pin": STRING, "no_randomness": BOOL},
    "SIPDispatchRuleCallee": {"room_prefix": STRING, "pin": STRING, "randomize": BOOL},
    "SIPDispatchRule": {
        "dispatch_rule_direct": msg("SIPDispatchRuleDirect"),
        "dispatch_rule_individual": msg("SIPDispatchRuleIndividual"),
        "dispatch_rule_callee": msg("SIPDispatchRuleCallee"),
    },
    "RoomAgentDispatch": {
        "agent_name": STRING,
        "metadata": STRING,
        "restart_policy": enum("JobRestartPolicy"),
        "deployment": STRING,
        "attributes": MAP,
    },
    "RoomConfiguration": {
        "name": STRING,
        "empty_timeout": UINT32,
        "departure_timeout": UINT32,
        "max_participants": UINT32,
        "metadata": STRING,
        "egress": OPAQUE,
        "min_playout_delay": UINT32,
        "max_playout_delay": UINT32,
        "sync_streams": BOOL,
        "agents": repeated(msg("RoomAgentDispatch")),
        "tags": MAP,
    },
    "SIPCodec": {"name": STRING, "rate": UINT32},
    "SIPMediaConfig": {
        "only_listed_codecs": BOOL,
        "codecs": repeated(msg("SIPCodec")),
        "encryption": optional(enum("SIPMediaEncryption")),
        "media_timeout": optional(DURATION),
    },
    "SIPDispatchRuleInfo": {
        "sip_dispatch_rule_id": STRING,
        "rule": msg("SIPDispatchRule"),
        "trunk_ids": repeated(STRING),
        "hide_phone_number": BOOL,
        "inbound_numbers": repeated(STRING),
        "numbers": repeated(STRING),
        "name": STRING,
        "metadata": STRING,
        "attributes": MAP,
        "room_preset": STRING,
        "room_config": msg("RoomConfiguration"),
        "media": msg("SIPMediaConfig"),
        "krisp_enabled": BOOL,
        "media_encryption": enum("SIPMediaEncryption"),
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    },
    "ListUpdate": {
        "set": repeated(STRING),
        "add": repeated(STRING),
        "remove": repeated(STRING),
        "clear": BOOL,
    },
    "SIPDispatchRuleUpdate": {
        "trunk_ids": msg("ListUpdate"),
        "rule": msg("SIPDispatchRule"),
        "name": optional(STRING),
        "metadata": optional(STRING),
        "attributes": MAP,
        "media_encryption": optional(enum("SIPMediaEncryption")),
        "media": msg("SIPMediaConfig"),
    },
    "CreateSIPDispatchRuleRequest": {
        "dispatch_rule": msg("SIPDispatchRuleInfo"),
        "rule": msg("SIPDispatchRule"),
        "trunk_ids": repeated(STRING),
        "hide_phone_number": BOOL,
        "inbound_numbers": repeated(STRING),
        "name": STRING,
        "metadata": STRING,
        "attributes": MAP,
        "room_preset": STRING,
        "room_config": msg("RoomConfiguration"),
    },
    "UpdateSIPDispatchRuleRequest": {
        "sip_dispatch_rule_id": STRING,
        "replace": msg("SIPDispatchRuleInfo"),
        "update": msg("SIPDispatchRuleUpdate"),
    },
    "Pagination": {"after_id": STRING, "limit": INT32},
    "ListSIPDispatchRuleRequest": {
        "page": msg("Pagination"),
        "dispatch_rule_ids": repeated(STRING),
        "trunk_ids": repeated(STRING),
    },
    "DeleteSIPDispatchRuleRequest": {"sip_dispatch_rule_id": STRING},
}

ONEOFS = {
    "SIPDispatchRule": ("dispatch_rule_direct", "dispatch_rule_individual", "dispatch_rule_callee"),
    "UpdateSIPDispatchRuleRequest": ("replace", "update"),
}

_DURATION = re.compile(r"^(-?)(\d+)(?:\.(\d{1,9}))?s$")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})$"
)


class _Object(dict):
    repeated = frozenset()


def _pairs(pairs):
    obj = _Object()
    seen = set()
    for key, value in pairs:
        if key in obj:
            seen.add(key)
        obj[key] = value
    if seen:
        obj.repeated = frozenset(seen)
    return obj


def _bad(path, kind, value):
    return malformed(f"{path}: invalid value for {kind} field: {json.dumps(value)}")


def _integer(path, kind, value, low, high):
    if isinstance(value, bool):
        raise _bad(path, kind, value)
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise _bad(path, kind, value) from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        raise _bad(path, kind, value)
    return value


def _scalar(path, kind, value):
    if kind == STRING:
        if not isinstance(value, str):
            raise _bad(path, "string", value)
        return value
    if kind == BOOL:
        if not isinstance(value, bool):
            raise _bad(path, "bool", value)
        return value
    if kind == UINT32:
        return _integer(path, "uint32", value, 0, 2**32 - 1)
    if kind == INT32:
        return _integer(path, "int32", value, -(2**31), 2**31 - 1)
    if kind == TIMESTAMP:
        if not isinstance(value, str) or not _TIMESTAMP.match(value):
            raise _bad(path, "google.protobuf.Timestamp", value)
        return value
    if kind == DURATION:
        if not isinstance(value, str) or not _DURATION.match(value):
            raise _bad(path, "google.protobuf.Duration", value)
        return value
    raise AssertionError(kind)


def duration_seconds(text):
    sign, whole, fraction = _DURATION.match(text).groups()
    seconds = int(whole) + int((fraction or "0").ljust(9, "0")) / 1e9
    return -seconds if sign else seconds


def _value(path, kind, value):
    if isinstance(kind, str):
        return _scalar(path, kind, value)
    form, inner = kind
    if form == "message":
        return decode_message(path, inner, value)
    if form == "optional":
        return _value(path, inner, value)
    if form == "enum":
        names = ENUMS[inner]
        if isinstance(value, str):
            if value not in names:
                raise _bad(path, "enum " + inner, value)
            return value
        number = _integer(path, "enum " + inner, value, -(2**31), 2**31 - 1)
        # protojson keeps enum numbers it does not know; writing them back needs a name, so refuse.
        if not 0 <= number < len(names):
            raise _bad(path, "enum " + inner, value)
        return names[number]
    if form == "repeated":
        if not isinstance(value, list):
            raise _bad(path, "repeated", value)
        if any(item is None for item in value):
            raise _bad(path, "repeated", value)
        return [_value("%s[%d]" % (path, i), inner, item) for i, item in enumerate(value)]
    if form == "map":
        if not isinstance(value, dict):
            raise _bad(path, "map", value)
        if getattr(value, "repeated", ()):
            raise malformed(f"{path}: duplicate map key")
        return {key: _scalar(f"{path}[{key}]", inner, item) for key, item in value.items()}
    if form == "opaque":
        if not isinstance(value, dict):
            raise _bad(path, "message", value)
        return json.loads(json.dumps(value))
    raise AssertionError(kind)


def decode_message(path, name, data):
    """The present fields of message ``name`` from a JSON object, under their proto names."""
    if not isinstance(data, dict):
        raise _bad(path or name, "message " + name, data)
    fields = MESSAGES[name]
    decoded = {}
    for field, kind in fields.items():
        present = [
            key
            for key in dict.fromkeys((field, camel(field)))
            if key in data and data[key] is not None
        ]
        if len(present) > 1 or any(key in getattr(data, "repeated", ()) for key in present):
            raise malformed(f"duplicate field {field}")
        if present:
            decoded[field] = _value(f"{path}.{field}" if path else field, kind, data[present[0]])
    set_in_oneof = [field for field in ONEOFS.get(name, ()) if field in decoded]
    if len(set_in_oneof) > 1:
        raise malformed(
            "oneof field %s is set more than once: %s" % (name, ", ".join(set_in_oneof))
        )
    return decoded


def decode_request(body, name):
    if not body or not body.strip():
        raise malformed("empty body")
    try:
        data = json.loads(body, object_pairs_hook=_pairs)
    except (ValueError, UnicodeDecodeError) as exc:
        raise malformed(str(exc)) from exc
    if not isinstance(data, dict):
        raise malformed("expected a JSON object")
    return decode_message("", name, data)


# ---------------------------------------------------------------- output


def _zero(kind):
    if isinstance(kind, str):
        return {STRING: "", BOOL: False, UINT32: 0, INT32: 0}.get(kind)
    form, inner = kind
    if form == "repeated":
        return []
    if form == "map":
        return {}
    if form == "enum":
        return ENUMS[inner][0]
    return None  # messages, optional fields, timestamps: unset


def encode_message(name, value, camel_names=False, skip_defaults=False):
    """A message as the server writes it: every field, or only the non-zero ones."""
    out = {}
    oneof = ONEOFS.get(name, ())
    for field, kind in MESSAGES[name].items():
        key = camel(field) if camel_names else field
        if field in value:
            item = _encode(kind, value[field], camel_names, skip_defaults)
            if skip_defaults and item == _zero(kind) and not _has_presence(kind, field, oneof):
                continue
            out[key] = item
        elif field in oneof or (not isinstance(kind, str) and kind[0] == "optional"):
            continue  # an unset oneof member or optional field is never written
        elif not skip_defaults:
            out[key] = _zero(kind)
    return out


def _has_presence(kind, field, oneof):
    return field in oneof or (not isinstance(kind, str) and kind[0] in ("optional", "message"))


def _encode(kind, value, camel_names, skip_defaults):
    if isinstance(kind, str):
        return value
    form, inner = kind
    if form == "message":
        return encode_message(inner, value, camel_names, skip_defaults)
    if form == "optional":
        return _encode(inner, value, camel_names, skip_defaults)
    if form == "repeated":
        return [_encode(inner, item, camel_names, skip_defaults) for item in value]
    if form in ("map", "opaque"):
        return json.loads(json.dumps(value))
    return value


def render(name, value, json_names="proto", skip_defaults=False):
    return json.dumps(
        encode_message(name, value, json_names == "camel", skip_defaults), separators=(",", ":")
    ).encode()


def render_list(items, json_names="proto", skip_defaults=False):
    """ListSIPDispatchRuleResponse; None items (rules asked for by id that do not exist) as {}."""
    encoded = [
        {}
        if item is None
        else encode_message("SIPDispatchRuleInfo", item, json_names == "camel", skip_defaults)
        for item in items
    ]
    return json.dumps({"items": encoded}, separators=(",", ":")).encode()
