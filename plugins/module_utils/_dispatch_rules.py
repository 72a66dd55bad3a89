# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIP dispatch rules: one normalised record per rule, name lookups and a pure planner.

Nothing here makes a request. ``normalize_rule`` reads a ``SIPDispatchRuleInfo`` as the server
wrote it (proto or lowerCamelCase names, defaults emitted or skipped); ``plan_rule`` compares what
the user asked for with the server's own record and says which RPC makes the difference, with the
request body to send and the record to expect.

Why two kinds of update: ``UpdateSIPDispatchRule`` with ``update`` changes only the trunks, the
rule itself, name, metadata, attributes and media, leaving everything else alone; with
``replace`` it stores exactly what it is sent. A change that ``update`` cannot express is
therefore sent as the server's own record, changes laid over it, so that fields this collection
does not model (room configuration details, codecs, fields added to the protocol later) survive.
"""

from __future__ import annotations

import copy
from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import (
    camel,
    field,
    timestamp,
)

RULE_TYPES = ("direct", "individual", "callee")
RULE_KEYS = {
    "direct": "dispatch_rule_direct",
    "individual": "dispatch_rule_individual",
    "callee": "dispatch_rule_callee",
}
ENCRYPTION_PREFIX = "SIP_MEDIA_ENCRYPT_"
ENCRYPTIONS = ("disable", "allow", "require")

# Options of the module and where the server keeps them. The first group is what the partial
# ``update`` action covers; changing anything of the second needs ``replace``.
RULE_FIELDS = ("type", "room_name", "room_prefix", "pin", "randomize_room")
UPDATE_FIELDS = RULE_FIELDS + ("trunk_ids", "name", "metadata", "attributes", "media_encryption")
REPLACE_FIELDS = (
    "numbers",
    "inbound_numbers",
    "hide_phone_number",
    "room_preset",
    "krisp_enabled",
    "agents",
)
DESIRED_FIELDS = UPDATE_FIELDS + REPLACE_FIELDS
# Lists whose order the server does not act on: compared as sets.
SET_FIELDS = ("trunk_ids", "numbers", "inbound_numbers")

Rule = Dict[str, Any]

# Managed by the server; not sent back in a replace.
_READ_ONLY = ("created_at", "updated_at")


class DuplicateRuleName(LiveKitError):
    """Several rules carry the name asked for; which one is meant cannot be told."""

    default_code = "duplicate_name"


class UnknownRuleName(LiveKitError):
    """No rule carries a name that was asked for."""

    default_code = "unknown_rule"


class RuleInUse(LiveKitError):
    """Phone numbers are still routed to a rule that was to be deleted."""

    default_code = "rule_in_use"

    def __init__(self, message, numbers=(), **kwargs):
        super().__init__(message, **kwargs)
        self.numbers = list(numbers)


def _get(raw, name, default=None):
    """A field under its proto name or lowerCamelCase name; None (JSON null) counts as unset."""
    value = field(raw, name)
    return default if value is None else value


def _text(value):
    return "" if value is None else str(value)


def _strings(value):
    if not value:
        return []
    if not isinstance(value, (list, tuple)):
        value = [value]
    return [str(v) for v in value if v is not None and v != ""]


def _bool(value):
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _string_map(value):
    if not isinstance(value, dict):
        return {}
    return {str(k): _text(v) for k, v in value.items() if v is not None and v != ""}


def encryption_name(value):
    """``SIP_MEDIA_ENCRYPT_ALLOW``, ``allow`` or ``1`` -> ``allow``; None when unset or unknown."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int) or str(value).strip().isdigit():
        index = int(value)
        return ENCRYPTIONS[index] if 0 <= index < len(ENCRYPTIONS) else None
    text = str(value).strip().upper()
    if text.startswith(ENCRYPTION_PREFIX):
        text = text[len(ENCRYPTION_PREFIX) :]
    text = text.lower()
    return text if text in ENCRYPTIONS else None


def encryption_to_api(short):
    return ENCRYPTION_PREFIX + short.upper()


def rule_type(raw_rule):
    """(type, body) of a ``SIPDispatchRule`` oneof; ("", {}) when none of the known kinds is set."""
    for kind in RULE_TYPES:
        body = _get(raw_rule, RULE_KEYS[kind])
        if isinstance(body, dict):
            return kind, body
    return "", {}


