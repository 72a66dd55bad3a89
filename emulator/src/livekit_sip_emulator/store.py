"""The project's state and the six methods of the Phone Number service, behind one lock."""

from __future__ import annotations

import collections
import hashlib
import re
import threading
import time

from . import pagination, quirks, sip_service, wire
from .config import RUNTIME_KEYS
from .counters import AnswerCache, Counters
from .inventory import inventory
from .model import listing_to_wire, record_from_listing, record_from_state
from .sip_rules import RuleBook
from .wire import (
    E164,
    INT32,
    OFFLINE,
    PAGE_TOKEN,
    STATUS_LIST,
    STRING,
    STRINGS,
    TwirpError,
    invalid,
)

# The request fields each method reads, as the protocol defines them (protocol 1.52); any other
# field is ignored, as the real server's protojson decoder ignores unknown fields. A test checks
# this table against the field lists of the published protocol (tests/data/protocol).
SCHEMAS = {
    "SearchPhoneNumbers": {
        "country_code": STRING,
        "area_code": STRING,
        "limit": INT32,
        "page_token": PAGE_TOKEN,
    },
    "PurchasePhoneNumber": {"phone_numbers": STRINGS, "sip_dispatch_rule_id": STRING},
    "ListPhoneNumbers": {
        "limit": INT32,
        "statuses": STATUS_LIST,
        "page_token": PAGE_TOKEN,
        "sip_dispatch_rule_id": STRING,
    },
    "GetPhoneNumber": {"id": STRING, "phone_number": STRING},
    "UpdatePhoneNumber": {
        "id": STRING,
        "phone_number": STRING,
        "sip_dispatch_rule_id": STRING,
        "name": STRING,
    },
    "ReleasePhoneNumbers": {"ids": STRINGS, "phone_numbers": STRINGS},
}
# A server that predates protocol 1.52 does not know UpdatePhoneNumberRequest.name.
SCHEMAS_BEFORE_1_52 = dict(
    SCHEMAS,
    UpdatePhoneNumber={
        key: kind for key, kind in SCHEMAS["UpdatePhoneNumber"].items() if key != "name"
    },
)
REQUEST_SCHEMAS = {"1.52": SCHEMAS, "pre-1.52": SCHEMAS_BEFORE_1_52}

_ALPHA2 = re.compile(r"^[A-Za-z]{2}$")
_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def now_ns():
    # Microsecond precision, like the timestamps a database would hand back.
    return time.time_ns() // 1000 * 1000


def _mint_id(seed, sequence, taken):
    """Ids depend only on the seed and the purchase sequence, so runs are reproducible."""
    while True:
        sequence += 1
        value = int.from_bytes(
            hashlib.sha256(("%s/%d" % (seed, sequence)).encode()).digest()[:12], "big"
        )
        chars = []
        for _index in range(12):
            value, digit = divmod(value, len(_ID_ALPHABET))
            chars.append(_ID_ALPHABET[digit])
        candidate = "PN_" + "".join(chars)
        if candidate not in taken:
            return candidate, sequence


def _listed(numbers):
    return ", ".join(numbers)


def _unique(items):
    return list(dict.fromkeys(items))


