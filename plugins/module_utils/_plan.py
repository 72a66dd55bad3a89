# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one planner: desired entries (numbers and pools) + the project's records -> a Plan. Pure.

Both writing modules plan here: ``phone_number_fleet`` with its entries, ``phone_number`` with
one number entry per number it is given (same rule, same state). No I/O, no Ansible: the
searches a pool needs are made by the executor, which hands their results to ``Planner.choose``.

Semantics (the contract the modules and the ``phone_numbers`` role document):

* A number is held when the project lists it with any status but RELEASED: PENDING, ACTIVE,
  OFFLINE, or a status this collection does not know (counted as held, so that nothing is
  bought in its place). RELEASED numbers, and numbers the project never had, count as absent.
* A number entry ``present`` is bought when not held (purchases are grouped by dispatch rule,
  so that one purchase buys every number sharing a rule) and routed when held with other rules
  than the one it names; a rule of None leaves routing alone. ``absent`` releases it when held.
* A pool asks for at least ``count`` numbers of a country (and area code). Held numbers that
  match count first, except numbers a number entry names; a matching number routed to another
  rule still counts and is routed to the pool's rule when the pool names one. Only the shortfall
  is bought, from search results.
* Pools with an area code choose before country-wide pools, so that a broad pool does not use
  up the numbers a narrow one needs; within that order, entries keep their order.
* A pool accounts for ``count`` numbers, not more: further matching numbers are unlisted. It
  keeps the numbers held longest (``assigned_at``, else ``created_at``), routed ones first
  among equals, so that trimming an overfilled pool releases the newest.
* Held numbers that no entry accounts for are ``unlisted``; they are released only on request,
  and never when their record is uncertain (an unknown status, fields the server left out).
* A pool is filled, and unlisted numbers released, only on a listing shown complete
  (``IncompleteListing`` otherwise): a record read twice or missed would be counted wrong.
* Candidates are chosen from the search deterministically (lowest spam score, then number),
  so that concurrent runs of the same entries choose the same numbers whatever order the
  server answers in.
* Everything that can be checked before writing is: the spend guard (before any search) and
  whether the searches offered enough numbers for every pool (before any purchase).

* A number entry's ``name`` is the number's label (protocol 1.52): a held number whose label
  differs gets it set, in the same UpdatePhoneNumber as its route when both change; a number
  bought gets it right after the purchase (a purchase cannot carry a label). A name of None
  leaves the label alone.
* A pool's filters (``_filters.SearchFilter``) narrow what matches it, held and offered alike.

Words: to *route* a number is to set its one dispatch rule (UpdatePhoneNumber); a ``Route`` is
one such planned write (it may set the label too, or only the label), ``routed`` lists the
numbers whose rule it sets and ``labelled`` those whose label it sets.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.livekit.sip.plugins.module_utils._entries import NumberEntry, PoolEntry
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    IncompleteListing,
    NumberUnavailable,
    PoolShortfall,
    PurchaseLimitExceeded,
    UnknownIds,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import (
    NANP_COUNTRIES,
    Record,
    empty_record,
    is_held,
    nanp_fields,
)

# The countries of the +1 numbering plan.
NANP_ISO = frozenset(("US",) + tuple(NANP_COUNTRIES))

# One planned UpdatePhoneNumber. number: E.164; id: the record id; current: the rule ids it
# has now; rule: the rule to set, or None (routing left alone); name: the label to set, or
# None (label left alone).
Route = namedtuple("Route", ["number", "id", "current", "rule", "name"])
Route.__new__.__defaults__ = (None,)

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

# What ``Plan.targets`` lists: the numbers the entries name (``phone_number`` returns their
# records), or every number the project holds after the run (``phone_number_fleet``).
SCOPES = ("entries", "project")


