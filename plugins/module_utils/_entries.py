# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The entries of a fleet, as the user writes them -> validated NumberEntry and PoolEntry. Pure.

An entry names one number (``phone_number``, optional ``sip_dispatch_rule_id``, ``name`` and
``state``) or a pool (``country_code``, optional ``area_code``, ``count``, optional
``sip_dispatch_rule_id`` and the search filters of ``_filters.SearchFilter``). Every problem is found before the first request and reported at
once, each naming its entry as ``entries[i]`` (from 0).

Either kind may name its dispatch rule by name instead (``sip_dispatch_rule``); its ``rule``
is then a ``RuleName``, which ``with_rule_ids`` replaces with the id once the rules were read.
"""

from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.livekit.sip.plugins.module_utils._e164 import (
    MESSAGE_PROBLEMS,
    bounded,
    normalize_e164,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._filters import SearchFilter

# index: position in the user's list; number: canonical E.164; rule: dispatch rule or None
# (leave routing alone); state: present or absent; name: the label, or None (leave it alone).
NumberEntry = namedtuple("NumberEntry", ["index", "number", "rule", "state", "name"])
NumberEntry.__new__.__defaults__ = (None,)
# count: how many numbers the pool holds at least; area_code "" for a country-wide pool;
# filter: a SearchFilter that held and offered numbers must pass (inactive: no filter).
PoolEntry = namedtuple(
    "PoolEntry", ["index", "country_code", "area_code", "count", "rule", "filter"]
)
PoolEntry.__new__.__defaults__ = (SearchFilter(),)

FILTER_KEYS = ("number_type", "locality", "region", "capabilities", "contains", "max_spam_score")
NUMBER_KEYS = ("phone_number", "sip_dispatch_rule_id", "sip_dispatch_rule", "name", "state")
POOL_KEYS = (
    "country_code",
    "area_code",
    "count",
    "sip_dispatch_rule_id",
    "sip_dispatch_rule",
) + FILTER_KEYS
POOL_ONLY_KEYS = ("country_code", "area_code", "count") + FILTER_KEYS


class RuleName:
    """An entry's dispatch rule given by name; never equal to an id (a plain string)."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __eq__(self, other):
        return isinstance(other, RuleName) and other.name == self.name

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((RuleName, self.name))

    def __repr__(self):
        return f"RuleName({self.name!r})"

    def __str__(self):
        return f"{self.name!r} (by name)"


def rule_names(numbers, pools):
    """The rule names the entries use, in first-seen order."""
    names = []
    for entry in list(numbers) + list(pools):
        if isinstance(entry.rule, RuleName) and entry.rule.name not in names:
            names.append(entry.rule.name)
    return names


def with_rule_ids(entries, ids):
    """``entries`` with every RuleName replaced by its id from ``ids`` (name -> id)."""
    return [
        entry._replace(rule=ids[entry.rule.name]) if isinstance(entry.rule, RuleName) else entry
        for entry in entries
    ]


def _text(value, where, name, errors):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        errors.append(f"{where}: {name} must be a string, not {value!r}")
        return None
    return value.strip()


def _rule(entry, where, errors):
    # A key set to null counts as not given, as everywhere in an entry.
    if entry.get("sip_dispatch_rule") is not None and entry.get("sip_dispatch_rule_id") is not None:
        errors.append(
            f"{where}: give the dispatch rule by sip_dispatch_rule (its name) or by "
            "sip_dispatch_rule_id, not both"
        )
        return None
    key = (
        "sip_dispatch_rule"
        if entry.get("sip_dispatch_rule") is not None
        else "sip_dispatch_rule_id"
    )
    rule = _text(entry.get(key), where, key, errors)
    if rule == "":
        # The API can set a rule but has no way to clear one.
        errors.append(f"{where}: {key} must not be empty; omit it to leave routing alone")
    if rule and key == "sip_dispatch_rule":
        return RuleName(rule)
    return rule or None


def _number_entry(index, entry, where, errors):
    number = entry.get("phone_number")
    if not isinstance(number, str):
        errors.append(
            f"{where}: phone_number must be a quoted string starting with '+', not {number!r}"
        )
        return None
    try:
        number = normalize_e164(number)
    except LiveKitError as exc:
        errors.append(f"{where}: {exc}")
        return None
    state = entry.get("state")
    state = "present" if state is None else state
    if state not in ("present", "absent"):
        errors.append(f"{where}: state must be present or absent, not {state!r}")
        return None
    rule = _rule(entry, where, errors)
    name = entry.get("name")
    if name is not None and (isinstance(name, bool) or not isinstance(name, str)):
        errors.append(f"{where}: name must be a string (the number's label), not {name!r}")
        return None
    if name is not None and state == "absent":
        errors.append(f"{where}: name labels a number the project keeps; this one is released")
        return None
    return NumberEntry(index, number, rule, state, name)


def _count(value, where, errors):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors.append(f"{where}: count must be a whole number, 0 or more, not {value!r}")
        return None
    return value


