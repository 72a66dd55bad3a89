# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one executor: reading the project, searching for pools, carrying out a Plan, waiting.

Both writing modules run their plans here, and report what was done through one Progress, so
that a task that fails part-way still says what it bought, routed and released.

* Purchases: one call per dispatch rule and ``batch_size`` numbers. A purchase refused because
  candidates were taken meanwhile is repeated with replacements (``buy``), a bounded number of
  times; candidates the project itself holds by then (bought by a concurrent run) count as held.
* Routes: UpdatePhoneNumber calls on at most ``workers`` threads; rate limiting (HTTP 429) is
  waited out and repeated by the Twirp client with back-off. A call sets the rule, the label, or
  both; labels of bought numbers are set right after their purchase. An answer that shows the
  label unchanged (a server that ignores it) fails the run: repeating it would change nothing.
* Releases: one call per ``batch_size`` numbers.

Buying costs money and releasing cannot be undone, so a write whose outcome is unknown (the
answer was lost, or a repeat of it was refused) is never simply repeated again: the project's
numbers are listed, and what they show decides between success and failure. Errors raised here
carry ``done``: the numbers the step did change, for reporting a partial run.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import namedtuple
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.livekit.sip.plugins.module_utils._api import SEARCH_MAX_PAGES
from ansible_collections.livekit.sip.plugins.module_utils._entries import NumberEntry, PoolEntry
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    ApiError,
    LabelIgnored,
    LiveKitError,
    OutcomeUnknown,
    PlanError,
    ResponseError,
    StepError,
    TLSError,
    TransportError,
    TransportTimeout,
    WaitTimeout,
    WriteMismatch,
    refused_numbers,
)
from ansible_collections.livekit.sip.plugins.module_utils._plan import (
    Planner,
    Route,
    matches,
    pool_order,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import (
    Record,
    is_held,
    merge_records,
)

POLL_FIRST = 0.5
POLL_MAX = 5.0
# A write that got no answer may still be carried out by the server. Before saying so, the
# project is listed again once the write's own deadline (the client's timeout, at most this many
# seconds) has passed once more: what the server commits that late shows by then.
WRITE_GRACE_MAX = 30.0
# The largest search page asked for: one search call per short pool, as a rule.
SEARCH_PAGE_MAX = 1000
# How many numbers a message names before it counts the rest.
MESSAGE_NUMBERS = 10
# Each attempt replaces at least one candidate someone else bought; the bound keeps a busy
# inventory from turning one task into an unbounded series of purchase calls.
MAX_PURCHASE_ATTEMPTS = 10

# How a writing module's run is carried out; built from the options by _module.settings().
# batch_size None: every number of one rule in one call.
Settings = namedtuple("Settings", ["workers", "page_size", "batch_size", "wait", "wait_timeout"])


class Progress:
    """What the run did so far: the one result every writing module returns, also on failure."""

    def __init__(self, api=None) -> None:
        self.api = api
        self.purchased: List[str] = []
        self.routed: List[str] = []
        self.labelled: List[str] = []
        self.released: List[str] = []
        self.pending: Optional[List[str]] = None  # set when waiting timed out
        self.records: Dict[str, Record] = {}  # records the purchases and updates answered with
        # What the module warns about: records it had to interpret, numbers it left alone.
        self.warnings: List[str] = []

    def result(self) -> Dict[str, object]:
        result: Dict[str, object] = {
            "changed": bool(self.purchased or self.routed or self.labelled or self.released),
            "purchased": list(self.purchased),
            "routed": list(self.routed),
            "labelled": list(self.labelled),
            "released": list(self.released),
        }
        if self.api is not None:
            result["api_calls"] = api_calls(self.api)
        if self.pending is not None:
            result["pending"] = list(self.pending)
        return result


def api_calls(api) -> Dict[str, int]:
    """The ``api_calls`` return value: logical calls, HTTP attempts and retries made so far."""
    stats = api.twirp.stats.as_dict()
    return {name: stats[name] for name in ("calls", "attempts", "retries")}


def outcome_unknown(exc: LiveKitError) -> bool:
    """True when a write may have happened although it raised.

    The answer never arrived (connection cut, timeout, garbled body), the server failed
    mid-way (5xx), or the request was repeated and the repeat was refused, which is what a
    server that already carried out the first attempt says.
    """
    if isinstance(exc, TLSError):
        return False
    if isinstance(exc, (TransportError, ResponseError, WriteMismatch)):
        # A WriteMismatch here is an answer that disagrees with its request.
        return True
    if isinstance(exc, ApiError):
        return (exc.attempts or 1) > 1 or (exc.http_status or 0) >= 500
    return False


def may_still_happen(exc: LiveKitError) -> bool:
    """True when a write that raised may be carried out later still.

    No answer came (a timeout, a connection cut after the request was sent, a gateway's 502 or
    504 instead of the server's own answer): the server may be working on it. A refused
    connection never delivered the request, and an answer of the server itself (a Twirp error,
    even a 5xx) means it has finished with it.
    """
    if isinstance(exc, TLSError):
        return False
    if isinstance(exc, TransportTimeout):
        return True
    if isinstance(exc, TransportError):
        return "refused" not in str(exc).lower()
    if isinstance(exc, ApiError):
        # A gateway's page, not the server's Twirp answer: error_from_response's fallback text.
        return exc.http_status in (502, 504) and "not a Twirp error" in exc.message
    return False


def write_grace(api) -> float:
    """Seconds to wait before the listing that decides about a write with no answer."""
    timeout = getattr(getattr(api, "twirp", None), "timeout", None) or 0
    return min(float(timeout), WRITE_GRACE_MAX)


def names(numbers: Iterable[str]) -> str:
    """Numbers for a message: the first few, and how many more."""
    numbers = list(numbers)
    text = ", ".join(numbers[:MESSAGE_NUMBERS])
    if len(numbers) > MESSAGE_NUMBERS:
        text += " and %d more" % (len(numbers) - MESSAGE_NUMBERS)
    return text


def held_records(api, page_size: int) -> List[Record]:
    """The numbers the project holds, from a paged listing of all its records."""
    return api.holdings(page_size).held


def read_project(
    api,
    page_size: int,
    absent: Iterable[str] = (),
    present: Iterable[str] = (),
    progress: Optional[Progress] = None,
    absent_ids: Iterable[str] = (),
):
    """The held records and the listing they come from, with named numbers looked up.

    ``absent`` and ``present`` are numbers entries name. Unless the listing is confirmed
    (complete, with a total_count), a number it does not mention at all (not even as released)
    that is to be absent is looked up with GetPhoneNumber before it is judged not held, and so
    is one to be present when the listing is incomplete: a server whose listing shows nothing
    (no items, no count) must not make a release silently do nothing. The listing's warnings go
    to ``progress``.
    """
    listing = api.holdings(page_size)
    current = listing.held
    mentioned = {record["e164_format"] for record in listing.records}
    held = {record["e164_format"] for record in current}
    unseen = []
    if not listing.confirmed:
        unseen = [n for n in absent if n not in mentioned]
    if not listing.complete:
        unseen += [n for n in present if n not in held and n not in unseen]
    if unseen:
        for number, record in api.lookup(unseen).items():
            if record is not None and is_held(record) and number not in held:
                current.append(record)
                held.add(number)
    ids = {record["id"] for record in listing.records}
    for ident in () if listing.confirmed else absent_ids:
        if ident not in ids:
            record = api.get(id=ident)
            if record is not None and is_held(record) and record["e164_format"] not in held:
                current.append(record)
                held.add(record["e164_format"])
    if progress is not None:
        progress.warnings.extend(listing.warnings())
    return current, listing


def by_number(records: Iterable[Record]) -> Dict[str, Record]:
    return {record["e164_format"]: record for record in records}


def purchase(api, numbers: List[str], rule: str, page_size: int) -> List[Record]:
    """Buy ``numbers`` in one call; returns their records. Raises StepError with ``done``.

    The answer is checked against the request: numbers it leaves out are looked for in the
    project's numbers, so that a short answer is neither reported as a full purchase nor as a
    failure of numbers that were bought.
    """
    request_id = str(uuid.uuid4())
    try:
        records = api.purchase(numbers, sip_dispatch_rule_id=rule or None, request_id=request_id)
    except LiveKitError as exc:
        if not outcome_unknown(exc):
            raise StepError(
                f"could not buy {names(numbers)}: {exc}; nothing was bought",
                cause=exc,
                failed=numbers,
            ) from exc
        return _settle_purchase(api, numbers, page_size, exc)
    answered = {record["e164_format"]: record for record in records}
    if all(n in answered for n in numbers):
        return [answered[n] for n in numbers]
    return _check_short_purchase(api, numbers, page_size, answered)


def _checking_listing(api, page_size):
    """(held records by E.164, why the listing is not complete or '') to check a write by.

    A number a listing that cannot be shown complete does not show may still be held (pages
    shift while other purchases of this run or of another go through): its absence proves
    nothing.
    """
    listing = api.holdings(page_size)
    return by_number(listing.held), listing.describe()


def _check_short_purchase(api, numbers, page_size, answered):
    try:
        held, incomplete = _checking_listing(api, page_size)
    except LiveKitError as exc:
        raise OutcomeUnknown(
            f"the purchase of {names(numbers)} answered only {len(answered)} of them, and the project's numbers could not be "
            f"listed to find out about the others ({exc}); list them before trying again",
            cause=exc,
            done=[n for n in numbers if n in answered],
            failed=[n for n in numbers if n not in answered],
        ) from exc
    missing = [n for n in numbers if n not in held]
    if missing and incomplete:
        raise OutcomeUnknown(
            f"the purchase of {names(numbers)} answered only {len(answered)} of them, and the project's listing, which "
            f"could not be shown complete ({incomplete}), does not show {names(missing)}: whether they were bought is "
            "unknown; list the project's numbers before trying again",
            done=[n for n in numbers if n in held],
            failed=missing,
        )
    if missing:
        raise WriteMismatch(
            f"the server answered the purchase of {len(numbers)} numbers with success, but {len(missing)} of them are not "
            f"held: {names(missing)} (the answer listed {len(answered)}); these were not bought",
            done=[n for n in numbers if n in held],
            failed=missing,
        )
    # A short answer, but every number is held: the purchase was whole.
    return [answered.get(n) or held[n] for n in numbers]


def _settle_purchase(api, numbers, page_size, cause):
    """Decide about a purchase whose answer was lost: the project's numbers tell."""
    delay = write_grace(api) if may_still_happen(cause) else 0.0
    for attempt in range(2):
        try:
            held, incomplete = _checking_listing(api, page_size)
        except LiveKitError as exc:
            raise OutcomeUnknown(
                f"the purchase of {names(numbers)} may or may not have happened ({cause}), and the project's numbers "
                f"could not be listed to find out ({exc}); list them before trying again",
                cause=cause,
                failed=numbers,
            ) from exc
        bought = [n for n in numbers if n in held]
        missing = [n for n in numbers if n not in held]
        if not missing:
            # Every number is held now: the lost answer was a success.
            return [held[n] for n in numbers]
        if attempt == 0 and delay > 0:
            time.sleep(delay)
            continue
        break
    if incomplete:
        raise OutcomeUnknown(
            f"the purchase of {names(numbers)} got no answer ({cause}), and the project's listing, which could not be "
            f"shown complete ({incomplete}), does not show {names(missing)}: whether they were bought is unknown; "
            "list the project's numbers before trying again",
            cause=cause,
            done=bought,
            failed=missing,
        )
    if delay > 0:
        raise OutcomeUnknown(
            "the purchase of {} got no answer ({}); {} seconds later the project holds {} of "
            "them, but the server may still carry out the rest: list the project's numbers "
            "(livekit.sip.phone_number_info) in a minute before running this again, or a "
            "re-run may buy replacements for numbers that arrive late".format(
                names(numbers),
                cause,
                int(round(delay)),
                "none" if not bought else "%d (%s)" % (len(bought), names(bought)),
            ),
            cause=cause,
            done=bought,
            failed=missing,
        )
    raise StepError(
        "could not buy {}: {} (the project's numbers show {})".format(
            names(missing),
            cause,
            f"these were bought: {names(bought)}" if bought else "nothing was bought",
        ),
        cause=cause,
        done=bought,
        failed=missing,
    )


def route_all(
    api, routes: Sequence[Route], workers: int, page_size: int = 500
) -> Dict[str, Record]:
    """Carry out every Route (UpdatePhoneNumber) on at most ``workers`` threads; returns
    {number: record}. Raises StepError.

    Updates whose outcome is unknown are checked with one listing afterwards: a number that
    shows its new rule (and label) was updated.
    """
    results = {}
    failures = []

    def one(item):
        # The label only when one is set, so that routing alone sends what it always sent.
        label = {} if item.name is None else {"name": item.name}
        if item.id:
            return api.update(item.rule, id=item.id, **label)
        return api.update(item.rule, phone_number=item.number, **label)

    if not routes:
        return results
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(routes)))) as pool:
        futures = [(item, pool.submit(one, item)) for item in routes]
        for item, future in futures:
            try:
                answer = future.result()
            except LiveKitError as exc:
                failures.append((item.number, exc))
                continue
            if (
                answer.get("e164_format")
                and item.rule is not None
                and answer["sip_dispatch_rule_ids"] != [item.rule]
            ):
                # The answer shows another rule than the one set: the listing decides. (A label
                # the answer does not show is judged by labels_ignored.)
                failures.append(
                    (
                        item.number,
                        WriteMismatch(
                            "the server answered the routing of %s to %s with the rules %s"
                            % (item.number, item.rule, answer["sip_dispatch_rule_ids"] or "none")
                        ),
                    )
                )
                continue
            results[item.number] = answer
    if any(outcome_unknown(exc) for dummy, exc in failures):
        try:
            held = by_number(held_records(api, page_size))
        except LiveKitError:
            held = {}
        wanted = {item.number: item for item in routes}
        settled = [
            (number, exc)
            for number, exc in failures
            if outcome_unknown(exc) and number in held and shows(held[number], wanted[number])
        ]
        for number, _dummy in settled:
            results[number] = held[number]
        failures = [(number, exc) for number, exc in failures if number not in results]
    if failures:
        first = failures[0][1]
        failed = names(number for number, dummy in failures)
        raise StepError(
            f"could not route {failed} to its dispatch rule: {first}",
            cause=first,
            done=[item.number for item in routes if item.number in results],
            failed=[number for number, dummy in failures],
        )
    return results


