"""A number the project holds or held, and its wire form."""

from __future__ import annotations

import dataclasses

from . import wire
from .wire import (
    ACTIVE,
    IN_ACTIVE,
    IN_DETACHED,
    IN_UNAVAILABLE,
    IN_UNSPECIFIED,
    INBOUND_STATUSES,
    NUMBER_TYPES,
    OFFLINE,
    OUT_UNAVAILABLE,
    OUT_UNSPECIFIED,
    OUTBOUND_STATUSES,
    PENDING,
    RELEASED,
    STATUSES,
    UNSPECIFIED,
)

# inbound_status follows from status, that is from routing (see README: "Call statuses").
INBOUND_BY_STATUS = {
    ACTIVE: IN_ACTIVE,
    OFFLINE: IN_DETACHED,
    PENDING: IN_UNAVAILABLE,
    RELEASED: IN_UNAVAILABLE,
    UNSPECIFIED: IN_UNSPECIFIED,
}


@dataclasses.dataclass(eq=False)
class NumberRecord:
    id: str
    e164_format: str
    country_code: str
    area_code: str
    number_type: int
    locality: str
    region: str
    spam_score: float
    capabilities: list
    created_at: int
    updated_at: int
    assigned_at: int
    ready_at: int
    released_at: int = None
    rule_ids: list = dataclasses.field(default_factory=list)
    name: str = ""

    @property
    def held(self):
        return self.released_at is None

    def status(self, now):
        # Computed on read, so that PENDING turns into ACTIVE/OFFLINE without a background task.
        if self.released_at is not None:
            return RELEASED
        if now < self.ready_at:
            return PENDING
        return ACTIVE if self.rule_ids else OFFLINE

    def to_wire(self, now):
        status = self.status(now)
        return {
            "id": self.id,
            "name": self.name,
            "e164_format": self.e164_format,
            "country_code": self.country_code,
            "area_code": self.area_code,
            "number_type": NUMBER_TYPES[self.number_type],
            "locality": self.locality,
            "region": self.region,
            "spam_score": self.spam_score,
            "created_at": wire.format_timestamp(self.created_at),
            "updated_at": wire.format_timestamp(self.updated_at),
            "capabilities": list(self.capabilities),
            "status": STATUSES[status],
            "inbound_status": INBOUND_STATUSES[INBOUND_BY_STATUS[status]],
            # LiveKit's numbers are inbound only for now.
            "outbound_status": OUTBOUND_STATUSES[OUT_UNAVAILABLE],
            "assigned_at": wire.format_timestamp(self.assigned_at),
            "released_at": wire.format_timestamp(self.released_at),
            "sip_dispatch_rule_id": self.rule_ids[0] if self.rule_ids else "",
            "sip_dispatch_rule_ids": list(self.rule_ids),
        }

    def to_state(self, now):
        state = self.to_wire(now)
        state["ready_at"] = wire.format_timestamp(self.ready_at)
        return state


def listing_to_wire(listing):
    """A search result: an offer from the inventory, not a project's number, so no id and no status."""
    return {
        "id": "",
        "name": "",
        "e164_format": listing.e164_format,
        "country_code": listing.country_code,
        "area_code": listing.area_code,
        "number_type": NUMBER_TYPES[listing.number_type],
        "locality": listing.locality,
        "region": listing.region,
        "spam_score": listing.spam_score,
        "created_at": None,
        "updated_at": None,
        "capabilities": list(listing.capabilities),
        "status": STATUSES[UNSPECIFIED],
        "inbound_status": INBOUND_STATUSES[IN_UNSPECIFIED],
        "outbound_status": OUTBOUND_STATUSES[OUT_UNSPECIFIED],
        "assigned_at": None,
        "released_at": None,
        "sip_dispatch_rule_id": "",
        "sip_dispatch_rule_ids": [],
    }


def _enum(value, names, field):
    if isinstance(value, str) and value in names:
        return names.index(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return value
    raise ValueError(f"{field}: unknown value {value!r}")


def _text(entry, field, default=""):
    value = entry.get(field, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string, got {value!r}")
    return value


def record_from_state(entry, listing, new_id, now, provisioning_delay):
    """Rebuild a record from a state file; a hand-written entry may give little more than e164_format."""
    if not isinstance(entry, dict):
        raise ValueError(f"each number must be an object, got {entry!r}")
    e164 = _text(entry, "e164_format")
    if not wire.E164.match(e164):
        raise ValueError(f"e164_format is not E.164: {e164!r}")
    status = _enum(entry.get("status", STATUSES[UNSPECIFIED]), STATUSES, "status")
    created = wire.parse_timestamp(entry.get("created_at")) or now
    ready = wire.parse_timestamp(entry.get("ready_at"))
    if ready is None:
        ready = created + int(provisioning_delay * 1e9) if status == PENDING else created
    released = wire.parse_timestamp(entry.get("released_at"))
    if released is None and status == RELEASED:
        released = now
    rules = entry.get("sip_dispatch_rule_ids") or []
    if not isinstance(rules, list) or not all(isinstance(rule, str) and rule for rule in rules):
        raise ValueError("sip_dispatch_rule_ids must be a list of non-empty strings")
    if not rules and _text(entry, "sip_dispatch_rule_id"):
        rules = [entry["sip_dispatch_rule_id"]]
    capabilities = entry.get("capabilities", list(listing.capabilities) if listing else ["voice"])
    if not isinstance(capabilities, list) or not all(
        isinstance(item, str) for item in capabilities
    ):
        raise ValueError("capabilities must be a list of strings")
    spam = entry.get("spam_score", listing.spam_score if listing else 0.0)
    if isinstance(spam, bool) or not isinstance(spam, (int, float)):
        raise ValueError("spam_score must be a number")
    return NumberRecord(
        id=_text(entry, "id") or new_id(),
        e164_format=e164,
        country_code=_text(entry, "country_code", listing.country_code if listing else ""),
        area_code=_text(entry, "area_code", listing.area_code if listing else ""),
        number_type=_enum(
            entry.get("number_type", listing.number_type if listing else 0),
            NUMBER_TYPES,
            "number_type",
        ),
        locality=_text(entry, "locality", listing.locality if listing else ""),
        region=_text(entry, "region", listing.region if listing else ""),
        spam_score=float(spam),
        capabilities=list(capabilities),
        created_at=created,
        updated_at=wire.parse_timestamp(entry.get("updated_at")) or created,
        assigned_at=wire.parse_timestamp(entry.get("assigned_at")) or created,
        ready_at=ready,
        released_at=released,
        rule_ids=list(rules),
        name=_text(entry, "name"),
    )


def record_from_listing(listing, record_id, now, provisioning_delay, rule_id):
    return NumberRecord(
        id=record_id,
        e164_format=listing.e164_format,
        country_code=listing.country_code,
        area_code=listing.area_code,
        number_type=listing.number_type,
        locality=listing.locality,
        region=listing.region,
        spam_score=listing.spam_score,
        capabilities=list(listing.capabilities),
        created_at=now,
        updated_at=now,
        assigned_at=now,
        ready_at=now + int(provisioning_delay * 1e9),
        released_at=None,
        rule_ids=[rule_id] if rule_id else [],
    )