def _agents(raw_room_config):
    agents = []
    for agent in _get(raw_room_config, "agents", []) or []:
        if isinstance(agent, dict):
            agents.append(
                {
                    "agent_name": _text(_get(agent, "agent_name")),
                    "metadata": _text(_get(agent, "metadata")),
                }
            )
    return agents


def effective_encryption(raw):
    """The media encryption in force: ``media.encryption`` when set, else the legacy field."""
    media = _get(raw, "media")
    if isinstance(media, dict):
        named = encryption_name(_get(media, "encryption"))
        if named is not None:
            return named
    return encryption_name(_get(raw, "media_encryption")) or "disable"


def normalize_rule(raw: Any) -> Rule:
    """The normalised record of one ``SIPDispatchRuleInfo``; pins included (see ``public_rule``)."""
    if not isinstance(raw, dict):
        raw = {}
    kind, body = rule_type(_get(raw, "rule", {}))
    if kind == "individual":
        randomize = not _bool(_get(body, "no_randomness"))
    elif kind == "callee":
        randomize = _bool(_get(body, "randomize"))
    else:
        randomize = False
    return {
        "id": _text(_get(raw, "sip_dispatch_rule_id")),
        "name": _text(_get(raw, "name")),
        "type": kind,
        "room_name": _text(_get(body, "room_name")) if kind == "direct" else "",
        "room_prefix": _text(_get(body, "room_prefix")) if kind in ("individual", "callee") else "",
        "pin": _text(_get(body, "pin")),
        "randomize_room": randomize,
        "trunk_ids": _strings(_get(raw, "trunk_ids")),
        "numbers": _strings(_get(raw, "numbers")),
        "inbound_numbers": _strings(_get(raw, "inbound_numbers")),
        "hide_phone_number": _bool(_get(raw, "hide_phone_number")),
        "metadata": _text(_get(raw, "metadata")),
        "attributes": _string_map(_get(raw, "attributes")),
        "agents": _agents(_get(raw, "room_config", {})),
        "room_preset": _text(_get(raw, "room_preset")),
        "krisp_enabled": _bool(_get(raw, "krisp_enabled")),
        "media_encryption": effective_encryption(raw),
        "created_at": timestamp(_get(raw, "created_at")),
        "updated_at": timestamp(_get(raw, "updated_at")),
    }


def public_rule(rule: Optional[Rule]) -> Rule:
    """What modules return: the record with the pin replaced by whether one is set."""
    if not rule:
        return {}
    shown = {}
    for key, value in rule.items():
        if key == "pin":
            shown["pin_set"] = bool(value)
        else:
            shown[key] = copy.deepcopy(value)
    return shown


def rule_ids_by_name(rules: Iterable[Rule]) -> Dict[str, List[str]]:
    """name -> [ids] over a full listing; rules without a name are left out."""
    index = {}
    for rule in rules:
        if rule["name"]:
            index.setdefault(rule["name"], []).append(rule["id"])
    return index


def find_by_name(rules: Iterable[Rule], name: str) -> Optional[Rule]:
    """The one rule named ``name``, None when there is none; DuplicateRuleName when several."""
    found = [rule for rule in rules if rule["name"] == name]
    if len(found) > 1:
        raise DuplicateRuleName(
            "%d SIP dispatch rules are named %r (%s); rename or delete all but one, or give id"
            % (len(found), name, ", ".join(rule["id"] for rule in found))
        )
    return found[0] if found else None


def resolve_names(rules: Iterable[Rule], names: Iterable[str]) -> Dict[str, str]:
    """name -> id for every name asked for, from one full listing; nothing is written.

    Raises UnknownRuleName (saying which names exist) or DuplicateRuleName before the caller
    writes anything.
    """
    names = list(names)
    index = rule_ids_by_name(rules)
    unknown = sorted({name for name in names if name not in index})
    if unknown:
        existing = sorted(index)
        raise UnknownRuleName(
            "no SIP dispatch rule is named %s; the project's rules are named: %s"
            % (", ".join(repr(n) for n in unknown), ", ".join(existing) if existing else "(none)")
        )
    resolved = {}
    for name in names:
        ids = index[name]
        if len(ids) > 1:
            raise DuplicateRuleName(
                "%d SIP dispatch rules are named %r (%s)" % (len(ids), name, ", ".join(ids))
            )
        resolved[name] = ids[0]
    return resolved