class Plan:
    """The writes that take the project to the entries, and what they leave alone.

    A plain value: the planner fills it, the executor carries it out (recording there the
    candidates it had to replace), check mode and diff mode read it.
    """

    def __init__(self) -> None:
        self.purchases: List[Tuple[str, List[str]]] = []  # (rule or "", [E.164]), first-seen order
        self.routes: List[Route] = []
        self.releases: List[str] = []  # E.164
        self.release_ids: List[str] = []  # ids of the numbers to release, same order
        self.unchanged: List[str] = []  # targets no write touches
        self.unlisted: List[str] = []  # held numbers no entry accounts for
        self.targets: List[str] = []  # the numbers the run is about, in order (see SCOPES)
        # Labels of numbers to buy, set by an UpdatePhoneNumber once they are bought.
        self.names: Dict[str, str] = {}

    @property
    def purchased(self) -> List[str]:
        return [number for dummy, numbers in self.purchases for number in numbers]

    @property
    def routed(self) -> List[str]:
        return [route.number for route in self.routes if route.rule is not None]

    @property
    def labelled(self) -> List[str]:
        """Numbers whose label the run sets: held ones (in ``routes``), then bought ones."""
        held = [route.number for route in self.routes if route.name is not None]
        bought = set(self.purchased)
        return held + [n for n in self.names if n in bought and n not in held]

    @property
    def changed(self) -> bool:
        return bool(self.purchases or self.routes or self.releases)

    def buy(self, rule: str, numbers: Iterable[str]) -> None:
        """Add ``numbers`` to the purchase of ``rule``, opening it when it is the first."""
        for group_rule, group in self.purchases:
            if group_rule == rule:
                group.extend(numbers)
                return
        self.purchases.append((rule, list(numbers)))


def held_index(records: Iterable[Record]) -> Tuple[Dict[str, Record], Dict[str, Record]]:
    """E.164 -> held record, and id -> held record."""
    by_number: Dict[str, Record] = {}
    by_id: Dict[str, Record] = {}
    for record in records:
        if not is_held(record):
            continue
        by_number.setdefault(record["e164_format"], record)
        if record["id"]:
            by_id.setdefault(record["id"], record)
    return by_number, by_id


def country(code: Optional[str]) -> str:
    code = (code or "").upper()
    return ALPHA3.get(code, code)


def matches(pool: PoolEntry, record: Record) -> bool:
    """True when a record (held or offered) is in the pool's country and area, and passes its
    filters."""
    if country(record["country_code"]) != pool.country_code:
        return False
    if pool.area_code and record["area_code"] != pool.area_code:
        return False
    return pool.filter is None or pool.filter.matches(record)


def describe(pool: PoolEntry) -> str:
    where = pool.country_code + (f" area code {pool.area_code}" if pool.area_code else "")
    if pool.filter is not None and pool.filter.active:
        where += ", " + pool.filter.describe()
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
        self.scan = None  # the filtered search's SearchScan, when the pool has filters

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
            "filters": self.entry.filter.as_dict() if self.entry.filter is not None else {},
            "held": self.claimed + purchased,
            "purchased": purchased,
        }


def pool_order(pools: Iterable[PoolEntry]) -> List[PoolEntry]:
    """Pools with an area code first, then country-wide ones; entry order within each."""
    return sorted(pools, key=lambda pool: (0 if pool.area_code else 1, pool.index))


def held_since(record: Record) -> str:
    """Sort key of how long a number has been held: its assigned_at, else created_at.

    Timestamps are normalised RFC 3339 strings in UTC, which sort as text once their fractions
    are made equal length; a record without either sorts last (held shortest, as far as known).
    """
    moment = record.get("assigned_at") or record.get("created_at")
    if not moment:
        return "~"
    base, dot, fraction = str(moment).rstrip("Z").partition(".")
    return base + "." + (fraction + "000000000")[:9]


