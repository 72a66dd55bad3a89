# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A whole fleet of numbers (explicit numbers and pools) vs. the project's records. Pure.

Semantics (the contract ``phone_number_fleet`` and the ``phone_numbers`` role document):

* An explicit entry names one number: ``present`` (bought when not held, routed when it names
  a rule) or ``absent`` (released when held).
* A pool asks for at least ``count`` numbers of a country (and area code). Held numbers that
  match count first, except numbers an explicit entry names; a matching number routed to
  another rule still counts and is routed to the pool's rule when the pool names one. Only the
  shortfall is bought, from search results.
* Pools with an area code choose before country-wide pools, so that a broad pool does not use
  up the numbers a narrow one needs; within that order, entries keep their order.
* A pool accounts for ``count`` numbers, not more: further matching numbers are unlisted.
* Held numbers that no entry accounts for are ``unlisted``; they are released only on request.
* Everything that can be checked before writing is: the spend guard (before any search) and
  whether the searches offered enough numbers for every pool (before any purchase).
"""

from __future__ import annotations

import re
from collections import namedtuple

from ansible_collections.livekit.sip.plugins.module_utils._e164 import normalize_e164
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._planning import (
    Plan,
    PlanError,
    PurchaseLimitExceeded,
    Route,
    held_index,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import is_held

NumberEntry = namedtuple("NumberEntry", ["index", "number", "rule", "state"])
PoolEntry = namedtuple("PoolEntry", ["index", "country_code", "area_code", "count", "rule"])

NUMBER_KEYS = ("phone_number", "sip_dispatch_rule_id", "state")
POOL_KEYS = ("country_code", "area_code", "count", "sip_dispatch_rule_id")
POOL_ONLY_KEYS = ("country_code", "area_code", "count")

# Extra search results asked for beyond a pool's shortfall: replacements for candidates that
# someone else buys between the search and the purchase.
SEARCH_SPARE = 5

# Servers have been seen answering alpha-3 codes; these are the countries a pool is likely to
# ask for. An alpha-3 code missing here simply does not match a pool.
ALPHA3 = {
    "USA": "US",
    "CAN": "CA",
    "GBR": "GB",
    "AUS": "AU",
    "NZL": "NZ",
    "IRL": "IE",
    "DEU": "DE",
    "FRA": "FR",
    "NLD": "NL",
    "BEL": "BE",
    "ESP": "ES",
    "ITA": "IT",
    "PRT": "PT",
    "CHE": "CH",
    "AUT": "AT",
    "SWE": "SE",
    "NOR": "NO",
    "DNK": "DK",
    "FIN": "FI",
    "POL": "PL",
    "CZE": "CZ",
    "ISR": "IL",
    "IND": "IN",
    "JPN": "JP",
    "SGP": "SG",
    "HKG": "HK",
    "BRA": "BR",
    "MEX": "MX",
    "ZAF": "ZA",
    "PRI": "PR",
}

# Twirp codes with which a purchase refuses numbers that are no longer for sale.
NOT_AVAILABLE_CODES = ("failed_precondition", "not_found", "already_exists", "aborted")
_E164_IN_TEXT = re.compile(r"\+[0-9]{8,15}")


class PoolShortfall(PlanError):
    """A pool cannot be filled from what the service offers; nothing is bought for it."""

    default_code = "pool_shortfall"


class NumberUnavailable(PlanError):
    """A number an entry names explicitly is not for sale; it has no replacement."""

    default_code = "number_unavailable"


# ------------------------------------------------------------------------------ entries


def _text(value, where, name, errors):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str):
        errors.append(f"{where}: {name} must be a string, not {value!r}")
        return None
    return value.strip()


def _rule(entry, where, errors):
    rule = _text(entry.get("sip_dispatch_rule_id"), where, "sip_dispatch_rule_id", errors)
    if rule == "":
        # The API can set a rule but has no way to clear one.
        errors.append(
            f"{where}: sip_dispatch_rule_id must not be empty; omit it to leave routing alone"
        )
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
    return NumberEntry(index, number, rule, state)


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
    if country is None or count is None:
        return None
    return PoolEntry(index, country.upper(), area or "", count, rule)


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
        clash = first.state != entry.state or (
            first.rule and entry.rule and first.rule != entry.rule
        )
        if clash:
            errors.append(
                "entries[%d] and entries[%d] both name %s but disagree (state %s/%s, rule %s/%s)"
                % (
                    first.index,
                    entry.index,
                    entry.number,
                    first.state,
                    entry.state,
                    first.rule or "-",
                    entry.rule or "-",
                )
            )
        elif entry.rule and not first.rule:
            merged[entry.number] = first._replace(rule=entry.rule)
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
        raise ParameterError("; ".join(errors))
    return numbers, pools


# ------------------------------------------------------------------------------ pools


def country(code):
    code = (code or "").upper()
    return ALPHA3.get(code, code)


def matches(pool, record):
    """True when a record (held or offered) is in the pool's country and area."""
    if country(record["country_code"]) != pool.country_code:
        return False
    return not pool.area_code or record["area_code"] == pool.area_code


