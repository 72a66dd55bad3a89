"""The dispatch rules of the project and livekit.SIP's four dispatch-rule RPCs.

Callers hold the store's lock. Validation follows the public protocol library: a rule is
required, an id must not be sent on create, list updates must be well formed, codecs named and
media timeouts within ten minutes; and no two rules may take the same calls, which is the case
when they share a trunk, a called number, a calling number and the PIN (an empty list stands
for one value of its own, "any", that only meets another empty list).
"""

from __future__ import annotations

import copy
import hashlib
import re

from . import wire
from .config import SIP_METHODS
from .sip_wire import duration_seconds
from .wire import TwirpError, invalid

REQUESTS = {method: method + "Request" for method in SIP_METHODS}

RULE_KINDS = ("dispatch_rule_direct", "dispatch_rule_individual", "dispatch_rule_callee")
MAX_MEDIA_TIMEOUT = 600.0
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_PHONE = re.compile(r"^\+?[\d\- ()]+$")
# The fields of the deprecated top-level form of CreateSIPDispatchRuleRequest.
LEGACY_FIELDS = (
    "rule",
    "trunk_ids",
    "hide_phone_number",
    "inbound_numbers",
    "name",
    "metadata",
    "attributes",
    "room_preset",
    "room_config",
)


def normalize_number(number):
    """Numbers compare without formatting, with a leading +; anything else compares as given."""
    if not number or not _PHONE.match(number):
        return number
    compact = re.sub(r"[ \-()]", "", number)
    return compact if compact.startswith("+") else "+" + compact


def _rule_kind(info):
    rule = info.get("rule")
    if rule is None:
        raise invalid("missing rule")
    for kind in RULE_KINDS:
        if kind in rule:
            return kind, rule[kind]
    raise invalid(
        "the rule sets none of dispatch_rule_direct, dispatch_rule_individual, dispatch_rule_callee"
    )


def _pin(info):
    return _rule_kind(info)[1].get("pin", "")


def _check_media(media):
    if media is None:
        return
    for codec in media.get("codecs", []):
        name = codec.get("name", "")
        if not name:
            raise invalid("a codec has no name")
        if any(c in name for c in " \t\r\n") or "/" in name:
            raise invalid(f"codec name {name!r} is not valid")
    timeout = media.get("media_timeout")
    if timeout is not None:
        seconds = duration_seconds(timeout)
        if seconds < 0 or seconds > MAX_MEDIA_TIMEOUT:
            raise invalid(f"media_timeout must be between 0 and 10 minutes, got {timeout}")


def validate_info(info):
    _rule_kind(info)
    _check_media(info.get("media"))


def _check_list_update(name, update):
    if update is None:
        return
    changes = any(update.get(part) for part in ("set", "add", "remove"))
    clear = update.get("clear", False)
    if not clear and not changes:
        raise invalid(f"{name}: the list update sets, adds, removes or clears nothing")
    if clear and changes:
        raise invalid(f"{name}: a list update cannot clear and change the list at once")
    if update.get("set") and (update.get("add") or update.get("remove")):
        raise invalid(f"{name}: a list update cannot set the list and add or remove at once")
    for part in ("set", "add", "remove"):
        if any(item == "" for item in update.get(part, [])):
            raise invalid(f"{name}: empty element in the list update")


def apply_list_update(values, update):
    if update is None:
        return values
    if update.get("clear"):
        return []
    if update.get("set"):
        return list(update["set"])
    result = list(values)
    for item in update.get("remove", []):
        if item in result:
            result.remove(item)
    for item in update.get("add", []):
        if item not in result:
            result.append(item)
    return result


def _upgrade_media(info):
    """Keep ``media.encryption`` and the deprecated ``media_encryption`` in step, as updates do."""
    media = info.get("media") or {}
    legacy = info.get("media_encryption", "SIP_MEDIA_ENCRYPT_DISABLE")
    if "encryption" not in media and legacy != "SIP_MEDIA_ENCRYPT_DISABLE":
        media["encryption"] = legacy
    info["media"] = media
    info["media_encryption"] = media.get("encryption", "SIP_MEDIA_ENCRYPT_DISABLE")


def apply_update(current, update):
    """The partial update: trunks, rule, name, metadata, attributes (a diff) and media only."""
    _check_list_update("trunk_ids", update.get("trunk_ids"))
    _check_media(update.get("media"))
    info = copy.deepcopy(current)
    trunks = apply_list_update(info.get("trunk_ids", []), update.get("trunk_ids"))
    if trunks:
        info["trunk_ids"] = trunks
    else:
        info.pop("trunk_ids", None)
    if "rule" in update:
        info["rule"] = copy.deepcopy(update["rule"])
    for name in ("name", "metadata"):
        if name in update:
            info[name] = update[name]
    attributes = dict(info.get("attributes", {}))
    for key, value in update.get("attributes", {}).items():
        if value:
            attributes[key] = value
        else:
            attributes.pop(key, None)
    info["attributes"] = attributes
    if "media" in update:
        info["media"] = copy.deepcopy(update["media"])
    if "media_encryption" in update:
        info["media_encryption"] = update["media_encryption"]
    _upgrade_media(info)
    validate_info(info)
    return info


def conflict_keys(info):
    trunks = info.get("trunk_ids") or [""]
    inbound = info.get("inbound_numbers") or [""]
    numbers = info.get("numbers") or [""]
    pin = _pin(info)
    return {
        (pin, trunk, normalize_number(calling), normalize_number(called))
        for trunk in trunks
        for calling in inbound
        for called in numbers
    }