def shows(record: Record, item: Route) -> bool:
    """True when ``record`` has what the update ``item`` set."""
    if item.rule is not None and record.get("sip_dispatch_rule_ids") != [item.rule]:
        return False
    return item.name is None or record.get("name", "") == item.name


def labels_ignored(updates: Sequence[Route], results: Dict[str, Record]) -> List[Route]:
    """The label updates whose answer shows another label than the one sent."""
    return [
        item
        for item in updates
        if item.name is not None
        and item.number in results
        and results[item.number].get("name", "") != item.name
    ]


def label_ignored_error(ignored: Sequence[Route], results: Dict[str, Record]) -> LabelIgnored:
    first = ignored[0]
    return LabelIgnored(
        "the server ignores labels: UpdatePhoneNumber set name {!r} on {} and the answer still "
        "shows {!r}{}. Servers that predate protocol 1.52 do not know the field, so every run "
        "would set it again; remove name from the task for this server (routes in the same "
        "calls were set)".format(
            first.name,
            ", ".join(item.number for item in ignored),
            results[first.number].get("name", ""),
            "" if len(ignored) == 1 else " (and likewise for the others)",
        )
    )


def release(api, numbers: List[str], page_size: int) -> None:
    """Release ``numbers`` in one call, then check that they are gone. Raises StepError.

    The answer of a release is empty, so it cannot say what was released: the project's
    numbers are listed after every release, and numbers still held are reported as not
    released rather than as done.
    """
    if not numbers:
        return
    cause = None
    try:
        api.release(phone_numbers=numbers, request_id=str(uuid.uuid4()))
    except LiveKitError as exc:
        if not outcome_unknown(exc):
            raise StepError(
                f"could not release {names(numbers)}: {exc}",
                cause=exc,
                failed=numbers,
            ) from exc
        cause = exc
    try:
        held = by_number(held_records(api, page_size))
    except LiveKitError as exc:
        if cause is None:
            raise OutcomeUnknown(
                f"the server answered the release of {names(numbers)}, but the project's numbers could not be "
                f"listed to confirm it ({exc})",
                cause=exc,
                failed=numbers,
            ) from exc
        raise OutcomeUnknown(
            f"the release of {names(numbers)} may or may not have happened ({cause}), and the project's numbers "
            f"could not be listed to find out ({exc})",
            cause=cause,
            failed=numbers,
        ) from exc
    still = [n for n in numbers if n in held]
    if still and cause is not None and may_still_happen(cause):
        # No answer at all: the release may still be carried out. Look once more, later.
        delay = write_grace(api)
        time.sleep(delay)
        try:
            held = by_number(held_records(api, page_size))
        except LiveKitError:
            held = dict.fromkeys(still)
        still = [n for n in numbers if n in held]
        if still:
            raise OutcomeUnknown(
                f"the release of {names(numbers)} got no answer ({cause}); {int(round(delay))} "
                f"seconds later the project still holds {len(still)} of them ({names(still)}), "
                "but the server may still carry it out: list the project's numbers "
                "(livekit.sip.phone_number_info) before running this again",
                cause=cause,
                done=[n for n in numbers if n not in held],
                failed=still,
            )
    if not still:
        return
    done = [n for n in numbers if n not in held]
    if cause is None:
        raise WriteMismatch(
            f"the server answered the release of {len(numbers)} numbers with success, but still lists {len(still)} of "
            f"them as held: {names(still)}; these were not released",
            done=done,
            failed=still,
        )
    raise StepError(
        f"could not release {names(still)}: {cause}",
        cause=cause,
        done=done,
        failed=still,
    )


