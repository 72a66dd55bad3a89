# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``livekit.PhoneNumberService``: one method per RPC, returning normalised records.

Pagination lives here: listings follow page tokens to the end (tokens are opaque; whatever the
server sends as ``next_page_token`` goes back as ``page_token``) and refuse to stop early
without saying so. When the first page's token is of the protocol library's offset form and the
server says how many records there are, the pages after it are asked for in parallel ahead of
time (see ``_pagetoken``); the listing still follows the server's tokens and uses a page asked
for in advance only when its token is the one the server sent.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.livekit.sip.plugins.module_utils import _pagetoken
from ansible_collections.livekit.sip.plugins.module_utils._errors import NotFound, PaginationError
from ansible_collections.livekit.sip.plugins.module_utils._records import (
    Record,
    field,
    is_held,
    missing_fields,
    normalize_record,
    normalize_records,
    status_is_known,
    status_to_number,
)

SEARCH_PAGE_SIZE = 50
# Filters the API lacks are applied to search pages; this many pages are read at most.
SEARCH_MAX_PAGES = 20
LIST_PAGE_SIZE = 1000
# The largest page a listing asks for when it lists again: one page cannot shift while read.
LIST_PAGE_MAX = 1000
# A server that keeps sending empty pages, or pages of records already read, with fresh tokens
# would otherwise keep us busy.
MAX_EMPTY_PAGES = 3
# Pages of one listing asked for at the same time, unless the caller says otherwise.
LIST_WORKERS = 8
# One whole listing (every page) gets this many seconds; a listing also stops once it has read
# twice the server's total_count and two pages, which only a server whose tokens never end does
# (pages that shift while they are read repeat a record or two per page, not a whole page).
LIST_DEADLINE = 600.0
# How often the project is listed before a listing that cannot be shown complete is handed on.
LIST_ATTEMPTS = 3
# How many examples a description of a problem names.
EXAMPLES = 5


def _examples(items: Iterable[str]) -> str:
    items = list(items)
    text = ", ".join(str(item) for item in items[:EXAMPLES])
    if len(items) > EXAMPLES:
        text += " and %d more" % (len(items) - EXAMPLES)
    return text


class ListResult:
    """Records of a listing (each once), the server's counters, and whether it is complete.

    ``complete`` is True only when the listing shows that it holds every record: a single page
    (nothing can shift between pages), or pages that agree on ``total_count`` and hold exactly
    that many distinct records, with no record read twice. Offset pages shift when numbers are
    bought or released during the listing, so a record can be read twice or not at all; a
    planner must not count a pool or release unlisted numbers on an incomplete listing.
    ``problems`` say why it is not complete.
    """

    def __init__(
        self,
        records: List[Record],
        total_count: Optional[int],
        offline_count: int,
        pages: int,
        problems: Sequence[str] = (),
        duplicates: Sequence[str] = (),
        missing: Optional[Dict[str, List[str]]] = None,
    ) -> None:
        self.records = records
        # None when the server did not send one.
        self.total_count = total_count
        self.offline_count = offline_count
        self.pages = pages
        self.problems = list(problems)
        # Descriptions of the records read more than once (dropped from ``records``).
        self.duplicates = list(duplicates)
        # E.164 -> identifying fields the server left out of that record.
        self.missing = dict(missing or {})

    @property
    def complete(self) -> bool:
        return not self.problems

    @property
    def confirmed(self) -> bool:
        """Complete, and with a total_count that says so: a number it does not show is absent.

        A listing without total_count may be a server's way of showing nothing at all.
        """
        return self.complete and self.total_count is not None

    @property
    def held(self) -> List[Record]:
        """The records the project holds (see ``is_held``)."""
        return [record for record in self.records if is_held(record)]

    @property
    def unknown_status(self) -> List[Tuple[str, str]]:
        """Held records whose status this collection does not know: [(E.164, status)]."""
        return [
            (record["e164_format"], record["status"])
            for record in self.records
            if is_held(record) and not status_is_known(record["status"])
        ]

    @property
    def uncertain(self) -> List[str]:
        """Held numbers whose records cannot carry a release decision that no entry asked for.

        Their status is unknown, or the server left identifying fields out; they still count as
        held, so that nothing is bought in their place.
        """
        numbers = [number for number, dummy in self.unknown_status]
        numbers += [n for n in self.missing if n not in numbers]
        return numbers

    def describe(self) -> str:
        """One sentence naming why the listing is not complete ('' when it is)."""
        return "; ".join(self.problems)

    def warnings(self) -> List[str]:
        """What the modules tell the user about records they had to interpret."""
        result = []
        unknown = self.unknown_status
        if unknown:
            result.append(
                "the server lists %d numbers with a status this collection does not know (%s); "
                "they are counted as held, so nothing is bought in their place, and they are "
                "released only when an entry names them"
                % (len(unknown), _examples("%s: %s" % pair for pair in unknown))
            )
        missing = [(n, fields) for n, fields in self.missing.items() if n]
        if missing:
            result.append(
                "the server left fields out of %d records (%s); country and area code were "
                "derived from the digits where possible, and these numbers are released only "
                "when an entry names them"
                % (
                    len(missing),
                    _examples("%s: %s" % (n, "/".join(fields)) for n, fields in missing),
                )
            )
        return result


