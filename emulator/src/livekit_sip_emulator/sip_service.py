"""livekit.SIP's dispatch-rule RPCs on the store: decoding, the rule book, the effect on numbers.

Deleting a rule takes it off every number routed to it; a number left without a rule reads
OFFLINE, as one bought without a rule does. Callers hold the store's lock.
"""

from __future__ import annotations

from . import sip_wire
from .sip_rules import REQUESTS, SIP_METHODS, RuleBook
from .wire import TwirpError, invalid


def execute(store, method, body, now):
    """The rendered answer (bytes) of one dispatch-rule call; raises TwirpError."""
    request = sip_wire.decode_request(body, REQUESTS[method])
    config = store.config
    book = store.rules
    if method == "ListSIPDispatchRule":
        items = book.list(request, config.max_rule_page_size)
        return sip_wire.render_list(items, config.json_names, config.skip_defaults)
    if method == "CreateSIPDispatchRule":
        info = book.create(request, now)
        store.counters.rule_writes["created"] += 1
    elif method == "UpdateSIPDispatchRule":
        info = book.update(request, now)
        store.counters.rule_writes["replaced" if "replace" in request else "updated"] += 1
    else:
        info = book.delete(request)
        store.counters.rule_writes["deleted"] += 1
        rule_id = info["sip_dispatch_rule_id"]
        for record in store.records:
            if rule_id in record.rule_ids:
                record.rule_ids = [other for other in record.rule_ids if other != rule_id]
                record.updated_at = now
        store._changed()
    return sip_wire.render("SIPDispatchRuleInfo", info, config.json_names, config.skip_defaults)


def check_rule_id(store, rule_id):
    """With check_rule_ids, routing a number to a rule that does not exist is refused."""
    if store.config.check_rule_ids and rule_id and rule_id not in store.rules.rules:
        raise invalid(
            f"sip_dispatch_rule_id {rule_id} names no dispatch rule of the project",
            sip_dispatch_rule_id=rule_id,
        )


def load_rules(seed, entries):
    """A RuleBook holding the rules of a state file's ``sip_dispatch_rules`` list."""
    book = RuleBook(seed)
    if entries is None:
        return book
    if not isinstance(entries, list):
        raise ValueError("sip_dispatch_rules must be a list")

    def decode(entry, index):
        try:
            return sip_wire.decode_message(
                f"sip_dispatch_rules[{index}]", "SIPDispatchRuleInfo", entry
            )
        except TwirpError as err:
            raise ValueError(err.msg) from None

    book.load(entries, decode)
    return book


def dump_rules(store):
    return [sip_wire.encode_message("SIPDispatchRuleInfo", info) for info in store.rules.dump()]


__all__ = ["SIP_METHODS", "check_rule_id", "dump_rules", "execute", "load_rules"]