def wait_settled(
    api,
    numbers: Iterable[str],
    timeout: float,
    page_size: int,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> List[Record]:
    """Poll until none of ``numbers`` is PENDING; returns the last held records.

    Raises WaitTimeout naming the numbers still pending when ``timeout`` seconds have passed.
    """
    deadline = clock() + timeout
    interval = POLL_FIRST
    while True:
        records = held_records(api, page_size)
        index = by_number(records)
        pending = [n for n in numbers if n in index and index[n]["status"] == "pending"]
        if not pending:
            return records
        left = deadline - clock()
        if left <= 0:
            raise WaitTimeout(
                "{} still pending after {} seconds (wait_timeout)".format(
                    ", ".join(pending), timeout
                ),
                pending,
            )
        sleep(min(interval, left))
        interval = min(interval * 1.5, POLL_MAX)


def batches(items: List[str], size: Optional[int]) -> List[List[str]]:
    """``items`` in consecutive slices of at most ``size`` (all in one when ``size`` is None)."""
    if not size:
        return [items] if items else []
    return [items[start : start + size] for start in range(0, len(items), size)]


def read_and_plan(
    api,
    settings: Settings,
    numbers: Sequence[NumberEntry],
    pools: Sequence[PoolEntry],
    release_unlisted: bool = False,
    max_purchase: Optional[int] = None,
    option: str = "max_purchase",
    progress: Optional[Progress] = None,
) -> Tuple[List[Record], Planner]:
    """Read the project, search once for each pool that falls short, and plan; no writes.

    Raises IncompleteListing, before any search, when pools would be filled or unlisted
    numbers released on a listing that cannot be shown complete.
    """
    current, listing = read_project(
        api,
        settings.page_size,
        absent=[e.number for e in numbers if e.state == "absent"],
        present=[e.number for e in numbers if e.state == "present"],
        progress=progress,
    )
    planner = Planner(
        current, numbers, pools, uncertain=listing.uncertain, incomplete=listing.describe()
    )
    planner.check_spend(max_purchase, option)
    planner.check_listing(release_unlisted)
    by_index = {pool.entry.index: pool for pool in planner.pools}
    for entry in pool_order([pool.entry for pool in planner.pools]):
        pool = by_index[entry.index]
        if not pool.shortfall:
            continue
        limit = planner.search_limit(pool)
        if entry.filter is not None and entry.filter.active:
            # The API cannot filter: pages are read until enough numbers pass, within a bound.
            taken = planner.excluded()
            scan = api.search_matching(
                entry.country_code,
                lambda record, entry=entry, taken=taken: (
                    matches(entry, record) and record["e164_format"] not in taken
                ),
                area_code=entry.area_code or None,
                limit=limit,
                max_pages=SEARCH_MAX_PAGES,
            )
            pool.scan = scan
            planner.choose(pool, scan.records)
        else:
            offered = _search(api, entry, limit)
            planner.choose(pool, offered)
            room = planner.exclusion_room(pool)
            if len(pool.buy) < pool.shortfall and len(offered) >= limit and room:
                # Numbers entries name were among the offer: ask once more, with room for them.
                planner.choose(pool, _search(api, entry, limit + room))
    planner.check_shortfalls()
    planner.finish(release_unlisted)
    if release_unlisted and planner.kept and progress is not None:
        progress.warnings.append(
            "release_unlisted left %d unlisted numbers held because their records are uncertain "
            "(a status this collection does not know, or fields the server left out): %s; "
            "release them with an entry state=absent if that is intended"
            % (len(planner.kept), names(planner.kept))
        )
    return current, planner


def _search(api, entry: PoolEntry, limit: int) -> List[Record]:
    return api.search(
        entry.country_code,
        entry.area_code or None,
        limit=limit,
        page_size=min(limit, SEARCH_PAGE_MAX),
    )


def buy(
    api,
    planner: Planner,
    rule: str,
    numbers: List[str],
    page_size: int,
    progress: Progress,
    recover_taken: bool = True,
    lock=None,
) -> List[str]:
    """One purchase for ``numbers``; candidates taken meanwhile are replaced and it is repeated.

    Returns the numbers bought, which differ from ``numbers`` when candidates were replaced or
    were found held by the project (bought by a concurrent run). Without ``recover_taken`` a
    refusal is reported as the server gave it (``phone_number`` documents it so).

    A purchase of pool candidates is preceded by a fresh listing: numbers that a concurrent
    run, or an earlier run that was cancelled while its purchase went through, bought since
    this run listed the project count for their pools, and a pool that is full buys nothing.

    ``lock``, when purchases run at the same time, is held while the plan and ``progress`` are
    changed, never during the purchase itself.
    """
    guard = lock if lock is not None else contextlib.nullcontext()
    if recover_taken and any(planner.owner(n) is not None for n in numbers):
        fresh = held_records(api, page_size)
        planner.plan.routes.extend(planner.refresh(fresh, bought=progress.purchased))
        wanted = set(planner.plan.purchased)
        numbers = [n for n in numbers if n in wanted]
        if not numbers:
            return numbers
    for _dummy in range(MAX_PURCHASE_ATTEMPTS):
        try:
            records = purchase(api, numbers, rule, page_size)
        except StepError as exc:
            with guard:
                progress.purchased.extend(exc.done)
                taken = (
                    refused_numbers(exc.cause, numbers) if recover_taken and not exc.done else []
                )
                if not taken:
                    raise
                # Refused numbers the project holds by now were bought by a run converging the
                # same project at the same time: they count as held. Only the others need
                # replacements.
                held = by_number(held_records(api, page_size))
                ours = {n: r for n, r in held.items() if n in taken}
                planner.plan.routes.extend(planner.adopt(ours))
                numbers = [n for n in numbers if n not in ours]
                lost = [n for n in taken if n not in ours]
                if lost:
                    numbers = planner.replace_taken(numbers, lost)
                if not numbers:
                    return numbers
            continue
        with guard:
            progress.purchased.extend(numbers)
            progress.records.update(by_number(records))
        return numbers
    raise PlanError(
        "gave up buying numbers for dispatch rule %s after %d purchases in a row were refused "
        "because candidates had been bought by someone else"
        % (rule or "(none)", MAX_PURCHASE_ATTEMPTS)
    )


def concurrent_purchases(planner: Planner, settings: Settings) -> bool:
    """Whether the purchases may run on the workers: more than one, and only explicit numbers.

    A purchase of pool candidates is preceded by a fresh listing that may drop or replace the
    candidates of the purchases after it, so pools buy one purchase after the other.
    """
    plan = planner.plan
    calls = sum(len(batches(numbers, settings.batch_size)) for _rule, numbers in plan.purchases)
    return (
        settings.workers > 1
        and calls > 1
        and all(planner.owner(n) is None for _rule, numbers in plan.purchases for n in numbers)
    )


def buy_concurrently(
    api, planner: Planner, settings: Settings, progress: Progress, recover_taken: bool
) -> None:
    """Every purchase (per rule and batch) of explicit numbers, on at most ``workers`` threads.

    The numbers of each purchase are the plan's own: buying one batch changes no other. After a
    failure no further purchase starts; those in flight finish, and every number bought is in
    ``progress``, in the plan's order, before the first failure (in the plan's order) is raised.
    """
    plan = planner.plan
    jobs = [
        (position, index, rule, batch)
        for position, (rule, numbers) in enumerate(plan.purchases)
        for index, batch in enumerate(batches(numbers, settings.batch_size))
    ]
    order = {n: i for i, n in enumerate(n for _rule, numbers in plan.purchases for n in numbers)}
    lock = threading.Lock()
    failed = threading.Event()
    bought: Dict[Tuple[int, int], List[str]] = {}
    failures: List[Tuple[int, int, LiveKitError]] = []

    def one(job):
        position, index, rule, batch = job
        if failed.is_set():
            return
        try:
            numbers = buy(
                api, planner, rule, batch, settings.page_size, progress, recover_taken, lock
            )
        except LiveKitError as exc:
            failed.set()
            with lock:
                failures.append((position, index, exc))
            return
        with lock:
            bought[(position, index)] = numbers

    with ThreadPoolExecutor(max_workers=max(1, min(settings.workers, len(jobs)))) as pool:
        for _done in pool.map(one, jobs):
            pass
    progress.purchased.sort(key=lambda n: order.get(n, len(order)))
    if failures:
        raise min(failures, key=lambda failure: failure[:2])[2]
    for position, (rule, _numbers) in enumerate(list(plan.purchases)):
        plan.purchases[position] = (
            rule,
            [n for key in sorted(bought) if key[0] == position for n in bought[key]],
        )


def execute(
    api, planner: Planner, settings: Settings, progress: Progress, recover_taken: bool = True
) -> None:
    """Carry out ``planner.plan``: purchases, then routes, then releases. Raises LiveKitError."""
    plan = planner.plan
    if concurrent_purchases(planner, settings):
        buy_concurrently(api, planner, settings, progress, recover_taken)
    else:
        for position, (rule, numbers) in enumerate(list(plan.purchases)):
            bought: List[str] = []
            for batch in batches(numbers, settings.batch_size):
                # A fresh listing before an earlier batch may have dropped candidates of this one.
                wanted = set(plan.purchases[position][1]) | set(bought)
                batch = [n for n in batch if n in wanted]
                if batch:
                    bought.extend(
                        buy(api, planner, rule, batch, settings.page_size, progress, recover_taken)
                    )
            plan.purchases[position] = (rule, bought)
    # Candidates bought by someone else meanwhile were replaced: the targets follow.
    planner.retarget()
    updates = list(plan.routes) + [
        Route(number, progress.records.get(number, {}).get("id", ""), [], None, name)
        for number, name in plan.names.items()
        if number in progress.purchased
    ]
    if updates:
        rerouted = {item.number for item in updates if item.rule is not None}
        relabelled = [item.number for item in updates if item.name is not None]
        try:
            results = route_all(api, updates, settings.workers, settings.page_size)
            progress.records.update(results)
        except StepError as exc:
            progress.routed.extend(n for n in exc.done if n in rerouted)
            progress.labelled.extend(n for n in relabelled if n in exc.done)
            raise
        progress.routed.extend(plan.routed)
        ignored = labels_ignored(updates, results)
        missed = {item.number for item in ignored}
        progress.labelled.extend(n for n in relabelled if n not in missed)
        if ignored:
            raise label_ignored_error(ignored, results)
    for batch in batches(plan.releases, settings.batch_size):
        try:
            release(api, batch, settings.page_size)
        except StepError as exc:
            progress.released.extend(exc.done)
            raise
        progress.released.extend(batch)


def settle(
    api,
    planner: Planner,
    settings: Settings,
    progress: Progress,
    current: List[Record],
    relist: bool = True,
) -> List[Record]:
    """The held records after the run: waited for when asked, read again when it wrote.

    Numbers held but still pending count too: a run repeated after a wait_timeout must wait for
    the numbers the first run bought, not return while they are provisioned. Raises WaitTimeout
    (and records the pending numbers in ``progress``). Without ``relist``, a run that wrote is
    not read again: the records are the ones read before it, as its writes' answers changed
    them (see ``after_writes``).
    """
    if settings.wait and (progress.purchased or planner.pending()):
        try:
            return wait_settled(api, planner.accounted(), settings.wait_timeout, settings.page_size)
        except WaitTimeout as exc:
            progress.pending = list(exc.pending)
            raise
    if not planner.plan.changed:
        return current
    if relist:
        return held_records(api, settings.page_size)
    return after_writes(current, progress)


def after_writes(current: Iterable[Record], progress: Progress) -> List[Record]:
    """The records read before the run, with what its writes answered: no listing.

    Released numbers drop out; routed numbers take the record their update answered with; bought
    numbers are added with the record their purchase answered with (a server may fill only the
    id, the number and the status there), in the order they were bought.
    """
    released = set(progress.released)
    records = []
    seen = set()
    for record in current:
        number = record["e164_format"]
        if number in released:
            continue
        answered = progress.records.get(number)
        records.append(merge_records(record, answered) if answered else record)
        seen.add(number)
    for number in progress.purchased:
        if number not in seen and number not in released and number in progress.records:
            records.append(progress.records[number])
            seen.add(number)
    return records