def _claim(pools, records):
    """Let each pool claim its matching held numbers, best fits first, the oldest among equals.

    First every pool takes numbers already routed to its rule, so that a second run reroutes
    nothing; then unrouted numbers, then numbers routed elsewhere (rerouted when the pool names
    a rule). Within each step a pool takes the numbers held longest, so that the numbers left
    over when a pool holds more than ``count`` (and released with ``release_unlisted``) are the
    newest. Pools with an area code choose first.
    """
    plans = {pool.index: PoolPlan(pool) for pool in pools}
    ordered = [plans[pool.index] for pool in pool_order(pools)]
    free = sorted(records, key=lambda r: (held_since(r), r["e164_format"]))
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
    for plan in ordered:
        # sorted() keeps the age order among numbers that are equally (un)routed.
        for record in sorted(free, key=lambda r: 1 if r["sip_dispatch_rule_ids"] else 0):
            if len(plan.claimed) == plan.entry.count:
                break
            if matches(plan.entry, record):
                plan.claimed.append(record["e164_format"])
                free.remove(record)
    return [plans[pool.index] for pool in pools]


class Planner:
    """The whole run: number entries, pools, and (once finished) the writes as a Plan.

    Planning takes two steps because pools need searches between them: the constructor lets
    pools claim held numbers, ``choose`` picks each short pool's purchases from a search, and
    ``finish`` turns it all into ``self.plan``. During execution, ``adopt`` and
    ``replace_taken`` keep the plan true when a purchase is refused.
    """

    def __init__(
        self,
        current: Iterable[Record],
        numbers: Sequence[NumberEntry],
        pools: Sequence[PoolEntry] = (),
        scope: str = "project",
        uncertain: Iterable[str] = (),
        incomplete: str = "",
    ) -> None:
        """``uncertain``: held numbers whose records cannot carry a release no entry asked for
        (see ListResult.uncertain); ``incomplete``: why the listing of ``current`` cannot be
        shown complete ('' when it can)."""
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
        self.scope = scope
        self.uncertain = set(uncertain)
        self.incomplete = incomplete
        self.current = [record for record in current if is_held(record)]
        self.by_number = held_index(self.current)[0]
        self.numbers = list(numbers)
        named = {entry.number for entry in numbers}
        self.pools = _claim(pools, [r for r in self.current if r["e164_format"] not in named])
        claimed = {n for pool in self.pools for n in pool.claimed}
        self.unlisted = [
            r["e164_format"]
            for r in self.current
            if r["e164_format"] not in named and r["e164_format"] not in claimed
        ]
        # Unlisted numbers release_unlisted leaves alone because their records are uncertain.
        self.kept = [n for n in self.unlisted if n in self.uncertain]
        self.plan = None

    def explicit_buys(self):
        return [
            e.number
            for e in self.numbers
            if e.state == "present" and e.number not in self.by_number
        ]

    def short_pools(self):
        return [pool for pool in self.pools if pool.shortfall]

    def check_spend(self, max_purchase: Optional[int], option: str = "max_purchase") -> None:
        """Raise PurchaseLimitExceeded, before any search, when the run would buy too much.

        ``option`` is the name the user gave the limit (an alias is quoted as written).
        """
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
            "this run would buy %d numbers (%s), more than %s=%d; nothing was %s. Raise %s if "
            "that is intended"
            % (
                total,
                "; ".join(parts),
                option,
                max_purchase,
                "searched or bought" if self.pools else "bought",
                option,
            )
        )

    def check_listing(self, release_unlisted: bool = False) -> None:
        """Raise IncompleteListing before any search when a decision would rest on a guess.

        A pool's count, or the release of unlisted numbers, needs a listing shown complete: a
        record read twice counts twice, and a record missed is bought again or, held and
        missed, never released. Explicit entries do not depend on it (numbers they name that
        the listing misses are looked up one by one). A held number whose country or area the
        record does not show cannot be counted for or against a pool either.
        """
        short = self.short_pools()
        releasing = release_unlisted and [n for n in self.unlisted if n not in self.uncertain]
        if self.incomplete and (short or releasing):
            wanted = []
            if short:
                wanted.append(
                    "buy %d numbers for %s"
                    % (
                        sum(pool.shortfall for pool in short),
                        ", ".join(describe(pool.entry) for pool in short),
                    )
                )
            if releasing:
                wanted.append("release %d unlisted numbers" % len(releasing))
            raise IncompleteListing(
                "the project's numbers could not be listed completely, even after listing them "
                "again: %s. Nothing was searched, bought or released: this run would %s on a "
                "listing that may count numbers twice or miss them. Run it again later; if it "
                "persists, the server's paging is inconsistent"
                % (self.incomplete, " and ".join(wanted))
            )
        for pool in short:
            blind = [r["e164_format"] for r in self.unknown_place(pool)]
            if blind:
                raise IncompleteListing(
                    "%s holds %d of %d numbers, but the server lists %d held numbers without "
                    "the country or area code that would tell whether they belong to it (%s); "
                    "nothing was searched or bought"
                    % (
                        describe(pool.entry),
                        len(pool.claimed),
                        pool.entry.count,
                        len(blind),
                        _examples(blind),
                    )
                )

    def unknown_place(self, pool: PoolPlan) -> List[Record]:
        """Unclaimed held records that might be the pool's: no country, or no area code."""
        claimed = {n for other in self.pools for n in other.claimed}
        named = {entry.number for entry in self.numbers}
        result = []
        for record in self.current:
            number = record["e164_format"]
            if number in claimed or number in named:
                continue
            place = country(record["country_code"])
            if not place or (
                pool.entry.area_code
                and place == pool.entry.country_code
                and not record["area_code"]
            ):
                result.append(record)
        return result

    def excluded(self):
        """Numbers a pool must not buy: named by an entry, held, or chosen by another pool."""
        taken = {entry.number for entry in self.numbers} | set(self.by_number)
        for pool in self.pools:
            # Spares stay shared: a pool may only take one once no other pool buys it.
            taken.update(pool.buy)
        return taken

    def search_limit(self, pool: PoolPlan) -> int:
        """How many search results to ask for first: the shortfall, spares, and room for the
        candidates of other pools that the same search may offer.

        Numbers the entries name are rarely offered; room for them is asked for only when they
        were (see ``exclusion_room``), so that thousands of explicit entries do not make every
        pool page through the search.
        """
        chosen = sum(
            1
            for other in self.pools
            if other is not pool
            for number in other.buy
            if may_match(pool.entry, number)
        )
        return pool.shortfall + max(SEARCH_SPARE, pool.shortfall) + chosen

    def exclusion_room(self, pool: PoolPlan) -> int:
        """Named numbers not held that a search for ``pool`` could offer (and must skip)."""
        return sum(
            1
            for e in self.numbers
            if e.number not in self.by_number and may_match(pool.entry, e.number)
        )

    def choose(self, pool: PoolPlan, offered: Iterable[Record]) -> None:
        """Pick the pool's purchases from search results (normalised records).

        The lowest spam score first, then the lowest number: the same offer gives the same
        choice whatever order the server answered in, so that concurrent runs of the same
        entries try to buy the same numbers, and the server's refusal of the second purchase
        shows that the first run bought them.
        """
        taken = self.excluded()
        usable = []
        for record in sorted(offered, key=lambda r: (r["spam_score"], r["e164_format"])):
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
                "%s needs %d more numbers (holds %d of %d) but the search offered only %d%s; "
                "nothing was bought"
                % (
                    describe(p.entry),
                    p.shortfall,
                    len(p.claimed),
                    p.entry.count,
                    len(p.buy),
                    _scanned(p),
                )
                for p in short
            )
        )

    def finish(self, release_unlisted: bool = False) -> Plan:
        """Turn the choices into writes; returns the Plan (also kept as ``self.plan``)."""
        plan = Plan()
        plan.unlisted = list(self.unlisted)
        items = [(e.index, e, None) for e in self.numbers] + [
            (p.entry.index, None, p) for p in self.pools
        ]
        for _dummy, entry, pool in sorted(items, key=lambda item: item[0]):
            if entry is not None:
                self._explicit(plan, entry)
            else:
                self._pool(plan, pool)
        if release_unlisted:
            releasable = [n for n in self.unlisted if n not in self.uncertain]
            plan.releases.extend(releasable)
            plan.release_ids.extend(self.by_number[n]["id"] for n in releasable)
        self.plan = plan
        self.retarget()
        return plan

    def retarget(self) -> None:
        """Recompute ``targets`` and ``unchanged``, after candidates were replaced too."""
        plan = self.plan
        if self.scope == "entries":
            plan.targets = [entry.number for entry in self.numbers]
        else:
            plan.targets = [r["e164_format"] for r in self.current] + plan.purchased
        changing = set(plan.purchased) | set(plan.routed) | set(plan.labelled) | set(plan.releases)
        plan.unchanged = [number for number in plan.targets if number not in changing]

    def _explicit(self, plan: Plan, entry: NumberEntry) -> None:
        record = self.by_number.get(entry.number)
        if entry.state == "absent":
            if record is not None:
                plan.releases.append(entry.number)
                plan.release_ids.append(record["id"])
        elif record is None:
            plan.buy(entry.rule or "", [entry.number])
            if entry.name:
                # A fresh number has no label: an empty name needs no write.
                plan.names[entry.number] = entry.name
        else:
            route = _update(record, entry.rule, entry.name)
            if route is not None:
                plan.routes.append(route)

    def _pool(self, plan: Plan, pool: PoolPlan) -> None:
        rule = pool.entry.rule
        if rule:
            for number in pool.claimed:
                record = self.by_number[number]
                if record["sip_dispatch_rule_ids"] != [rule]:
                    plan.routes.append(_route(record, rule))
        if pool.buy:
            plan.buy(rule or "", pool.buy)

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

    def refresh(self, records: Iterable[Record], bought: Iterable[str] = ()) -> List[Route]:
        """Take account of numbers held now that were not when the run listed the project.

        Called with a fresh listing just before a purchase of pool candidates: a concurrent run
        (or a cancelled one whose purchase went through) may have bought numbers for the same
        pools meanwhile. Candidates the project holds now are adopted; other new numbers that
        match a pool are claimed by it; a pool that is full then buys nothing more. ``bought``
        are the numbers this run has bought already. Returns the routes the newly counted
        numbers need.
        """
        ours = set(bought)
        held = {r["e164_format"]: r for r in records if is_held(r)}
        routes = self.adopt(
            {n: held[n] for n in self.plan.purchased if n in held and n not in ours}
        )
        named = {entry.number for entry in self.numbers}
        counted = {n for pool in self.pools for n in pool.claimed}
        fresh = [
            record
            for number, record in held.items()
            if number not in self.by_number
            and number not in named
            and number not in counted
            and number not in ours
        ]
        for record in sorted(fresh, key=lambda r: (held_since(r), r["e164_format"])):
            for pool in pool_order_plans(self.pools):
                if pool.buy and matches(pool.entry, record):
                    number = record["e164_format"]
                    pool.claimed.append(number)
                    pool.buy.pop()
                    self.by_number[number] = record
                    self.current.append(record)
                    rule = pool.entry.rule
                    if rule and record["sip_dispatch_rule_ids"] != [rule]:
                        routes.append(_route(record, rule))
                    break
        wanted = {n for pool in self.pools for n in pool.buy}
        wanted.update(
            e.number
            for e in self.numbers
            if e.state == "present" and e.number not in self.by_number
        )
        for position, (rule, numbers) in enumerate(self.plan.purchases):
            self.plan.purchases[position] = (rule, [n for n in numbers if n in wanted])
        return routes

    def adopt(self, held: Dict[str, Record]) -> List[Route]:
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
                name = None
            else:
                entry = next(entry for entry in self.numbers if entry.number == number)
                rule, name = entry.rule, entry.name
            if number not in self.by_number:
                self.current.append(record)
            self.by_number[number] = record
            if self.plan is not None:
                self.plan.names.pop(number, None)
            route = _update(record, rule, name)
            if route is not None:
                routes.append(route)
        return routes

    def replace_taken(self, numbers: List[str], taken: List[str]) -> List[str]:
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

    def rename_rules(self, ids: Dict[str, str]) -> None:
        """Swap rule ids everywhere in the run (``ids``: old -> new), the Plan's writes included.

        A number routed to a dispatch rule the same run creates is planned with a stand-in id
        (``_rule_set.planned_id``); once the rule exists, its real id takes the stand-in's place.
        """

        def swap(rule):
            return ids.get(rule, rule) if isinstance(rule, str) else rule

        self.numbers = [entry._replace(rule=swap(entry.rule)) for entry in self.numbers]
        for pool in self.pools:
            pool.entry = pool.entry._replace(rule=swap(pool.entry.rule))
        plan = self.plan
        if plan is not None:
            plan.purchases = [(swap(rule), numbers) for rule, numbers in plan.purchases]
            plan.routes = [route._replace(rule=swap(route.rule)) for route in plan.routes]

    def pool_results(self, bought=None):
        """Per pool: its numbers after the run; ``bought`` (a set) limits purchases to those made."""
        results = []
        for pool in self.pools:
            done = pool.buy if bought is None else [n for n in pool.buy if n in bought]
            results.append(pool.result(done))
        return results


