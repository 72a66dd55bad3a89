# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several dispatch rules planned together, and the rule names of entries turned into ids. Pure.

``phone_number_fleet`` takes rule definitions (the options of ``sip_dispatch_rule``, found by
``name``) beside its entries, and entries may name their rule by name. Everything is decided
from one listing of the project's rules, before any write: every definition's plan, which rules
no definition names (``unlisted``, left alone), and the id every name stands for. A rule the
run is still to create has no id yet; its numbers are planned with ``planned_id(name)``, which
the executor swaps for the real id once the rule exists (``Planner.rename_rules``), and which
check mode shows as it is.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from ansible_collections.livekit.sip.plugins.module_utils._dispatch_rules import (
    RuleInUse,
    UnknownRuleName,
    desired_from_params,
    find_by_name,
    plan_rule,
    public_rule,
    resolve_names,
    rule_diff,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import Record, is_held

# The options of a rule, shared by the sip_dispatch_rule module and phone_number_fleet's
# sip_dispatch_rules (each element takes these keys).
RULE_OPTIONS = {
    "name": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "type": {"type": "str", "choices": ["direct", "individual", "callee"]},
    "room_name": {"type": "str"},
    "room_prefix": {"type": "str"},
    "randomize_room": {"type": "bool"},
    "pin": {"type": "str", "no_log": True},
    "trunk_ids": {"type": "list", "elements": "str"},
    "numbers": {"type": "list", "elements": "str"},
    "inbound_numbers": {"type": "list", "elements": "str"},
    "hide_phone_number": {"type": "bool"},
    "metadata": {"type": "str"},
    "attributes": {"type": "dict"},
    "agents": {
        "type": "list",
        "elements": "dict",
        "options": {
            "agent_name": {"type": "str", "required": True},
            "metadata": {"type": "str"},
        },
    },
    "room_preset": {"type": "str"},
    "krisp_enabled": {"type": "bool"},
    "media_encryption": {"type": "str", "choices": ["disable", "allow", "require"]},
    "force": {"type": "bool", "default": False},
}


def rule_options(**overrides):
    """A copy of RULE_OPTIONS, with ``overrides`` (option -> spec) laid over it."""
    options = {name: dict(spec) for name, spec in RULE_OPTIONS.items()}
    options.update(overrides)
    return options


def planned_id(name: str) -> str:
    """What stands for the id of a rule this run creates, until it exists (shown in check mode)."""
    return f"(created by this run: {name})"


ACTIONS_DONE = {
    "create": "created",
    "update": "updated",
    "replace": "updated",
    "delete": "deleted",
}


class RuleTask:
    """One definition: its position, name, options and plan; ``done`` once carried out."""

    def __init__(self, index: int, params: Dict[str, object], desired, plan) -> None:
        self.index = index
        self.params = params
        self.name = params["name"]
        self.desired = desired
        self.plan = plan
        self.done = False
        self.unrouted: List[str] = []  # numbers still routed to a rule deleted with force

    @property
    def id(self) -> str:
        return self.plan.before["id"] if self.plan.before else ""

    def result(self) -> Dict[str, object]:
        return {
            "name": self.name,
            "action": self.plan.action,
            "changes": list(self.plan.changes),
            "sip_dispatch_rule": public_rule(self.plan.after),
            "unrouted_numbers": list(self.unrouted),
        }


def _where(index: int) -> str:
    return "sip_dispatch_rules[%d]" % index


def parse_definitions(definitions: Optional[Sequence[Dict[str, object]]]):
    """Validate the definitions (module options already type-checked) -> [(index, params, desired)].

    Raises ParameterError naming every faulty definition as ``sip_dispatch_rules[i]``.
    """
    errors = []
    parsed = []
    seen: Dict[str, int] = {}
    for index, params in enumerate(definitions or []):
        where = _where(index)
        name = (params.get("name") or "").strip()
        if not name:
            errors.append(f"{where}: name is required (rules are found by name)")
            continue
        if name in seen:
            errors.append(
                "%s and %s both define the rule %r; define each rule once"
                % (_where(seen[name]), where, name)
            )
            continue
        seen[name] = index
        params = dict(params, name=name)
        try:
            desired = desired_from_params(params)
        except ParameterError as exc:
            errors.append(f"{where} ({name}): {exc}")
            continue
        parsed.append((index, params, desired))
    if errors:
        raise ParameterError("; ".join(errors))
    return parsed


class RuleSet:
    """The plans of every definition, from one listing (RuleRecords) of the project's rules."""

    def __init__(self, parsed, records) -> None:
        self.records = list(records)
        self.rules = [record.rule for record in self.records]
        raw = {record.rule["id"]: record.raw for record in self.records}
        self.tasks: List[RuleTask] = []
        errors = []
        for index, params, desired in parsed:
            try:
                current = find_by_name(self.rules, params["name"])
                plan = plan_rule(
                    desired,
                    current,
                    raw.get(current["id"]) if current else None,
                    params["state"],
                )
            except LiveKitError as exc:
                if not isinstance(exc, ParameterError):
                    raise
                errors.append(f"{_where(index)} ({params['name']}): {exc}")
                continue
            self.tasks.append(RuleTask(index, params, desired, plan))
        if errors:
            raise ParameterError("; ".join(errors))
        defined = {task.name for task in self.tasks}
        self.unlisted = [
            {"id": rule["id"], "name": rule["name"]}
            for rule in self.rules
            if rule["name"] not in defined
        ]

    def task(self, name: str) -> Optional[RuleTask]:
        return next((task for task in self.tasks if task.name == name), None)

    def resolve(self, names: Sequence[str]) -> Dict[str, str]:
        """name -> rule id for every name the entries use; planned_id() for rules to create.

        Raises UnknownRuleName (saying which names exist and which this run creates),
        DuplicateRuleName (naming the ids), or ParameterError for a rule the run deletes.
        """
        resolved: Dict[str, str] = {}
        deleted = []
        for name in names:
            task = self.task(name)
            if task is None:
                continue
            if task.params["state"] == "absent":
                deleted.append(name)
            else:
                resolved[name] = task.id or planned_id(name)
        if deleted:
            raise ParameterError(
                "entries route numbers to %s, which sip_dispatch_rules defines with "
                "state=absent; route them elsewhere or keep the rule"
                % ", ".join(repr(name) for name in deleted)
            )
        rest = [name for name in names if name not in resolved]
        if rest:
            try:
                resolved.update(resolve_names(self.rules, rest))
            except UnknownRuleName as exc:
                created = [t.name for t in self.tasks if t.plan.action == "create"]
                if not created:
                    raise
                raise UnknownRuleName(
                    "%s; this run creates: %s" % (exc, ", ".join(created))
                ) from None
        return resolved

    def creations_and_updates(self) -> List[RuleTask]:
        return [t for t in self.tasks if t.plan.action in ("create", "update", "replace")]

    def deletions(self) -> List[RuleTask]:
        return [t for t in self.tasks if t.plan.action == "delete"]

    def check_deletions(self, current: Sequence[Record], plan) -> None:
        """Refuse, before any write, to delete a rule numbers would still be routed to.

        ``plan`` is the numbers' Plan: numbers it releases or routes elsewhere do not count.
        With ``force`` the rule is deleted anyway and the numbers are reported as unrouted.
        """
        released = set(plan.releases)
        moved = {route.number for route in plan.routes}
        doomed = {task.id: task for task in self.deletions()}
        wanted = [rule for rule, dummy in plan.purchases] + [route.rule for route in plan.routes]
        clash = sorted({doomed[rule].name for rule in wanted if rule in doomed})
        if clash:
            raise ParameterError(
                "entries buy or route numbers for %s by id, which sip_dispatch_rules defines "
                "with state=absent; route them elsewhere or keep the rule"
                % ", ".join(repr(name) for name in clash)
            )
        refused = []
        for task in self.deletions():
            task.unrouted = sorted(
                record["e164_format"]
                for record in current
                if is_held(record)
                and task.id in record["sip_dispatch_rule_ids"]
                and record["e164_format"] not in released
                and record["e164_format"] not in moved
            )
            if task.unrouted and not task.params["force"]:
                refused.append(task)
        if refused:
            numbers = sorted({n for task in refused for n in task.unrouted})
            raise RuleInUse(
                "; ".join(
                    "%d phone number(s) would still be routed to the SIP dispatch rule %s (%s) "
                    "that %s deletes: %s"
                    % (
                        len(task.unrouted),
                        task.id,
                        task.name,
                        _where(task.index),
                        ", ".join(task.unrouted),
                    )
                    for task in refused
                )
                + "; they would stop answering calls. Route them to another rule, or set "
                "force: true in the definition",
                numbers=numbers,
            )

    def results(self) -> List[Dict[str, object]]:
        """One item per definition, in their order (RV(sip_dispatch_rules))."""
        return [task.result() for task in sorted(self.tasks, key=lambda t: t.index)]

    def summary(self, done_only: bool = False) -> Dict[str, List[str]]:
        """Names of the rules created, updated and deleted (or to be), and those unlisted."""
        summary: Dict[str, List[str]] = {"created": [], "updated": [], "deleted": []}
        for task in sorted(self.tasks, key=lambda t: t.index):
            if task.plan.action in ACTIONS_DONE and (task.done or not done_only):
                summary[ACTIONS_DONE[task.plan.action]].append(task.name)
        summary["unlisted"] = [rule["name"] or rule["id"] for rule in self.unlisted]
        return summary

    def diff(self) -> Dict[str, Dict[str, object]]:
        """Diff entries for the rules that change, keyed ``sip_dispatch_rule <name>``."""
        before: Dict[str, object] = {}
        after: Dict[str, object] = {}
        for task in self.tasks:
            if task.plan.changed:
                key = "sip_dispatch_rule " + task.name
                shown = rule_diff(task.plan)
                before[key] = shown["before"]
                after[key] = shown["after"]
        return {"before": before, "after": after}
