# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``livekit.SIP``: the dispatch-rule RPCs, on the same Twirp client as the phone numbers.

``ListSIPDispatchRule`` has no page token: a page is asked for with the last id seen as
``after_id``, and the listing ends only on an empty page. A page shorter than the limit is not
the end (servers cap pages below what is asked). A server that sends back an id already seen, or
one that does not pass ``after_id``, would make a listing repeat or skip rules; that is reported
rather than guessed around.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.livekit.sip.plugins.module_utils._dispatch_rules import (
    Rule,
    normalize_rule,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    PaginationError,
    ResponseError,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import field

SIP_SERVICE = "livekit.SIP"
RULE_PAGE_SIZE = 100


class RuleRecord:
    """A normalised rule and the server's own JSON of it (which a replace is built from)."""

    def __init__(self, raw: Dict[str, Any]) -> None:
        self.raw = raw
        self.rule = normalize_rule(raw)


class SipApi:
    def __init__(self, twirp):
        self.twirp = twirp
        self.pages = 0

    def _call(self, method, payload, request_id=None):
        return self.twirp.call(method, payload, request_id=request_id, service=SIP_SERVICE)

    def _items(self, method, response):
        items = field(response, "items") or []
        if not isinstance(items, list):
            raise ResponseError(f"{method} answered with items that are not a list")
        return items

    def list_records(self, page_size: int = RULE_PAGE_SIZE) -> List[RuleRecord]:
        """Every rule of the project, page by page until an empty page, as RuleRecords."""
        records = []
        seen = set()
        after = ""
        while True:
            response = self._call(
                "ListSIPDispatchRule", {"page": {"after_id": after, "limit": int(page_size)}}
            )
            self.pages += 1
            items = self._items("ListSIPDispatchRule", response)
            if not items:
                return records
            last = after
            for raw in items:
                record = RuleRecord(raw if isinstance(raw, dict) else {})
                rule_id = record.rule["id"]
                if not rule_id:
                    raise PaginationError(
                        "ListSIPDispatchRule sent a rule without an id after %r; stopping "
                        "(%d rules read so far)" % (after, len(records))
                    )
                if rule_id in seen or rule_id <= after:
                    raise PaginationError(
                        "ListSIPDispatchRule sent the rule %s again (or out of order) for the "
                        "page after %r; the listing cannot be trusted (%d rules read so far)"
                        % (rule_id, after, len(records))
                    )
                seen.add(rule_id)
                records.append(record)
                last = max(last, rule_id)
            after = last

    def list(self, page_size: int = RULE_PAGE_SIZE) -> List[Rule]:
        return [record.rule for record in self.list_records(page_size)]

    def get_records(self, ids: Sequence[str]) -> List[Optional[RuleRecord]]:
        """RuleRecords for ``ids`` in that order, None where the server has no such rule."""
        if not ids:
            return []
        response = self._call("ListSIPDispatchRule", {"dispatch_rule_ids": list(ids)})
        items = self._items("ListSIPDispatchRule", response)
        if len(items) != len(ids):
            raise ResponseError(
                "ListSIPDispatchRule answered %d items for %d rule ids" % (len(items), len(ids))
            )
        found = []
        for rule_id, raw in zip(ids, items):
            record = RuleRecord(raw) if isinstance(raw, dict) and raw else None
            if record is not None and record.rule["id"] != rule_id:
                if not record.rule["id"]:
                    record = None  # an empty item stands for a missing rule
                else:
                    raise ResponseError(
                        "ListSIPDispatchRule answered the rule %s where %s was asked for"
                        % (record.rule["id"], rule_id)
                    )
            found.append(record)
        return found

    def get_record(self, rule_id: str) -> Optional[RuleRecord]:
        return self.get_records([rule_id])[0]

    def _record(self, method, response):
        record = RuleRecord(response if isinstance(response, dict) else {})
        if not record.rule["id"]:
            raise ResponseError(f"{method} answered without a rule id")
        return record

    def call_planned(
        self, method: str, body: Dict[str, Any], request_id: Optional[str] = None
    ) -> RuleRecord:
        """Send a planner's request body; the RuleRecord the server answered."""
        return self._record(method, self._call(method, body, request_id=request_id))

    def create(self, info, request_id=None):
        return self.call_planned("CreateSIPDispatchRule", {"dispatch_rule": info}, request_id)

    def delete(self, rule_id, request_id=None):
        return self.call_planned(
            "DeleteSIPDispatchRule", {"sip_dispatch_rule_id": rule_id}, request_id
        )