def _clean_list(name, values):
    cleaned = []
    for value in values:
        text = _text(value).strip()
        if not text:
            raise ParameterError(f"{name} must not contain empty strings")
        if text not in cleaned:
            cleaned.append(text)
    return cleaned


def desired_from_params(params: Dict[str, Any]) -> Dict[str, Any]:
    """The user's wishes: every field of DESIRED_FIELDS, None where the option was not set.

    Raises ParameterError for values no rule can have. Lists lose duplicates; attributes with an
    empty value are refused, since the server reads an empty value as "delete this key".
    """
    desired = {name: params.get(name) for name in DESIRED_FIELDS}
    for name in SET_FIELDS:
        if desired[name] is not None:
            desired[name] = _clean_list(name, desired[name])
    if desired["name"] is not None and not desired["name"].strip():
        raise ParameterError("name must not be empty")
    attributes = desired["attributes"]
    if attributes is not None:
        cleaned = {}
        for key, value in attributes.items():
            if value is None or _text(value) == "":
                raise ParameterError(
                    f"attributes: {key!r} has an empty value; leave the key out to remove it"
                )
            cleaned[str(key)] = _text(value)
        desired["attributes"] = cleaned
    agents = desired["agents"]
    if agents is not None:
        cleaned = []
        for agent in agents:
            name = _text(agent.get("agent_name")).strip()
            if not name:
                raise ParameterError("agents: every agent needs an agent_name")
            if any(a["agent_name"] == name for a in cleaned):
                raise ParameterError(f"agents: {name!r} is listed twice")
            metadata = agent.get("metadata")
            cleaned.append(
                {"agent_name": name, "metadata": None if metadata is None else _text(metadata)}
            )
        desired["agents"] = cleaned
    if desired["media_encryption"] is not None and desired["media_encryption"] not in ENCRYPTIONS:
        raise ParameterError(
            "media_encryption must be one of %s, not %r"
            % (", ".join(ENCRYPTIONS), desired["media_encryption"])
        )
    return desired


def _check_rule_shape(desired, current):
    """The rule kind's own options must fit the kind the rule will have."""
    kind = desired["type"] or (current["type"] if current else None)
    if not kind:
        if current is None:
            raise ParameterError("type is required to create a SIP dispatch rule")
        if any(desired[name] is not None for name in RULE_FIELDS):
            raise ParameterError(
                "the rule %s has a kind this collection does not know; give type to change "
                "its room or PIN" % current["id"]
            )
        # A kind from a newer protocol: everything but the rule itself can still be managed.
        return ""
    if kind == "direct":
        if desired["room_prefix"] is not None:
            raise ParameterError("room_prefix applies to type individual and callee, not direct")
        if desired["randomize_room"] is not None:
            raise ParameterError("randomize_room applies to type individual and callee, not direct")
        room = desired["room_name"]
        if room is None and (current is None or current["type"] != "direct"):
            raise ParameterError("room_name is required for a rule of type direct")
        if room is not None and not room.strip():
            raise ParameterError("room_name must not be empty")
    elif desired["room_name"] is not None:
        raise ParameterError(f"room_name applies to type direct, not {kind}")
    return kind


def _wanted(desired, current, kind):
    """The full record the rule should have: current values where the user set nothing."""
    base = dict(current) if current else _blank(kind)
    want = dict(base)
    for name in DESIRED_FIELDS:
        if name in ("agents", "type") or desired[name] is None:
            continue
        want[name] = copy.deepcopy(desired[name])
    want["type"] = kind
    if current is not None and current["type"] != kind:
        # A new kind starts from its own defaults; only the pin carries over.
        blank = _blank(kind)
        for name in ("room_name", "room_prefix", "randomize_room"):
            if desired[name] is None:
                want[name] = blank[name]
    if kind == "direct":
        want["room_prefix"] = ""
        want["randomize_room"] = False
    else:
        want["room_name"] = ""
    if desired["agents"] is not None:
        have = {a["agent_name"]: a for a in (current["agents"] if current else [])}
        want["agents"] = [
            {
                "agent_name": a["agent_name"],
                "metadata": a["metadata"]
                if a["metadata"] is not None
                else have.get(a["agent_name"], {}).get("metadata", ""),
            }
            for a in desired["agents"]
        ]
    return want