def pool_order_plans(plans: Iterable[PoolPlan]) -> List[PoolPlan]:
    by_index = {plan.entry.index: plan for plan in plans}
    return [by_index[entry.index] for entry in pool_order(plan.entry for plan in plans)]


def may_match(pool: PoolEntry, number: str) -> bool:
    """Whether a search for ``pool`` could offer ``number``, judged from its digits alone.

    A +1 number shows its area code and (except toll-free) its country; any other number may
    be offered by a pool outside the +1 countries.
    """
    place, area = nanp_fields(number)
    if area:
        if pool.country_code not in NANP_ISO:
            return False
        if pool.area_code and pool.area_code != area:
            return False
        return not place or place == pool.country_code
    if number.startswith("+1"):
        return True
    return pool.country_code not in NANP_ISO


def _examples(items, limit=5):
    items = list(items)
    text = ", ".join(items[:limit])
    if len(items) > limit:
        text += " and %d more" % (len(items) - limit)
    return text


def _scanned(pool: PoolPlan) -> str:
    """How far a filtered search read, for a shortfall message."""
    scan = pool.scan
    if scan is None:
        return ""
    if scan.bound_reached:
        return (
            " matching its filters: the search stopped at its bound of %d pages (%d numbers "
            "read), and more may match beyond; narrow the pool with area_code"
            % (scan.pages, scan.scanned)
        )
    return " matching its filters (%d numbers read, the whole offer)" % scan.scanned


