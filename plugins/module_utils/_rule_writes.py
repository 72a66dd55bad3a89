# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carrying out a dispatch rule's plan: one write, checked by reading when its outcome is unknown.

Used by ``sip_dispatch_rule`` for its one rule and by ``phone_number_fleet`` for its
definitions. A write whose answer was lost is never simply sent again: the rule is read, and a
write found carried out counts as done; anything else is reported as the error it was.
"""

from __future__ import annotations

from ansible_collections.livekit.sip.plugins.module_utils._dispatch_rules import (
    disagreement,
    find_by_name,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ResponseError,
)
from ansible_collections.livekit.sip.plugins.module_utils._execute import outcome_unknown
from ansible_collections.livekit.sip.plugins.module_utils._sip_api import RULE_PAGE_SIZE


class WriteDisagrees(ResponseError):
    default_code = "write_disagrees"


def write(sip, plan, page_size=RULE_PAGE_SIZE):
    """Send the planned write; the RuleRecord after it (None after a deletion).

    When the outcome of the write is unknown (the answer was lost, or a repeat was refused), the
    rule is read again: a write found carried out counts as done, anything else is reported as
    the error it was, never repeated on a guess.
    """
    try:
        record = sip.call_planned(plan.method, plan.body)
    except LiveKitError as exc:
        if not outcome_unknown(exc):
            raise
        if plan.action == "create":
            found = find_by_name(sip.list(page_size), plan.after["name"])
            record = sip.get_record(found["id"]) if found else None
        else:
            record = sip.get_record(plan.before["id"])
            if plan.action == "delete":
                if record is None:
                    return None
                raise
        if record is None or disagreement(plan, record.rule):
            raise exc from None
        return record
    return None if plan.action == "delete" else record


def carry_out(sip, plan, page_size=RULE_PAGE_SIZE):
    """Write ``plan`` and check the server's answer; sets ``plan.after`` to the rule after it.

    Raises WriteDisagrees when the server accepted the write but answered with a rule that
    differs from the request in a planned field.
    """
    record = write(sip, plan, page_size)
    if record is None:
        plan.after = None
        return None
    wrong = disagreement(plan, record.rule)
    if wrong:
        raise WriteDisagrees(
            "%s of the SIP dispatch rule %s was accepted, but the server's answer "
            "differs from the request in: %s; check the rule before running again"
            % (plan.method, record.rule["id"], ", ".join(wrong))
        )
    plan.after = record.rule
    return record.rule