class SearchScan:
    """Offered numbers that passed a filter, and how far the offer was read to find them.

    ``exhausted``: the server had no more to offer. ``bound_reached``: reading stopped at the
    page bound with fewer matches than asked for, so more may exist beyond it.
    """

    def __init__(
        self,
        records: List[Record],
        pages: int,
        scanned: int,
        exhausted: bool,
        bound_reached: bool,
    ) -> None:
        self.records = records
        self.pages = pages
        self.scanned = scanned
        self.exhausted = exhausted
        self.bound_reached = bound_reached


def _page_token(response):
    """The opaque token of the next page, or None at the end."""
    token = field(response, "next_page_token")
    if isinstance(token, dict):
        token = token.get("token")
    if token is None or token == "":
        return None
    return str(token)


def _int(value):
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _count(response: Any, name: str) -> Optional[int]:
    """A counter of the response, or None when the server did not send it."""
    value = field(response, name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _key(item: Any) -> str:
    """What identifies a raw record across pages: its id, else its number."""
    ident = field(item, "id")
    if ident:
        return "id:%s" % ident
    return "number:%s" % field(item, "e164_format", "")


def _offered(items: Sequence[object], country: str) -> List[Record]:
    records = normalize_records(items)
    for record in records:
        # Some servers answer an alpha-3 code ("USA") for the alpha-2 one asked for; the
        # request's code is the one the caller can compare with.
        if record["country_code"] != country and len(record["country_code"]) == 3:
            record["country_code"] = country
    return records


class Prefetch:
    """Pages asked for ahead of time, by their predicted token, on a pool of threads."""

    def __init__(self, twirp, method, payloads, workers):
        self.pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(payloads))))
        self.futures = {
            payload["page_token"]["token"]: self.pool.submit(twirp.call, method, payload)
            for payload in payloads
        }

    def take(self, token):
        """The answer to the page of ``token`` (raising what its call raised), or None."""
        future = self.futures.pop(token, None)
        return None if future is None else future.result()

    def close(self):
        """Drop the pages not taken: those not yet sent are never sent."""
        for future in self.futures.values():
            future.cancel()
        self.futures = {}
        self.pool.shutdown(wait=True)