def _pool_entry(index, entry, where, errors):
    country = _text(entry.get("country_code"), where, "country_code", errors)
    if country is not None and not re.match(r"^[A-Za-z]{2}$", country):
        errors.append(
            "{}: country_code must be an ISO 3166-1 alpha-2 code such as US, not {!r}".format(
                where, entry.get("country_code")
            )
        )
        return None
    area = entry.get("area_code")
    if isinstance(area, int) and not isinstance(area, bool):
        area = str(area)  # YAML reads an unquoted 415 as a number
    area = _text(area, where, "area_code", errors)
    if area and not area.isdigit():
        errors.append(f"{where}: area_code must contain digits only, not {area!r}")
        return None
    if "count" not in entry:
        errors.append(f"{where}: a pool needs count (how many numbers to hold)")
        return None
    count = _count(entry.get("count"), where, errors)
    rule = _rule(entry, where, errors)
    wanted = _filter(entry, where, errors)
    if country is None or count is None or wanted is None:
        return None
    return PoolEntry(index, country.upper(), area or "", count, rule, wanted)


def _filter(entry, where, errors):
    capabilities = entry.get("capabilities")
    if isinstance(capabilities, str):
        capabilities = [capabilities]
    if capabilities is not None and not isinstance(capabilities, list):
        errors.append(f"{where}: capabilities must be a list, not {capabilities!r}")
        return None
    options = {key: entry.get(key) for key in FILTER_KEYS}
    options["capabilities"] = capabilities
    for key in ("number_type", "locality", "region", "contains"):
        value = options[key]
        if isinstance(value, int) and not isinstance(value, bool) and key == "contains":
            options[key] = str(value)  # YAML reads an unquoted 555 as a number
        elif value is not None and not isinstance(value, str):
            errors.append(f"{where}: {key} must be a string, not {value!r}")
            return None
    try:
        return SearchFilter(**options)
    except LiveKitError as exc:
        errors.append(f"{where}: {exc}")
        return None


def _parse_one(index, entry, errors):
    where = "entries[%d]" % index
    if not isinstance(entry, dict):
        errors.append(
            f"{where} must be a mapping with phone_number (one number) or country_code and count "
            f"(a pool), not {entry!r}"
        )
        return None
    pool_keys = [key for key in POOL_ONLY_KEYS if key in entry]
    if "phone_number" in entry and pool_keys:
        errors.append(
            "{} mixes a number (phone_number) with pool keys ({}), write them as two entries".format(
                where, ", ".join(pool_keys)
            )
        )
        return None
    allowed = NUMBER_KEYS if "phone_number" in entry else POOL_KEYS
    unknown = sorted(str(key) for key in entry if key not in allowed)
    if unknown:
        kind = "a number entry" if "phone_number" in entry else "a pool entry"
        errors.append(
            "{}: unknown key{} {} ({} takes {})".format(
                where, "s" if len(unknown) > 1 else "", ", ".join(unknown), kind, ", ".join(allowed)
            )
        )
        return None
    if "phone_number" in entry:
        return _number_entry(index, entry, where, errors)
    if "country_code" not in entry:
        errors.append(f"{where} needs phone_number (one number) or country_code and count (a pool)")
        return None
    return _pool_entry(index, entry, where, errors)


def _merge_duplicates(numbers, errors):
    """One entry per number; entries naming a number twice must agree."""
    merged = {}
    order = []
    for entry in numbers:
        first = merged.get(entry.number)
        if first is None:
            merged[entry.number] = entry
            order.append(entry.number)
            continue
        clash = (
            first.state != entry.state
            or (first.rule and entry.rule and first.rule != entry.rule)
            or (first.name is not None and entry.name is not None and first.name != entry.name)
        )
        if clash:
            names = ""
            if first.name != entry.name:
                names = ", name %r/%r" % (first.name, entry.name)
            errors.append(
                "entries[%d] and entries[%d] both name %s but disagree (state %s/%s, rule %s/%s%s)"
                % (
                    first.index,
                    entry.index,
                    entry.number,
                    first.state,
                    entry.state,
                    first.rule or "-",
                    entry.rule or "-",
                    names,
                )
            )
        else:
            if entry.rule and not first.rule:
                first = first._replace(rule=entry.rule)
            if entry.name is not None and first.name is None:
                first = first._replace(name=entry.name)
            merged[entry.number] = first
    return [merged[number] for number in order]


def parse_entries(entries):
    """Validate raw entries; returns (number entries, pool entries) or raises ParameterError.

    Every problem is reported at once, each naming its entry as ``entries[i]`` (from 0).
    """
    if not isinstance(entries, list):
        raise ParameterError(f"entries must be a list, not {entries!r}")
    errors = []
    numbers = []
    pools = []
    for index, entry in enumerate(entries):
        parsed = _parse_one(index, entry, errors)
        if isinstance(parsed, NumberEntry):
            numbers.append(parsed)
        elif isinstance(parsed, PoolEntry):
            pools.append(parsed)
    numbers = _merge_duplicates(numbers, errors)
    if errors:
        # Each problem names its entry; a thousand broken entries must not make a message of
        # a hundred thousand characters: the first few are shown and the rest counted.
        head = (
            ""
            if len(errors) <= MESSAGE_PROBLEMS
            else "%d problems in %d entries: "
            % (
                len(errors),
                len(entries),
            )
        )
        raise ParameterError(head + bounded(errors, MESSAGE_PROBLEMS))
    return numbers, pools
