"""Counters that tests assert on, and the cache of answers by request id. Callers hold the store lock."""

from __future__ import annotations

import collections
import copy

from .config import ALL_METHODS, FAULT_KINDS


class Counters:
    def __init__(self):
        self.calls = dict.fromkeys(ALL_METHODS, 0)
        self.errors = {}
        # Numbers actually changed, not calls: a check-mode run or a replay leaves these alone.
        self.writes = {"purchased": 0, "routed": 0, "released": 0}
        # Labels changed (UpdatePhoneNumber name); apart from ``writes``, whose keys stay fixed.
        self.labelled = 0
        # Request fields the protocol does not define, ignored as the real server ignores them:
        # {method: {field: count}}. A client that sends one relies on something no server does.
        self.ignored_fields = {}
        self.purchases_by_number = {}
        # Dispatch rules actually written, by kind of write.
        self.rule_writes = {"created": 0, "updated": 0, "replaced": 0, "deleted": 0}
        self.replays = 0
        self.faults = dict.fromkeys(FAULT_KINDS, 0)

    def ignored(self, method, name):
        fields = self.ignored_fields.setdefault(method, {})
        fields[name] = fields.get(name, 0) + 1

    def error(self, code):
        self.errors[code] = self.errors.get(code, 0) + 1

    def purchased(self, e164):
        self.writes["purchased"] += 1
        self.purchases_by_number[e164] = self.purchases_by_number.get(e164, 0) + 1

    def snapshot(self):
        return copy.deepcopy(
            {
                "calls": self.calls,
                "errors": self.errors,
                "writes": self.writes,
                "labelled": self.labelled,
                "ignored_fields": self.ignored_fields,
                "purchases_by_number": self.purchases_by_number,
                "rule_writes": self.rule_writes,
                "replays": self.replays,
                "faults": self.faults,
            }
        )


class AnswerCache:
    """Least-recently-used map of (request id, method) to the first answer given."""

    def __init__(self, size):
        self.size = size
        self.entries = collections.OrderedDict()

    def get(self, key):
        answer = self.entries.get(key)
        if answer is not None:
            self.entries.move_to_end(key)
        return answer

    def put(self, key, answer):
        self.entries[key] = answer
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def __len__(self):
        return len(self.entries)