def _describe_key(key):
    pin, trunk, calling, called = key
    return "trunk %s, calls to %s, calls from %s, %s" % (
        trunk or "(any)",
        called or "(any)",
        calling or "(any)",
        "with a PIN" if pin else "without a PIN",
    )


class RuleBook:
    def __init__(self, seed=0):
        self.seed = seed
        self.rules = {}
        self.sequence = 0

    def _mint_id(self):
        while True:
            self.sequence += 1
            value = int.from_bytes(
                hashlib.sha256(("sdr/%s/%d" % (self.seed, self.sequence)).encode()).digest()[:12],
                "big",
            )
            chars = []
            for _index in range(12):
                value, digit = divmod(value, len(_ID_ALPHABET))
                chars.append(_ID_ALPHABET[digit])
            candidate = "SDR_" + "".join(chars)
            if candidate not in self.rules:
                return candidate

    def _check_conflicts(self, info, own_id=""):
        keys = conflict_keys(info)
        for other_id in sorted(self.rules):
            if other_id == own_id:
                continue
            other = self.rules[other_id]
            shared = keys & conflict_keys(other)
            if shared:
                raise invalid(
                    "the dispatch rule would take the same calls as the dispatch rule %s (%s): %s"
                    % (other_id, other.get("name") or "no name", _describe_key(sorted(shared)[0])),
                    conflicting_rule=other_id,
                )

    def _find(self, rule_id):
        if not rule_id:
            raise invalid("sip_dispatch_rule_id is required")
        info = self.rules.get(rule_id)
        if info is None:
            raise TwirpError(
                "not_found", f"dispatch rule {rule_id} not found", {"sip_dispatch_rule_id": rule_id}
            )
        return info

    # ------------------------------------------------------------ RPCs (request in, message out)

    def create(self, request, now):
        if "dispatch_rule" in request:
            info = copy.deepcopy(request["dispatch_rule"])
            if info.get("sip_dispatch_rule_id"):
                raise invalid("the rule id must not be set on create")
        else:
            info = {name: copy.deepcopy(request[name]) for name in LEGACY_FIELDS if name in request}
        validate_info(info)
        self._check_conflicts(info)
        info["sip_dispatch_rule_id"] = self._mint_id()
        info["created_at"] = info["updated_at"] = wire.format_timestamp(now)
        self.rules[info["sip_dispatch_rule_id"]] = info
        return copy.deepcopy(info)

    def update(self, request, now):
        rule_id = request.get("sip_dispatch_rule_id", "")
        if not rule_id:
            raise invalid("the rule id must be set")
        if "replace" in request:
            replacement = request["replace"]
            if replacement.get("sip_dispatch_rule_id", rule_id) != rule_id:
                raise invalid("the rule id in replace must be empty or the id of the rule updated")
            validate_info(replacement)
            current = self._find(rule_id)
            # A replace keeps nothing of the old rule but its id and creation time.
            info = copy.deepcopy(replacement)
        elif "update" in request:
            current = self._find(rule_id)
            info = apply_update(current, request["update"])
        else:
            raise invalid("missing or unsupported update action: send replace or update")
        self._check_conflicts(info, rule_id)
        info["sip_dispatch_rule_id"] = rule_id
        info["created_at"] = current.get("created_at")
        info["updated_at"] = wire.format_timestamp(now)
        self.rules[rule_id] = info
        return copy.deepcopy(info)

    def list(self, request, page_cap):
        """(items, capped): items in id order, or in the order of dispatch_rule_ids (None: missing)."""
        ids = request.get("dispatch_rule_ids") or []
        trunks = set(request.get("trunk_ids") or [])

        def wanted(info):
            own = info.get("trunk_ids") or []
            return not trunks or not own or bool(trunks & set(own))

        if ids:
            items = [self.rules.get(rule_id) for rule_id in ids]
            return [copy.deepcopy(i) if i is not None and wanted(i) else None for i in items]
        ordered = [self.rules[rule_id] for rule_id in sorted(self.rules)]
        ordered = [info for info in ordered if wanted(info)]
        page = request.get("page")
        if page is None:
            # Without a page the listing is complete, as for clients older than paging.
            return copy.deepcopy(ordered)
        limit = page.get("limit", 0)
        if limit < 0:
            raise invalid(f"page.limit must not be negative, got {limit}")
        limit = min(limit or page_cap, page_cap)
        after = page.get("after_id", "")
        newer = [info for info in ordered if info["sip_dispatch_rule_id"] > after]
        return copy.deepcopy(newer[:limit])

    def delete(self, request):
        rule_id = request.get("sip_dispatch_rule_id", "")
        info = self._find(rule_id)
        del self.rules[rule_id]
        return info

    # ------------------------------------------------------------ state files

    def dump(self):
        return [copy.deepcopy(self.rules[rule_id]) for rule_id in sorted(self.rules)]

    def load(self, rules, decode):
        """Replace every rule from a state file's list (each checked as a create would be)."""
        loaded = {}
        for index, entry in enumerate(rules):
            info = decode(entry, index)
            rule_id = info.get("sip_dispatch_rule_id", "")
            if not rule_id:
                raise ValueError(f"sip_dispatch_rules[{index}] has no sip_dispatch_rule_id")
            if rule_id in loaded:
                raise ValueError(f"dispatch rule {rule_id} appears twice")
            loaded[rule_id] = info
        book = RuleBook(self.seed)
        for rule_id in sorted(loaded):
            try:
                validate_info(loaded[rule_id])
                book._check_conflicts(loaded[rule_id])
            except TwirpError as err:
                raise ValueError(f"dispatch rule {rule_id}: {err.msg}") from None
            book.rules[rule_id] = loaded[rule_id]
        self.rules = book.rules