class PhoneNumberApi:
    def __init__(
        self,
        twirp,
        list_deadline: float = LIST_DEADLINE,
        clock: Callable[[], float] = time.monotonic,
        list_workers: int = LIST_WORKERS,
    ) -> None:
        self.twirp = twirp
        # 1 reads every listing one page after the other.
        self.list_workers = list_workers
        self.list_deadline = list_deadline
        self.clock = clock
        self.holdings_page_size = 0

    def _prefetch(self, method, request, want, token, first_page, response):
        """A Prefetch of the pages after the first when their tokens can be predicted, or None."""
        if self.list_workers <= 1:
            return None
        total = field(response, "total_count")
        tokens = _pagetoken.following(token, first_page, _int(total) if total else None)
        if not tokens:
            return None
        payloads = [dict(request, limit=want, page_token={"token": t}) for t in tokens]
        return Prefetch(self.twirp, method, payloads, self.list_workers)

    def _pages(self, method, request, page_size, limit=None):
        """Yield (response, items) page by page, following tokens, within bounds.

        Tokens are opaque, so a server whose tokens never end can only be recognised by what
        it sends: the same token again, pages that bring nothing new, more records than its own
        total_count, or a listing that outlasts ``list_deadline``.
        """
        seen = set()
        keys = set()
        collected = 0
        empty = 0
        total = None
        started = self.clock()
        token = None
        # A whole listing may be asked for ahead; a listing up to a limit is read as it goes, and
        # so is a search, whose reader stops as soon as it has found enough.
        fan_out = limit is None and method == "ListPhoneNumbers"
        prefetch = None
        try:
            while True:
                payload = dict(request)
                want = page_size if limit is None else min(page_size, limit - collected)
                payload["limit"] = want
                if token is not None:
                    payload["page_token"] = {"token": token}
                response = None
                if prefetch is not None:
                    response = prefetch.take(token)
                    if response is None:
                        # The server's tokens are not the ones predicted: stop guessing.
                        prefetch.close()
                        prefetch = None
                if response is None:
                    response = self.twirp.call(method, payload)
                items = field(response, "items") or []
                if not isinstance(items, list):
                    raise PaginationError(f"{method} answered with items that are not a list")
                collected += len(items)
                fresh = {_key(item) for item in items} - keys
                keys.update(fresh)
                count = _count(response, "total_count")
                if count is not None:
                    total = count if total is None else max(total, count)
                yield response, items
                token = _page_token(response)
                if fan_out and token is not None:
                    # After the first page only: its token and total_count say what follows.
                    fan_out = False
                    prefetch = self._prefetch(method, request, want, token, len(items), response)
                if token is None or (limit is not None and collected >= limit):
                    return
                pages = len(seen) + 1
                if token in seen:
                    raise PaginationError(
                        "%s sent the page token %r a second time; stopping instead of looping "
                        "(%d items read so far)" % (method, token, collected)
                    )
                seen.add(token)
                if total is not None and collected > 2 * (total + want):
                    raise PaginationError(
                        "%s kept sending page tokens: %d items read in %d pages, while its "
                        "total_count is %d (a listing stops after twice total_count and two pages, "
                        "or after %d s); stopping"
                        % (method, collected, pages, total, self.list_deadline)
                    )
                empty = empty + 1 if not fresh else 0
                if empty >= MAX_EMPTY_PAGES:
                    raise PaginationError(
                        "%s sent %d pages in a row that brought no record not read before and still "
                        "promise more; stopping (%d items in %d pages read so far, total_count %s; "
                        "a listing may also take at most %d s)"
                        % (method, empty, collected, pages, _said(total), self.list_deadline)
                    )
                elapsed = self.clock() - started
                if elapsed > self.list_deadline:
                    raise PaginationError(
                        "%s still sent page tokens after %d s (%d items in %d pages, total_count "
                        "%s; a listing may take at most %d s and read twice total_count); "
                        "stopping"
                        % (method, elapsed, collected, pages, _said(total), self.list_deadline)
                    )
        finally:
            if prefetch is not None:
                prefetch.close()

    def search(
        self,
        country_code: str,
        area_code: Optional[str] = None,
        limit: int = 50,
        page_size: int = SEARCH_PAGE_SIZE,
    ) -> List[Record]:
        """Numbers available to buy, up to ``limit``, following page tokens."""
        if limit <= 0:
            return []
        country = country_code.upper()
        request = {"country_code": country}
        if area_code:
            request["area_code"] = area_code
        records = []
        offered = set()
        for _dummy, items in self._pages("SearchPhoneNumbers", request, page_size, limit):
            for record in _offered(items, country):
                # Pages that shift offer a number twice; it is one candidate.
                if record["e164_format"] not in offered:
                    offered.add(record["e164_format"])
                    records.append(record)
        return records[:limit]

    def search_matching(
        self,
        country_code: str,
        accept: Callable[[Record], bool],
        area_code: Optional[str] = None,
        limit: int = 50,
        max_pages: int = SEARCH_MAX_PAGES,
        page_size: int = SEARCH_PAGE_SIZE,
    ) -> SearchScan:
        """Offered numbers for which ``accept(record)`` holds, up to ``limit``: a SearchScan.

        Full pages are asked for, since most of a page may not match; a number offered twice
        (offsets shift while others buy) is kept once.
        """
        country = country_code.upper()
        request = {"country_code": country}
        if area_code:
            request["area_code"] = area_code
        records = []
        seen = set()
        pages = scanned = 0
        exhausted = True
        if limit <= 0:
            return SearchScan(records, pages, scanned, False, False)
        for response, items in self._pages("SearchPhoneNumbers", request, page_size):
            pages += 1
            for record in _offered(items, country):
                scanned += 1
                if record["e164_format"] in seen:
                    continue
                seen.add(record["e164_format"])
                if accept(record):
                    records.append(record)
            more = _page_token(response) is not None
            if len(records) >= limit:
                exhausted = False
                break
            if more and pages >= max_pages:
                return SearchScan(records, pages, scanned, False, True)
            exhausted = not more
        return SearchScan(records[:limit], pages, scanned, exhausted, False)

    def list(
        self,
        statuses: Optional[Sequence[str]] = None,
        sip_dispatch_rule_id: Optional[str] = None,
        limit: Optional[int] = None,
        page_size: int = LIST_PAGE_SIZE,
    ) -> ListResult:
        """The project's numbers, every page (or the first ``limit``), each record once."""
        request = {}
        if statuses:
            request["statuses"] = [status_to_number(s) for s in statuses]
        if sip_dispatch_rule_id:
            request["sip_dispatch_rule_id"] = sip_dispatch_rule_id
        if limit is not None and limit <= 0:
            return ListResult([], 0, 0, 0)
        records = []
        by_key = {}
        held_by_number = {}
        duplicates = []
        conflicts = []
        missing = {}
        totals = []
        offline = pages = 0
        last_token = None
        read = 0
        for response, items in self._pages("ListPhoneNumbers", request, page_size, limit):
            pages += 1
            read += len(items)
            for raw in items:
                record = normalize_record(raw)
                key = _key(raw)
                if key in by_key:
                    first = by_key[key]
                    if first["e164_format"] != record["e164_format"]:
                        conflicts.append(
                            "id %s is %s on one page and %s on another"
                            % (record["id"], first["e164_format"], record["e164_format"])
                        )
                    duplicates.append(_name(record))
                    continue
                if is_held(record) and record["e164_format"] in held_by_number:
                    conflicts.append(
                        "%s is held under two ids (%s, %s)"
                        % (
                            record["e164_format"],
                            held_by_number[record["e164_format"]]["id"] or "no id",
                            record["id"] or "no id",
                        )
                    )
                    continue
                by_key[key] = record
                if is_held(record):
                    held_by_number[record["e164_format"]] = record
                    gaps = missing_fields(raw)
                    if gaps:
                        missing[record["e164_format"]] = gaps
                records.append(record)
            totals.append(_count(response, "total_count"))
            offline = _int(field(response, "offline_count"))
            last_token = _page_token(response)
        known = [t for t in totals if t is not None]
        total = known[-1] if known else None
        if limit is None and last_token is None and pages == 1 and (total or 0) > read:
            # Servers from before page tokens answer one page and stop; the count they send
            # shows it. Say so rather than return a silently shortened list.
            raise PaginationError(
                "ListPhoneNumbers returned %d of %d numbers and no page token; the rest cannot "
                "be read from this server" % (len(records), total)
            )
        problems = list(conflicts)
        if duplicates:
            problems.append(
                "%d records were read twice (%s): the pages shifted while they were read, so "
                "others may have been missed" % (len(duplicates), _examples(duplicates))
            )
        if limit is None and pages > 1:
            if len(known) < len(totals):
                problems.append(
                    "the server sent no total_count, so %d records read in %d pages cannot be "
                    "shown to be all of them" % (len(records), pages)
                )
            elif len(set(known)) > 1:
                problems.append(
                    "total_count changed from %d to %d while the %d pages were read"
                    % (known[0], known[-1], pages)
                )
            elif total != len(records):
                problems.append(
                    "the server counts %d numbers (total_count) but %d pages held %d"
                    % (total, pages, len(records))
                )
        elif limit is None and total is not None and total < len(records):
            problems.append(
                "the server counts %d numbers (total_count) but its page held %d"
                % (total, len(records))
            )
        if limit is not None:
            records = records[:limit]
        return ListResult(
            records,
            total,
            offline,
            pages,
            problems=problems,
            duplicates=duplicates,
            missing=missing,
        )

    def holdings(
        self, page_size: int = LIST_PAGE_SIZE, attempts: int = LIST_ATTEMPTS
    ) -> ListResult:
        """Every record of the project, listed again while the listing cannot be shown complete.

        No status filter is sent: a filter of the statuses this collection knows would hide
        numbers held under a status added later. Listings after the first ask for the largest
        pages, since a single page cannot shift. Returns the first complete ListResult, else
        the last one; its ``problems`` say what is wrong.
        """
        listing = None
        for attempt in range(max(1, attempts)):
            size = page_size if attempt == 0 else max(page_size, LIST_PAGE_MAX)
            size = max(size, self.holdings_page_size)
            listing = self.list(page_size=size)
            if listing.complete:
                if attempt:
                    # Later listings of this run start with the pages that worked.
                    self.holdings_page_size = size
                break
        return listing

    def lookup(self, phone_numbers: Iterable[str]) -> Dict[str, Optional[Record]]:
        """GetPhoneNumber for each number: {E.164: record or None (unknown to the server)}.

        Used for numbers a user named that a listing does not mention at all, before they are
        judged absent.
        """
        return {number: self.get(phone_number=number) for number in phone_numbers}

    def get(self, id: Optional[str] = None, phone_number: Optional[str] = None) -> Optional[Record]:
        """One number by id or E.164, or None when the server does not know it."""
        request = {"id": id} if id else {"phone_number": phone_number}
        try:
            response = self.twirp.call("GetPhoneNumber", request)
        except NotFound:
            return None
        raw = field(response, "phone_number")
        if not raw:
            return None
        return normalize_record(raw)

    def purchase(
        self,
        phone_numbers: Sequence[str],
        sip_dispatch_rule_id: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> List[Record]:
        request = {"phone_numbers": list(phone_numbers)}
        if sip_dispatch_rule_id:
            request["sip_dispatch_rule_id"] = sip_dispatch_rule_id
        response = self.twirp.call("PurchasePhoneNumber", request, request_id=request_id)
        return normalize_records(field(response, "phone_numbers"))

    def update(
        self,
        sip_dispatch_rule_id: Optional[str],
        id: Optional[str] = None,
        phone_number: Optional[str] = None,
        request_id: Optional[str] = None,
        name: Optional[str] = None,
    ) -> Record:
        """Set the number's rule, its label (``name``, protocol 1.52), or both in one call.

        A rule or name of None is left out of the request, so the server leaves it alone.
        """
        request = {"id": id} if id else {"phone_number": phone_number}
        if sip_dispatch_rule_id is not None:
            request["sip_dispatch_rule_id"] = sip_dispatch_rule_id
        if name is not None:
            request["name"] = name
        response = self.twirp.call("UpdatePhoneNumber", request, request_id=request_id)
        return normalize_record(field(response, "phone_number"))

    def release(
        self,
        ids: Optional[Sequence[str]] = None,
        phone_numbers: Optional[Sequence[str]] = None,
        request_id: Optional[str] = None,
    ) -> None:
        request = {}
        if ids:
            request["ids"] = list(ids)
        if phone_numbers:
            request["phone_numbers"] = list(phone_numbers)
        self.twirp.call("ReleasePhoneNumbers", request, request_id=request_id)


def _said(value: Optional[int]) -> str:
    return "not sent" if value is None else str(value)


def _name(record: Record) -> str:
    if record["id"] and record["e164_format"]:
        return "%s (%s)" % (record["e164_format"], record["id"])
    return record["e164_format"] or record["id"] or "a record without id or number"