def _blank(kind):
    return {
        "id": "",
        "name": "",
        "type": kind,
        "room_name": "",
        "room_prefix": "",
        "pin": "",
        # The server's defaults: individual rooms get a random suffix, callee rooms do not.
        "randomize_room": kind == "individual",
        "trunk_ids": [],
        "numbers": [],
        "inbound_numbers": [],
        "hide_phone_number": False,
        "metadata": "",
        "attributes": {},
        "agents": [],
        "room_preset": "",
        "krisp_enabled": False,
        "media_encryption": "disable",
        "created_at": None,
        "updated_at": None,
    }


def _same(name, left, right):
    if name in SET_FIELDS:
        return sorted(left) == sorted(right)
    return left == right


def changed_fields(want: Rule, current: Rule) -> List[str]:
    """Fields of DESIRED_FIELDS whose wanted value differs from the current one, in order."""
    return [name for name in DESIRED_FIELDS if not _same(name, want[name], current[name])]


def _without(raw, name):
    """A shallow copy of ``raw`` without ``name`` under either JSON name."""
    copied = dict(raw or {})
    copied.pop(name, None)
    copied.pop(camel(name), None)
    return copied


def _rule_body(want, raw_rule):
    """The ``SIPDispatchRule`` oneof for ``want``, keeping unknown fields of the same kind."""
    kind = want["type"]
    current_kind, current_body = rule_type(raw_rule or {})
    body = dict(current_body) if current_kind == kind else {}
    for name in ("room_name", "room_prefix", "pin", "no_randomness", "randomize"):
        body = _without(body, name)
    if kind == "direct":
        body["room_name"] = want["room_name"]
    else:
        body["room_prefix"] = want["room_prefix"]
    body["pin"] = want["pin"]
    if kind == "individual":
        body["no_randomness"] = not want["randomize_room"]
    elif kind == "callee":
        body["randomize"] = want["randomize_room"]
    return {RULE_KEYS[kind]: body}


def _media_body(want, raw_media):
    media = _without(raw_media if isinstance(raw_media, dict) else {}, "encryption")
    media["encryption"] = encryption_to_api(want["media_encryption"])
    return media


def _agents_body(want, raw_room_config):
    """room_config with the wanted agents; other fields of an agent kept by agent_name."""
    room_config = raw_room_config if isinstance(raw_room_config, dict) else {}
    have = {}
    for agent in _get(room_config, "agents", []) or []:
        if isinstance(agent, dict):
            have.setdefault(_text(_get(agent, "agent_name")), agent)
    agents = []
    for agent in want["agents"]:
        body = _without(_without(have.get(agent["agent_name"], {}), "agent_name"), "metadata")
        body["agent_name"] = agent["agent_name"]
        body["metadata"] = agent["metadata"]
        agents.append(body)
    config = _without(room_config, "agents")
    config["agents"] = agents
    return config


def create_body(want: Rule) -> Dict[str, Any]:
    """``CreateSIPDispatchRuleRequest`` in its current form for the record ``want``."""
    info = {"rule": _rule_body(want, None)}
    for name in ("trunk_ids", "numbers", "inbound_numbers"):
        if want[name]:
            info[name] = list(want[name])
    for name in ("name", "metadata", "room_preset"):
        if want[name]:
            info[name] = want[name]
    for name in ("hide_phone_number", "krisp_enabled"):
        if want[name]:
            info[name] = True
    if want["attributes"]:
        info["attributes"] = dict(want["attributes"])
    if want["agents"]:
        info["room_config"] = _agents_body(want, None)
    if want["media_encryption"] != "disable":
        info["media"] = {"encryption": encryption_to_api(want["media_encryption"])}
    return {"dispatch_rule": info}


def update_body(rule_id, want, current, raw, changes):
    """``UpdateSIPDispatchRuleRequest`` with the partial ``update`` action for ``changes``."""
    update = {}
    if any(name in RULE_FIELDS for name in changes):
        update["rule"] = _rule_body(want, _get(raw, "rule"))
    if "trunk_ids" in changes:
        update["trunk_ids"] = (
            {"set": list(want["trunk_ids"])} if want["trunk_ids"] else {"clear": True}
        )
    for name in ("name", "metadata"):
        if name in changes:
            update[name] = want[name]
    if "attributes" in changes:
        diff = {}
        for key, value in want["attributes"].items():
            if current["attributes"].get(key) != value:
                diff[key] = value
        for key in current["attributes"]:
            if key not in want["attributes"]:
                diff[key] = ""  # an empty value deletes the key
        update["attributes"] = diff
    if "media_encryption" in changes:
        # media is replaced as a whole by an update: send the server's, encryption laid over.
        update["media"] = _media_body(want, _get(raw, "media"))
    return {"sip_dispatch_rule_id": rule_id, "update": update}