def _route(record: Record, rule: str) -> Route:
    return Route(record["e164_format"], record["id"], list(record["sip_dispatch_rule_ids"]), rule)


def _update(record: Record, rule: Optional[str], name: Optional[str]) -> Optional[Route]:
    """The one UpdatePhoneNumber a held number needs for ``rule`` and ``name``, or None.

    Only what differs is sent, so that a second run writes nothing.
    """
    reroute = bool(rule) and record["sip_dispatch_rule_ids"] != [rule]
    relabel = name is not None and record.get("name", "") != name
    if not reroute and not relabel:
        return None
    return Route(
        record["e164_format"],
        record["id"],
        list(record["sip_dispatch_rule_ids"]),
        rule if reroute else None,
        name if relabel else None,
    )


def plan_numbers(
    current: Iterable[Record],
    state: str,
    numbers: Sequence[str] = (),
    ids: Sequence[str] = (),
    rule: Optional[str] = None,
    rules: Optional[Dict[str, Optional[str]]] = None,
    max_purchase: Optional[int] = None,
    option: str = "max_purchase",
    name: Optional[str] = None,
) -> Planner:
    """``phone_number``'s case: one number entry per number (or held id), all in ``state``.

    ``numbers`` are canonical E.164 strings, ``ids`` record ids (only held numbers can be
    addressed by id). ``rule`` is the dispatch rule for every number, ``rules`` a per-number
    override (E.164 -> rule); None means leave routing alone. ``name`` is the label for every
    number; None leaves labels alone. Returns the finished Planner.
    """
    if state not in ("present", "absent"):
        raise ValueError(f"state must be present or absent, not {state!r}")
    current = list(current)
    by_id = held_index(current)[1]
    unknown = [i for i in ids if i not in by_id]
    if unknown and state == "present":
        raise UnknownIds(
            "the project holds no number with id {}; numbers can only be bought by E.164 "
            "number".format(", ".join(unknown))
        )
    named = [by_id[i]["e164_format"] for i in ids if i in by_id] + list(numbers)
    entries: List[NumberEntry] = []
    for number in named:
        if any(entry.number == number for entry in entries):
            continue
        wanted = rules.get(number, rule) if rules else rule
        entries.append(NumberEntry(len(entries), number, wanted, state, name))
    planner = Planner(current, entries, (), scope="entries")
    planner.check_spend(max_purchase, option)
    planner.finish(release_unlisted=False)
    return planner