def describe(pool):
    where = pool.country_code + (f" area code {pool.area_code}" if pool.area_code else "")
    return "pool entries[%d] (%s)" % (pool.index, where)


class PoolPlan:
    """How one pool is filled: numbers already held, numbers to buy, spare candidates."""

    def __init__(self, entry):
        self.entry = entry
        self.claimed = []  # held numbers the pool accounts for (E.164)
        self.buy = []  # candidates to buy (E.164)
        self.spares = []  # further candidates, best first, to replace ones taken meanwhile
        self.offered = 0  # usable candidates the search offered
        self.lost = []  # candidates bought by someone else before this run could

    @property
    def shortfall(self):
        return max(0, self.entry.count - len(self.claimed))

    def result(self, bought=None):
        purchased = list(self.buy if bought is None else bought)
        return {
            "entry": self.entry.index,
            "country_code": self.entry.country_code,
            "area_code": self.entry.area_code,
            "count": self.entry.count,
            "sip_dispatch_rule_id": self.entry.rule or "",
            "held": self.claimed + purchased,
            "purchased": purchased,
        }


def pool_order(pools):
    """Pools with an area code first, then country-wide ones; entry order within each."""
    return sorted(pools, key=lambda pool: (0 if pool.area_code else 1, pool.index))


def _claim(pools, records):
    """Let each pool claim its matching held numbers, best fits first."""
    plans = {pool.index: PoolPlan(pool) for pool in pools}
    ordered = [plans[pool.index] for pool in pool_order(pools)]
    free = list(records)
    # Numbers already routed to the pool's rule first, so that a second run reroutes nothing.
    for plan in ordered:
        rule = plan.entry.rule
        if not rule:
            continue
        for record in list(free):
            if len(plan.claimed) == plan.entry.count:
                break
            if matches(plan.entry, record) and record["sip_dispatch_rule_ids"] == [rule]:
                plan.claimed.append(record["e164_format"])
                free.remove(record)
    # Then unrouted numbers, then numbers routed elsewhere (rerouted when the pool names a rule).
    for plan in ordered:
        for record in sorted(free, key=lambda r: 1 if r["sip_dispatch_rule_ids"] else 0):
            if len(plan.claimed) == plan.entry.count:
                break
            if matches(plan.entry, record):
                plan.claimed.append(record["e164_format"])
                free.remove(record)
    return [plans[pool.index] for pool in pools]