def replace_body(rule_id, want, raw, changes):
    """``UpdateSIPDispatchRuleRequest`` with ``replace``: the server's record, changes laid over."""
    info = dict(raw or {})
    for name in _READ_ONLY + ("sip_dispatch_rule_id",):
        info = _without(info, name)
    info["sip_dispatch_rule_id"] = rule_id
    if any(name in RULE_FIELDS for name in changes):
        info = _without(info, "rule")
        info["rule"] = _rule_body(want, _get(raw, "rule"))
    for name in ("trunk_ids", "numbers", "inbound_numbers"):
        if name in changes:
            info = _without(info, name)
            info[name] = list(want[name])
    for name in ("name", "metadata", "room_preset", "hide_phone_number", "krisp_enabled"):
        if name in changes:
            info = _without(info, name)
            info[name] = want[name]
    if "attributes" in changes:
        info = _without(info, "attributes")
        info["attributes"] = dict(want["attributes"])
    if "agents" in changes:
        room_config = _get(raw, "room_config")
        info = _without(info, "room_config")
        info["room_config"] = _agents_body(want, room_config)
    if "media_encryption" in changes:
        media = _get(raw, "media")
        info = _without(_without(info, "media"), "media_encryption")
        info["media"] = _media_body(want, media)
        # A replace stores what it is sent: keep the deprecated copy in step.
        info["media_encryption"] = encryption_to_api(want["media_encryption"])
    return {"sip_dispatch_rule_id": rule_id, "replace": info}


class RulePlan:
    """What one rule needs: ``action`` is create, update, replace, delete or none."""

    def __init__(self, action, before, after, changes=(), method=None, body=None):
        self.action = action
        self.before = before
        self.after = after
        self.changes = list(changes)
        self.method = method
        self.body = body

    @property
    def changed(self):
        return self.action != "none"


def plan_rule(
    desired: Dict[str, Any],
    current: Optional[Rule],
    raw: Optional[Dict[str, Any]] = None,
    state: str = "present",
) -> RulePlan:
    """Plan one rule.

    ``desired``: from ``desired_from_params`` (None where unset); ``current``: the normalised
    record or None when there is no rule; ``raw``: the server's own JSON of ``current``.
    """
    if state == "absent":
        if current is None:
            return RulePlan("none", None, None)
        return RulePlan(
            "delete",
            current,
            None,
            method="DeleteSIPDispatchRule",
            body={"sip_dispatch_rule_id": current["id"]},
        )
    kind = _check_rule_shape(desired, current)
    want = _wanted(desired, current, kind)
    if current is None:
        return RulePlan(
            "create",
            None,
            want,
            changes=[n for n in DESIRED_FIELDS if desired[n] is not None],
            method="CreateSIPDispatchRule",
            body=create_body(want),
        )
    changes = changed_fields(want, current)
    if not changes:
        return RulePlan("none", current, current)
    if any(name in REPLACE_FIELDS for name in changes):
        action, body = "replace", replace_body(current["id"], want, raw, changes)
    else:
        action, body = "update", update_body(current["id"], want, current, raw, changes)
    return RulePlan(action, current, want, changes, "UpdateSIPDispatchRule", body)


def disagreement(plan: RulePlan, record: Optional[Rule]) -> List[str]:
    """Fields where the server's answer to a write differs from what was planned (empty: none)."""
    if plan.after is None or record is None:
        return []
    return [name for name in plan.changes if not _same(name, plan.after[name], record[name])]


def rule_diff(plan: RulePlan) -> Dict[str, Rule]:
    """``diff`` for diff mode: before and after, pins hidden but their change visible."""
    before = public_rule(plan.before)
    after = public_rule(plan.after)
    if plan.before and plan.after and plan.before["pin"] != plan.after["pin"]:
        before["pin"] = "(old pin, hidden)"
        after["pin"] = "(new pin, hidden)"
    return {"before": before, "after": after}
