"""Misbehaviour on purpose: ways a real server plausibly answers that a client must survive.

Every quirk is off by default, set at start-up (a CLI flag) or at run time (POST
/_emulator/config), and kept by resets like every other start-up setting:

* ``shuffle_search``: each search answers its page in a fresh random order (the same numbers).
* ``shift_pages``: list pages after the first start this many records later than their token
  says (records skipped, as when numbers before the offset are released during a listing) or,
  when negative, earlier (records read twice, as when numbers are bought meanwhile).
* ``status_override``: held numbers are shown with this status (a name such as
  ``PHONE_NUMBER_STATUS_SUSPENDED``, or a number), as a server of a later protocol would.
* ``omit_fields``: these fields are left out of every record, and ``items``,
  ``total_count`` and ``offline_count`` out of listings.
* ``short_purchase_answers``: purchase answers leave out their last N numbers (still bought).
* ``short_purchases``: the last N numbers of each purchase are neither bought nor answered.
* ``noop_releases``: releases answer as usual and release nothing.
* ``endless_tokens``: every page of a listing or search carries a token never sent before, and
  the last one's starts over at the first page.
* ``write_delay``: purchases, updates and releases wait this many seconds before they are carried
  out, so that a client with a shorter timeout gives up on a write that still happens.
* ``clock_offset``: the emulator's clock, for token checks and the Date header, is this many
  seconds ahead (or behind, when negative).
"""

from __future__ import annotations

import random

from . import pagination
from .wire import RELEASED, STATUSES, Rendered

WRITE_METHODS = ("PurchasePhoneNumber", "UpdatePhoneNumber", "ReleasePhoneNumbers")
# Listing fields omit_fields may leave out besides record fields ("items": a listing that
# shows nothing at all, as protojson writes an empty list when told to skip defaults).
_LISTING = ("items", "total_count", "offline_count")


def shuffled(items, seed, sequence):
    """``items`` in an order drawn for this call (reproducible from the seed and call number)."""
    items = list(items)
    random.Random(f"{seed}/search/{sequence}").shuffle(items)
    return items


def list_offset(config, offset):
    """The offset a list page really starts at (the first page never shifts)."""
    if offset == 0 or not config.shift_pages:
        return offset
    return max(0, offset + config.shift_pages)


def endless_token(next_offset, limit, sequence):
    """A token fresh on every call, back to the first page after the last: a client cannot tell
    it is a loop by the token."""
    return pagination.encode(next_offset or 0, limit, round=sequence)


def purchase_keep(config, numbers):
    """The numbers a purchase really buys."""
    if config.short_purchases <= 0:
        return list(numbers)
    return list(numbers)[: max(0, len(numbers) - config.short_purchases)]


def _record(config, record, offered=False):
    if not isinstance(record, dict):
        return record
    if config.status_override and not offered and record.get("status") != STATUSES[RELEASED]:
        override = config.status_override
        record["status"] = int(override) if override.lstrip("-").isdigit() else override
    for name in config.omit_fields:
        record.pop(name, None)
    return record


def shape(config, method, response):
    """Apply the quirks that change what an answer shows (not what the call did)."""
    if method in ("ListPhoneNumbers", "SearchPhoneNumbers"):
        for item in response.get("items") or []:
            _record(config, item, offered=method == "SearchPhoneNumbers")
        for name in _LISTING:
            if name in config.omit_fields and method == "ListPhoneNumbers":
                response.pop(name, None)
    elif method == "GetPhoneNumber" or method == "UpdatePhoneNumber":
        _record(config, response.get("phone_number"))
    elif method == "PurchasePhoneNumber":
        bought = response.get("phone_numbers") or []
        if isinstance(bought, Rendered):
            # Rendered ahead only when no quirk changes the records (Store._reshaped).
            return response
        if config.short_purchase_answers > 0:
            bought = bought[: max(0, len(bought) - config.short_purchase_answers)]
        response["phone_numbers"] = [_record(config, item) for item in bought]
    return response
