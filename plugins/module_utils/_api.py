# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``livekit.PhoneNumberService``: one method per RPC, returning normalised records.

Pagination lives here: listings follow page tokens to the end (tokens are opaque; whatever the
server sends as ``next_page_token`` goes back as ``page_token``) and refuse to stop early
without saying so.
"""

from __future__ import annotations

from typing import Callable, List, Optional, Sequence

from ansible_collections.livekit.sip.plugins.module_utils._errors import NotFound, PaginationError
from ansible_collections.livekit.sip.plugins.module_utils._records import (
    Record,
    field,
    normalize_record,
    normalize_records,
    status_to_number,
)

SEARCH_PAGE_SIZE = 50
# Filters the API lacks are applied to search pages; this many pages are read at most.
SEARCH_MAX_PAGES = 20
LIST_PAGE_SIZE = 500
# A server that keeps sending empty pages with fresh tokens would otherwise keep us busy.
MAX_EMPTY_PAGES = 3


class ListResult:
    """Records of a listing plus the server's counters."""

    def __init__(
        self, records: List[Record], total_count: int, offline_count: int, pages: int
    ) -> None:
        self.records = records
        self.total_count = total_count
        self.offline_count = offline_count
        self.pages = pages


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


def _offered(items: Sequence[object], country: str) -> List[Record]:
    records = normalize_records(items)
    for record in records:
        # Some servers answer an alpha-3 code ("USA") for the alpha-2 one asked for; the
        # request's code is the one the caller can compare with.
        if record["country_code"] != country and len(record["country_code"]) == 3:
            record["country_code"] = country
    return records


class PhoneNumberApi:
    def __init__(self, twirp):
        self.twirp = twirp

    def _pages(self, method, request, page_size, limit=None):
        """Yield (response, items) page by page, following tokens."""
        seen = set()
        collected = 0
        empty = 0
        token = None
        while True:
            payload = dict(request)
            want = page_size if limit is None else min(page_size, limit - collected)
            payload["limit"] = want
            if token is not None:
                payload["page_token"] = {"token": token}
            response = self.twirp.call(method, payload)
            items = field(response, "items") or []
            if not isinstance(items, list):
                raise PaginationError(f"{method} answered with items that are not a list")
            collected += len(items)
            yield response, items
            token = _page_token(response)
            if token is None or (limit is not None and collected >= limit):
                return
            if token in seen:
                raise PaginationError(
                    "%s sent the page token %r a second time; stopping instead of looping "
                    "(%d items read so far)" % (method, token, collected)
                )
            seen.add(token)
            empty = empty + 1 if not items else 0
            if empty >= MAX_EMPTY_PAGES:
                raise PaginationError(
                    "%s sent %d empty pages in a row that still promise more; stopping "
                    "(%d items read so far)" % (method, empty, collected)
                )

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
        for _dummy, items in self._pages("SearchPhoneNumbers", request, page_size, limit):
            records.extend(_offered(items, country))
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
        """The project's numbers, every page (or the first ``limit``)."""
        request = {}
        if statuses:
            request["statuses"] = [status_to_number(s) for s in statuses]
        if sip_dispatch_rule_id:
            request["sip_dispatch_rule_id"] = sip_dispatch_rule_id
        if limit is not None and limit <= 0:
            return ListResult([], 0, 0, 0)
        records = []
        total = offline = pages = 0
        last_token = None
        for response, items in self._pages("ListPhoneNumbers", request, page_size, limit):
            pages += 1
            records.extend(normalize_records(items))
            total = _int(field(response, "total_count"))
            offline = _int(field(response, "offline_count"))
            last_token = _page_token(response)
        if limit is None and last_token is None and total > len(records):
            # Servers from before page tokens answer one page and stop; the count they send
            # shows it. Say so rather than return a silently shortened list.
            raise PaginationError(
                "ListPhoneNumbers returned %d of %d numbers and no page token; the rest cannot "
                "be read from this server" % (len(records), total)
            )
        if limit is not None:
            records = records[:limit]
        return ListResult(records, total, offline, pages)

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