class Store:
    def __init__(self, config):
        self.lock = threading.Lock()
        self.base_config = config
        self.counters = Counters()
        self._clear(config)

    def _clear(self, config):
        self.config = config
        self.inventory = inventory(config.inventory_size, config.seed)
        self.rules = RuleBook(config.seed)
        self._install([], 0)

    def _install(self, records, sequence):
        self.records = records
        self.by_id = {record.id: record for record in records}
        self.held = {record.e164_format: record for record in records if record.held}
        self.latest = {record.e164_format: record for record in records}
        self.sequence = sequence
        self.cache = AnswerCache(self.config.request_cache_size)
        # Numbers the calls of quirks draw from (search order, fresh endless tokens).
        self.quirk_calls = 0
        self.cursors = pagination.Cursors(self.config.seed)
        # Listing a large project page by page must not cost a scan and a rendering of every
        # record per page: the records a filter matches are kept until the next write (or until
        # a number still being provisioned changes status), and each record's JSON until it
        # changes. ``generation`` counts the writes.
        self.generation = 0
        self.settled_at = max((record.ready_at for record in records), default=0)
        self.matches = {}
        self.fragments = {}

    def _changed(self):
        self.generation += 1
        self.matches = {}

    def _cursors(self):
        return self.cursors if self.config.page_tokens == "cursor" else None

    # ------------------------------------------------------------ entry points for the HTTP layer

    def execute(self, method, body, request_id):
        """Answer one API call: (HTTP status, body bytes, Twirp error code or None)."""
        with self.lock:
            key = (request_id, method)
            if request_id:
                answer = self.cache.get(key)
                if answer is not None:
                    self.counters.replays += 1
                    return answer
            try:
                if method in sip_service.SIP_METHODS:
                    answer = (200, sip_service.execute(self, method, body, now_ns()), None)
                else:
                    schema = self.config.schema
                    request = wire.decode_request(body, REQUEST_SCHEMAS[schema][method])
                    for name in request.ignored:
                        self.counters.ignored(method, name)
                    response = getattr(self, "_" + method)(request)
                    if schema == "pre-1.52":
                        response = wire.without_fields(response, wire.FIELDS_SINCE_1_52)
                    response = quirks.shape(self.config, method, response)
                    answer = (
                        200,
                        wire.render(response, self.config.json_names, self.config.skip_defaults),
                        None,
                    )
            except TwirpError as err:
                answer = (err.status, err.body(), err.code)
            if request_id:
                self.cache.put(key, answer)
            return answer

    def count_call(self, method):
        with self.lock:
            self.counters.calls[method] += 1

    def count_error(self, code):
        with self.lock:
            self.counters.error(code)

    def count_fault(self, kind):
        with self.lock:
            self.counters.faults[kind] += 1

    # ------------------------------------------------------------ API methods

    def _SearchPhoneNumbers(self, request):
        country = request["country_code"] or ""
        if not country:
            raise invalid("country_code is required", field="country_code")
        if not _ALPHA2.match(country):
            raise invalid(
                f"country_code must be an ISO 3166-1 alpha-2 code, got {country!r}",
                field="country_code",
            )
        area = request["area_code"] or ""
        if area and not area.isdigit():
            raise invalid(f"area_code must contain digits only, got {area!r}", field="area_code")
        offset, limit = pagination.window(request, self.config.max_page_size, self._cursors())
        items, skipped, more = [], 0, False
        self.quirk_calls += 1
        for listing in self.inventory.candidates(country.upper(), area):
            if listing.e164_format in self.held:
                continue
            if skipped < offset:
                skipped += 1
            elif len(items) == limit:
                more = True
                break
            else:
                items.append(listing_to_wire(listing))
        token = pagination.next_token(offset, limit, len(items), more, self._cursors())
        if self.config.shuffle_search:
            items = quirks.shuffled(items, self.config.seed, self.quirk_calls)
        if self.config.endless_tokens:
            token = quirks.endless_token(more and offset + len(items), limit, self.quirk_calls)
        return {"items": items, "next_page_token": token}

    def _PurchasePhoneNumber(self, request):
        numbers = request["phone_numbers"] or []
        if not numbers:
            raise invalid("phone_numbers is required", field="phone_numbers")
        malformed = _unique(number for number in numbers if not E164.match(number))
        if malformed:
            raise invalid(
                f"phone numbers are not in E.164 format: {_listed(malformed)}",
                numbers=",".join(malformed),
            )
        times = collections.Counter(numbers)
        repeated = _unique(number for number in numbers if times[number] > 1)
        if repeated:
            raise invalid(
                f"phone numbers repeated in the request: {_listed(repeated)}",
                numbers=",".join(repeated),
            )
        held = [number for number in numbers if number in self.held]
        unknown = [
            number
            for number in numbers
            if number not in self.held and self.inventory.get(number) is None
        ]
        if held or unknown:
            offending = [number for number in numbers if number in held or number in unknown]
            raise TwirpError(
                "not_found" if unknown else "failed_precondition",
                f"phone numbers not available: {_listed(offending)}",
                {"numbers": ",".join(offending)},
            )
        sip_service.check_rule_id(self, request["sip_dispatch_rule_id"])
        quota = self.config.quota
        if len(self.held) + len(numbers) > quota:
            raise TwirpError(
                "resource_exhausted",
                "phone number quota exceeded: the project holds %d of its quota of %d numbers and cannot purchase %d more: %s"
                % (len(self.held), quota, len(numbers), _listed(numbers)),
                {"numbers": ",".join(numbers), "quota": quota, "held": len(self.held)},
            )
        now = now_ns()
        bought = []
        for number in quirks.purchase_keep(self.config, numbers):
            record_id, self.sequence = _mint_id(self.config.seed, self.sequence, self.by_id)
            record = record_from_listing(
                self.inventory.get(number),
                record_id,
                now,
                self.config.provisioning_delay,
                request["sip_dispatch_rule_id"],
            )
            self.records.append(record)
            self.by_id[record_id] = self.held[number] = self.latest[number] = record
            self.settled_at = max(self.settled_at, record.ready_at)
            self.counters.purchased(number)
            bought.append(record)
        self._changed()
        if self._reshaped():
            return {"phone_numbers": [record.to_wire(now) for record in bought]}
        # Rendered now, the answer's records serve the listings that follow too.
        return {"phone_numbers": wire.Rendered(self._fragment(r, now) for r in bought)}

    def _ListPhoneNumbers(self, request):
        statuses = frozenset(request["statuses"] or ())
        rule = request["sip_dispatch_rule_id"] or ""
        offset, limit = pagination.window(request, self.config.max_page_size, self._cursors())
        offset = quirks.list_offset(self.config, offset)
        self.quirk_calls += 1
        now = now_ns()
        matches, offline = self._matching(statuses, rule, now)
        page = matches[offset : offset + limit]
        more = offset + len(page) < len(matches)
        token = pagination.next_token(offset, limit, len(page), more, self._cursors())
        if self.config.endless_tokens:
            token = quirks.endless_token(more and offset + len(page), limit, self.quirk_calls)
        if self._reshaped():
            items = [record.to_wire(now) for record in page]
        else:
            items = wire.Rendered(self._fragment(record, now) for record in page)
        return {
            "items": items,
            "next_page_token": token,
            "total_count": len(matches),
            "offline_count": offline,
        }

    def _reshaped(self):
        """True when quirks change the records an answer shows: they need them as dicts."""
        config = self.config
        return bool(
            config.status_override
            or config.omit_fields
            or config.short_purchase_answers
            or config.schema != "1.52"
        )

    def _matching(self, statuses, rule, now):
        """The records a listing's filters match, and how many are OFFLINE; cached until a write."""
        key = (statuses, rule)
        # While a number is being provisioned its status changes with time alone.
        stable = now >= self.settled_at
        if stable and key in self.matches:
            return self.matches[key]
        matches, offline = [], 0
        for record in self.records:
            status = record.status(now)
            if (not statuses or status in statuses) and (not rule or rule in record.rule_ids):
                matches.append(record)
                offline += status == OFFLINE
        if stable:
            self.matches[key] = (matches, offline)
        return matches, offline

    def _fragment(self, record, now):
        """The record's JSON as the configured server variant writes it, kept until it changes."""
        config = self.config
        key = (
            record.status(now),
            record.updated_at,
            record.released_at,
            tuple(record.rule_ids),
            record.name,
            config.json_names,
            config.skip_defaults,
        )
        cached = self.fragments.get(record.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        fragment = wire.render(record.to_wire(now), config.json_names, config.skip_defaults)
        self.fragments[record.id] = (key, fragment)
        return fragment

    def _lookup(self, request):
        record_id = request["id"] or ""
        number = request["phone_number"] or ""
        if not record_id and not number:
            raise invalid("id or phone_number is required")
        if number and not E164.match(number):
            raise invalid(f"phone_number is not in E.164 format: {number!r}", field="phone_number")
        if record_id:
            record = self.by_id.get(record_id)
            if record is None:
                raise TwirpError(
                    "not_found", f"phone number not found: {record_id}", {"id": record_id}
                )
            if number and record.e164_format != number:
                raise invalid(f"id {record_id} is phone number {record.e164_format}, not {number}")
            return record
        # A number bought again has several records; the one held now wins, else the last released.
        record = self.held.get(number) or self.latest.get(number)
        if record is None:
            raise TwirpError(
                "not_found", f"phone number not found: {number}", {"phone_number": number}
            )
        return record

    def _GetPhoneNumber(self, request):
        return {"phone_number": self._lookup(request).to_wire(now_ns())}

    def _UpdatePhoneNumber(self, request):
        record = self._lookup(request)
        if not record.held:
            raise TwirpError(
                "failed_precondition",
                f"phone number {record.e164_format} ({record.id}) is released",
                {"id": record.id, "phone_number": record.e164_format},
            )
        rule = request["sip_dispatch_rule_id"]
        sip_service.check_rule_id(self, rule)
        # Absent from a pre-1.52 schema, so such a server leaves labels alone.
        name = request.get("name")
        now = now_ns()
        if rule is not None and [rule] != record.rule_ids and (rule or record.rule_ids):
            record.rule_ids = [rule] if rule else []
            record.updated_at = now
            self.counters.writes["routed"] += 1
            self._changed()
        if name is not None and name != record.name:
            record.name = name
            record.updated_at = now
            self.counters.labelled += 1
            self._changed()
        return {"phone_number": record.to_wire(now)}

    def _ReleasePhoneNumbers(self, request):
        ids = request["ids"] or []
        numbers = request["phone_numbers"] or []
        if not ids and not numbers:
            raise invalid("ids or phone_numbers is required")
        malformed = _unique(number for number in numbers if not E164.match(number))
        if malformed:
            raise invalid(
                f"phone numbers are not in E.164 format: {_listed(malformed)}",
                numbers=",".join(malformed),
            )
        targets = [self.by_id.get(record_id) for record_id in ids]
        targets += [self.held.get(number) or self.latest.get(number) for number in numbers]
        unknown = _unique(name for name, record in zip(ids + numbers, targets) if record is None)
        if unknown:
            raise TwirpError(
                "not_found",
                f"phone numbers not found: {_listed(unknown)}",
                {"numbers": ",".join(unknown)},
            )
        now = now_ns()
        for record in _unique(targets):
            # Releasing a released number again changes nothing and is not an error.
            if record.held and not self.config.noop_releases:
                record.released_at = record.updated_at = now
                del self.held[record.e164_format]
                self.counters.writes["released"] += 1
        self._changed()
        return {}

    # ------------------------------------------------------------ introspection

    def reset(self, overrides):
        config = self.base_config.with_settings(overrides)
        with self.lock:
            self._clear(config)
            self.counters = Counters()
        return config

    def configure(self, changes):
        with self.lock:
            self.config = self.config.with_settings(changes, RUNTIME_KEYS)
            # A provisioning delay changes what a status will be: list from scratch.
            self._changed()
            return self.config

    def counters_snapshot(self):
        with self.lock:
            return self.counters.snapshot()

    def reset_counters(self):
        with self.lock:
            self.counters = Counters()

    def dump(self):
        with self.lock:
            now = now_ns()
            return {
                "version": 1,
                "config": self.config.behaviour(),
                "sequence": self.sequence,
                "numbers": [record.to_state(now) for record in self.records],
                "sip_dispatch_rules": sip_service.dump_rules(self),
            }

    def load(self, state):
        """Replace the project's numbers (and the settings a dump carries); all or nothing."""
        if not isinstance(state, dict):
            raise ValueError("a state must be a JSON object")
        numbers = state.get("numbers")
        numbers = [] if numbers is None else numbers
        if not isinstance(numbers, list):
            raise ValueError("numbers must be a list")
        sequence = state.get("sequence", 0)
        if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 0:
            raise ValueError("sequence must be a non-negative integer")
        with self.lock:
            config = self.config.with_settings(state.get("config") or {})
            stock = inventory(config.inventory_size, config.seed)
            taken = {
                entry.get("id") for entry in numbers if isinstance(entry, dict) and entry.get("id")
            }
            now = now_ns()
            records, by_id, held = [], {}, set()

            def new_id():
                nonlocal sequence
                record_id, sequence = _mint_id(config.seed, sequence, taken)
                taken.add(record_id)
                return record_id

            for entry in numbers:
                listing = stock.get(entry.get("e164_format")) if isinstance(entry, dict) else None
                record = record_from_state(entry, listing, new_id, now, config.provisioning_delay)
                if record.id in by_id:
                    raise ValueError(f"id {record.id} appears twice")
                if record.held and record.e164_format in held:
                    raise ValueError(f"{record.e164_format} is held twice")
                by_id[record.id] = record
                if record.held:
                    held.add(record.e164_format)
                records.append(record)
            rules = sip_service.load_rules(config.seed, state.get("sip_dispatch_rules"))
            self.config = config
            self.inventory = stock
            self.rules = rules
            self._install(records, sequence)
            return len(records)