def predict(current: Iterable[Record], plan: Plan) -> List[Record]:
    """The records the targets of ``plan`` should have once it is carried out.

    Used for check mode and diff mode. Bought numbers are shown PENDING with their rule and
    label, as the server reports fresh numbers while they are provisioned; released numbers
    drop out, as the modules return only numbers still held.
    """
    by_number, dummy = held_index(current)
    buying = {number: rule for rule, numbers in plan.purchases for number in numbers}
    routes = {route.number: route.rule for route in plan.routes if route.rule is not None}
    names = {route.number: route.name for route in plan.routes if route.name is not None}
    released = set(plan.releases)
    result = []
    for number in plan.targets:
        if number in released:
            continue
        if number in buying:
            record = empty_record(number)
            record["status"] = "pending"
            if buying[number]:
                record["sip_dispatch_rule_ids"] = [buying[number]]
                record["sip_dispatch_rule_id"] = buying[number]
            record["name"] = plan.names.get(number, "")
            result.append(record)
        elif number in by_number:
            record = dict(by_number[number])
            if number in routes:
                record["sip_dispatch_rule_ids"] = [routes[number]]
                record["sip_dispatch_rule_id"] = routes[number]
                if record["status"] == "offline":
                    # OFFLINE means held without a dispatch rule; a routed number is active.
                    record["status"] = "active"
            if number in names:
                record["name"] = names[number]
            result.append(record)
    return result


def _summary(record: Optional[Record]) -> Record:
    if record is None or not is_held(record):
        return {"state": "absent"}
    return {
        "state": "present",
        "id": record["id"],
        "status": record["status"],
        "sip_dispatch_rule_ids": list(record["sip_dispatch_rule_ids"]),
        "name": record.get("name", ""),
    }


def diff(
    before_records: Iterable[Record], plan: Plan, after_records: Optional[Iterable[Record]] = None
) -> Dict[str, Dict[str, Record]]:
    """Ansible diff (``before``/``after`` keyed by E.164) for the numbers the plan changes.

    ``after_records`` are the records read once the plan was carried out; without them (check
    mode) the prediction stands in.
    """
    before_records = list(before_records)
    by_number, dummy = held_index(before_records)
    if after_records is None:
        after_records = predict(before_records, plan)
    after_index, dummy = held_index(after_records)
    changing = set(plan.purchased) | set(plan.routed) | set(plan.labelled) | set(plan.releases)
    before = {}
    after = {}
    for number in plan.targets:
        if number not in changing:
            continue
        before[number] = _summary(by_number.get(number))
        after[number] = _summary(after_index.get(number))
    return {"before": before, "after": after}
