# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired state vs. current records -> the writes to make. Pure: no I/O, no Ansible.

Semantics (the contract the modules document):

* A number is held when PENDING, ACTIVE or OFFLINE. RELEASED numbers, and numbers the project
  never had, count as absent.
* present: numbers not held are bought, grouped by dispatch rule so that one purchase call buys
  every number sharing a rule; held numbers whose rules are not exactly the desired rule are
  routed; a desired rule of None leaves routing alone.
* absent: held numbers are released (the caller does it in one call); absent ones are no change.
* The purchase limit is checked here, so a run that would buy too many fails before anything
  is bought.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.livekit.sip.plugins.module_utils._errors import LiveKitError
from ansible_collections.livekit.sip.plugins.module_utils._records import empty_record, is_held

# number: E.164; id: the record id; current: rule ids now; rule: the rule to set.
Route = namedtuple("Route", ["number", "id", "current", "rule"])


class PlanError(LiveKitError):
    """The desired state cannot be reached without breaking a rule the user set."""

    default_code = "plan"


class UnknownIds(PlanError):
    default_code = "unknown_id"


class PurchaseLimitExceeded(PlanError):
    default_code = "purchase_limit"


class Plan:
    def __init__(self, state):
        self.state = state
        self.purchase = []  # [(rule or "", [E.164, ...])], in first-seen order
        self.route = []  # [Route]
        self.release = []  # [E.164]
        self.release_ids = []  # ids of the released numbers, same order
        self.unchanged = []  # [E.164]
        self.targets = []  # every number the run is about, input order (E.164)

    @property
    def purchased(self):
        return [number for dummy, numbers in self.purchase for number in numbers]

    @property
    def routed(self):
        return [route.number for route in self.route]

    @property
    def changed(self):
        return bool(self.purchase or self.route or self.release)

    def _buy(self, number, rule):
        for group_rule, numbers in self.purchase:
            if group_rule == rule:
                numbers.append(number)
                return
        self.purchase.append((rule, [number]))


def held_index(records):
    """E.164 -> held record, and id -> held record."""
    by_number = {}
    by_id = {}
    for record in records:
        if not is_held(record):
            continue
        by_number.setdefault(record["e164_format"], record)
        if record["id"]:
            by_id.setdefault(record["id"], record)
    return by_number, by_id


def make_plan(current, state, numbers=(), ids=(), rule=None, rules=None, purchase_limit=None):
    """Plan the writes that take ``current`` (normalised records) to the desired state.

    ``numbers`` are canonical E.164 strings, ``ids`` record ids (only held numbers can be
    addressed by id). ``rule`` is the dispatch rule for every number, ``rules`` a per-number
    override (E.164 -> rule); None means leave routing alone.
    """
    if state not in ("present", "absent"):
        raise ValueError(f"state must be present or absent, not {state!r}")
    by_number, by_id = held_index(current)
    plan = Plan(state)

    targets = []  # (E.164, held record or None)
    unknown = [i for i in ids if i not in by_id]
    if unknown and state == "present":
        raise UnknownIds(
            "the project holds no number with id {}; numbers can only be bought by E.164 "
            "number".format(", ".join(unknown))
        )
    for ident in ids:
        if ident in by_id:
            targets.append((by_id[ident]["e164_format"], by_id[ident]))
    for number in numbers:
        targets.append((number, by_number.get(number)))

    seen = set()
    for number, record in targets:
        if number in seen:
            continue
        seen.add(number)
        plan.targets.append(number)
        wanted = rules.get(number, rule) if rules else rule
        if state == "absent":
            if record is None:
                plan.unchanged.append(number)
            else:
                plan.release.append(number)
                plan.release_ids.append(record["id"])
        elif record is None:
            plan._buy(number, wanted or "")
        elif wanted is not None and record["sip_dispatch_rule_ids"] != [wanted]:
            plan.route.append(
                Route(number, record["id"], list(record["sip_dispatch_rule_ids"]), wanted)
            )
        else:
            plan.unchanged.append(number)

    if purchase_limit is not None and len(plan.purchased) > purchase_limit:
        raise PurchaseLimitExceeded(
            "this run would buy %d numbers (%s), more than purchase_limit=%d; nothing was "
            "bought" % (len(plan.purchased), ", ".join(plan.purchased), purchase_limit)
        )
    return plan


def predict(current, plan):
    """The records the targets of ``plan`` should have once it is carried out.

    Used for check mode and diff mode. Bought numbers are shown PENDING with their rule, as
    the server reports fresh numbers while they are provisioned; released numbers drop out, as
    the module returns only numbers still held.
    """
    by_number, dummy = held_index(current)
    buying = {number: rule for rule, numbers in plan.purchase for number in numbers}
    routes = {route.number: route.rule for route in plan.route}
    released = set(plan.release)
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
            result.append(record)
        elif number in by_number:
            record = dict(by_number[number])
            if number in routes:
                record["sip_dispatch_rule_ids"] = [routes[number]]
                record["sip_dispatch_rule_id"] = routes[number]
                if record["status"] == "offline":
                    # OFFLINE means held without a dispatch rule; a routed number is active.
                    record["status"] = "active"
            result.append(record)
    return result


def _summary(record):
    if record is None or not is_held(record):
        return {"state": "absent"}
    return {
        "state": "present",
        "id": record["id"],
        "status": record["status"],
        "sip_dispatch_rule_ids": list(record["sip_dispatch_rule_ids"]),
    }


def diff(before_records, plan, after_records=None):
    """Ansible diff (``before``/``after`` keyed by E.164) for the numbers the plan changes.

    ``after_records`` are the records read once the plan was carried out; without them (check
    mode) the prediction stands in.
    """
    by_number, dummy = held_index(before_records)
    if after_records is None:
        after_records = predict(before_records, plan)
    after_index, dummy = held_index(after_records)
    changing = set(plan.purchased) | set(plan.routed) | set(plan.release)
    before = {}
    after = {}
    for number in plan.targets:
        if number not in changing:
            continue
        before[number] = _summary(by_number.get(number))
        after[number] = _summary(after_index.get(number))
    return {"before": before, "after": after}