class FleetPlan:
    """The whole run: explicit entries, pools, and (once finished) the writes as a Plan."""

    def __init__(self, current, numbers, pools):
        self.current = [record for record in current if is_held(record)]
        self.by_number = held_index(self.current)[0]
        self.numbers = numbers
        named = {entry.number for entry in numbers}
        self.pools = _claim(pools, [r for r in self.current if r["e164_format"] not in named])
        claimed = {n for pool in self.pools for n in pool.claimed}
        self.unlisted = [
            r["e164_format"]
            for r in self.current
            if r["e164_format"] not in named and r["e164_format"] not in claimed
        ]
        self.plan = None

    def explicit_buys(self):
        return [
            e.number
            for e in self.numbers
            if e.state == "present" and e.number not in self.by_number
        ]

    def short_pools(self):
        return [pool for pool in self.pools if pool.shortfall]

    def check_spend(self, max_purchase):
        """Raise PurchaseLimitExceeded, before any search, when the run would buy too much."""
        explicit = self.explicit_buys()
        total = len(explicit) + sum(pool.shortfall for pool in self.pools)
        if max_purchase is None or total <= max_purchase:
            return
        parts = []
        if explicit:
            parts.append(", ".join(explicit))
        for pool in self.short_pools():
            parts.append("%d for %s" % (pool.shortfall, describe(pool.entry)))
        raise PurchaseLimitExceeded(
            "this run would buy %d numbers (%s), more than max_purchase=%d; nothing was searched "
            "or bought. Raise max_purchase if that is intended"
            % (total, "; ".join(parts), max_purchase)
        )

    def excluded(self):
        """Numbers a pool must not buy: named by an entry, held, or chosen by another pool."""
        taken = {entry.number for entry in self.numbers} | set(self.by_number)
        for pool in self.pools:
            # Spares stay shared: a pool may only take one once no other pool buys it.
            taken.update(pool.buy)
        return taken

    def search_limit(self, pool):
        """How many search results to ask for: the shortfall, spares, and room for exclusions."""
        unheld_named = [e.number for e in self.numbers if e.number not in self.by_number]
        chosen = sum(len(other.buy) for other in self.pools if other is not pool)
        return pool.shortfall + max(SEARCH_SPARE, pool.shortfall) + len(unheld_named) + chosen

    def choose(self, pool, offered):
        """Pick the pool's purchases from search results (normalised records), best first."""
        taken = self.excluded()
        usable = []
        for record in offered:
            number = record["e164_format"]
            if (
                number
                and number not in taken
                and matches(pool.entry, record)
                and number not in usable
            ):
                usable.append(number)
        pool.offered = len(usable)
        pool.buy = usable[: pool.shortfall]
        pool.spares = usable[pool.shortfall :]

    def check_shortfalls(self):
        """Raise PoolShortfall naming every pool the searches could not fill."""
        short = [pool for pool in self.pools if len(pool.buy) < pool.shortfall]
        if not short:
            return
        raise PoolShortfall(
            "; ".join(
                "%s needs %d more numbers (holds %d of %d) but the search offered only %d; nothing "
                "was bought"
                % (describe(p.entry), p.shortfall, len(p.claimed), p.entry.count, len(p.buy))
                for p in short
            )
        )

    def finish(self, release_unlisted):
        """Turn the choices into writes; returns the Plan (also kept as ``self.plan``)."""
        plan = Plan("present")
        groups = {}
        items = [(e.index, e, None) for e in self.numbers] + [
            (p.entry.index, None, p) for p in self.pools
        ]
        for _dummy, entry, pool in sorted(items, key=lambda item: item[0]):
            if entry is not None:
                self._explicit(plan, groups, entry)
            else:
                self._pool(plan, groups, pool)
        if release_unlisted:
            plan.release.extend(self.unlisted)
            plan.release_ids.extend(self.by_number[n]["id"] for n in self.unlisted)
        changing = set(plan.routed) | set(plan.release)
        plan.unchanged = [
            r["e164_format"] for r in self.current if r["e164_format"] not in changing
        ]
        plan.targets = [r["e164_format"] for r in self.current] + plan.purchased
        self.plan = plan
        return plan

    def _explicit(self, plan, groups, entry):
        record = self.by_number.get(entry.number)
        if entry.state == "absent":
            if record is not None:
                plan.release.append(entry.number)
                plan.release_ids.append(record["id"])
        elif record is None:
            _buy(plan, groups, entry.rule or "", [entry.number])
        elif entry.rule and record["sip_dispatch_rule_ids"] != [entry.rule]:
            plan.route.append(_route(record, entry.rule))

    def _pool(self, plan, groups, pool):
        rule = pool.entry.rule
        if rule:
            for number in pool.claimed:
                record = self.by_number[number]
                if record["sip_dispatch_rule_ids"] != [rule]:
                    plan.route.append(_route(record, rule))
        if pool.buy:
            _buy(plan, groups, rule or "", pool.buy)

    def accounted(self):
        """The numbers the entries hold once the run is done: explicit ones and the pools'."""
        numbers = [entry.number for entry in self.numbers if entry.state == "present"]
        return numbers + [n for pool in self.pools for n in pool.claimed + pool.buy]

    def pending(self):
        """Numbers the entries account for that were still being provisioned when last read."""
        return [n for n in self.accounted() if self.by_number.get(n, {}).get("status") == "pending"]

    def owner(self, number):
        """The pool that chose ``number`` to buy, or None for an explicit entry."""
        for pool in self.pools:
            if number in pool.buy:
                return pool
        return None

    def adopt(self, held):
        """Count candidates as held that the project holds by now; returns the routes they need.

        A purchase refused because the project itself holds the numbers means another run
        converging the same project bought them between this run's listing and its purchase.
        They are the numbers this run wanted, so they count as held (a pool's ``claimed``)
        rather than being replaced by spares, which would buy more than the entries ask for.
        ``held`` maps E.164 to the records read after the refusal.
        """
        routes = []
        for number, record in held.items():
            pool = self.owner(number)
            if pool is not None:
                pool.buy.remove(number)
                pool.claimed.append(number)
                rule = pool.entry.rule
            else:
                rule = next(entry.rule for entry in self.numbers if entry.number == number)
            self.by_number[number] = record
            if rule and record["sip_dispatch_rule_ids"] != [rule]:
                routes.append(_route(record, rule))
        return routes

    def replace_taken(self, numbers, taken):
        """The purchase list with ``taken`` candidates swapped for their pools' spares.

        Raises NumberUnavailable for an explicit number (it has no replacement) and
        PoolShortfall when a pool has no spare left.
        """
        explicit = [n for n in taken if self.owner(n) is None]
        if explicit:
            raise NumberUnavailable(
                "{} {} not available to buy (taken by someone else, or not offered); nothing was "
                "bought in that purchase".format(
                    ", ".join(explicit), "is" if len(explicit) == 1 else "are"
                )
            )
        result = list(numbers)
        for number in taken:
            pool = self.owner(number)
            pool.lost.append(number)
            buying = {n for other in self.pools for n in other.buy}
            pool.spares = [n for n in pool.spares if n not in buying and n not in taken]
            if not pool.spares:
                raise PoolShortfall(
                    "%s could not be filled: %d of the %d numbers the search offered (%s) were "
                    "bought by someone else before this run could buy them, and no other "
                    "candidate is left"
                    % (describe(pool.entry), len(pool.lost), pool.offered, ", ".join(pool.lost))
                )
            spare = pool.spares.pop(0)
            pool.buy[pool.buy.index(number)] = spare
            result[result.index(number)] = spare
        return result

    def pool_results(self, bought=None):
        """Per pool: its numbers after the run; ``bought`` (a set) limits purchases to those made."""
        results = []
        for pool in self.pools:
            done = pool.buy if bought is None else [n for n in pool.buy if n in bought]
            results.append(pool.result(done))
        return results


def _buy(plan, groups, rule, numbers):
    if rule not in groups:
        groups[rule] = []
        plan.purchase.append((rule, groups[rule]))
    groups[rule].extend(numbers)


def _route(record, rule):
    return Route(record["e164_format"], record["id"], list(record["sip_dispatch_rule_ids"]), rule)


def taken_numbers(error, requested):
    """The requested numbers a failed purchase says are not for sale, or [] for other errors.

    The numbers are read from the error's ``numbers`` meta when the server sends it, else from
    its message; only numbers of the request count.
    """
    if error is None or error.code not in NOT_AVAILABLE_CODES:
        return []
    named = set()
    for key in ("numbers", "phone_numbers", "phone_number"):
        named.update(part.strip() for part in str(error.meta.get(key, "")).split(","))
    named.update(_E164_IN_TEXT.findall(str(error)))
    return [number for number in requested if number in named]
