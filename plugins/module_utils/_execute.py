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
    PlanError,
    ResponseError,
    StepError,
    TLSError,
    TransportError,
    WaitTimeout,
    refused_numbers,
)
from ansible_collections.livekit.sip.plugins.module_utils._plan import (
    Planner,
    Route,
    matches,
    pool_order,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import (
    HELD_STATUSES,
    Record,
    is_held,
)

POLL_FIRST = 0.5
POLL_MAX = 5.0
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
        self.records: Dict[str, Record] = {}  # records the purchases answered with

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
    if isinstance(exc, (TransportError, ResponseError)):
        return True
    if isinstance(exc, ApiError):
        return (exc.attempts or 1) > 1 or (exc.http_status or 0) >= 500
    return False


def held_records(api, page_size: int) -> List[Record]:
    """The numbers the project holds, from one paged listing."""
    listing = api.list(statuses=HELD_STATUSES, page_size=page_size)
    # Filtered again here: a server that ignores the filter must not make released numbers look held.
    return [record for record in listing.records if is_held(record)]


def by_number(records: Iterable[Record]) -> Dict[str, Record]:
    return {record["e164_format"]: record for record in records}


def purchase(api, numbers: List[str], rule: str, page_size: int) -> List[Record]:
    """Buy ``numbers`` in one call; returns their records. Raises StepError with ``done``."""
    request_id = str(uuid.uuid4())
    try:
        return api.purchase(numbers, sip_dispatch_rule_id=rule or None, request_id=request_id)
    except LiveKitError as exc:
        if not outcome_unknown(exc):
            raise StepError(
                "could not buy {}: {}; nothing was bought".format(", ".join(numbers), exc),
                cause=exc,
                failed=numbers,
            ) from exc
        cause = exc
    try:
        held = by_number(held_records(api, page_size))
    except LiveKitError as exc:
        raise StepError(
            "the purchase of {} may or may not have happened ({}), and the project's numbers "
            "could not be listed to find out ({}); list them before trying again".format(
                ", ".join(numbers), cause, exc
            ),
            cause=cause,
            failed=numbers,
        ) from exc
    bought = [n for n in numbers if n in held]
    missing = [n for n in numbers if n not in held]
    if missing:
        raise StepError(
            "could not buy {}: {} (the project's numbers show {})".format(
                ", ".join(missing),
                cause,
                "these were bought: {}".format(", ".join(bought))
                if bought
                else "nothing was bought",
            ),
            cause=cause,
            done=bought,
            failed=missing,
        )
    # Every number is held now: the lost answer was a success.
    return [held[n] for n in numbers]


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
                results[item.number] = future.result()
            except LiveKitError as exc:
                failures.append((item.number, exc))
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
        names = ", ".join(number for number, dummy in failures)
        raise StepError(
            f"could not route {names} to its dispatch rule: {first}",
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
    """Release ``numbers`` in one call. Raises StepError."""
    if not numbers:
        return
    try:
        api.release(phone_numbers=numbers, request_id=str(uuid.uuid4()))
        return
    except LiveKitError as exc:
        if not outcome_unknown(exc):
            raise StepError(
                "could not release {}: {}".format(", ".join(numbers), exc),
                cause=exc,
                failed=numbers,
            ) from exc
        cause = exc
    try:
        held = by_number(held_records(api, page_size))
    except LiveKitError as exc:
        raise StepError(
            "the release of {} may or may not have happened ({}), and the project's numbers "
            "could not be listed to find out ({})".format(", ".join(numbers), cause, exc),
            cause=cause,
            failed=numbers,
        ) from exc
    still = [n for n in numbers if n in held]
    if still:
        raise StepError(
            "could not release {}: {}".format(", ".join(still), cause),
            cause=cause,
            done=[n for n in numbers if n not in held],
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
) -> Tuple[List[Record], Planner]:
    """Read the project, search for the pools that fall short, and plan; no writes."""
    current = held_records(api, settings.page_size)
    planner = Planner(current, numbers, pools)
    planner.check_spend(max_purchase, option)
    by_index = {pool.entry.index: pool for pool in planner.pools}
    for entry in pool_order([pool.entry for pool in planner.pools]):
        pool = by_index[entry.index]
        if not pool.shortfall:
            continue
        if entry.filter is not None and entry.filter.active:
            # The API cannot filter: pages are read until enough numbers pass, within a bound.
            taken = planner.excluded()
            scan = api.search_matching(
                entry.country_code,
                lambda record, entry=entry, taken=taken: (
                    matches(entry, record) and record["e164_format"] not in taken
                ),
                area_code=entry.area_code or None,
                limit=planner.search_limit(pool),
                max_pages=SEARCH_MAX_PAGES,
            )
            pool.scan = scan
            planner.choose(pool, scan.records)
        else:
            offered = api.search(
                entry.country_code, entry.area_code or None, limit=planner.search_limit(pool)
            )
            planner.choose(pool, offered)
    planner.check_shortfalls()
    planner.finish(release_unlisted)
    return current, planner


def buy(
    api,
    planner: Planner,
    rule: str,
    numbers: List[str],
    page_size: int,
    progress: Progress,
    recover_taken: bool = True,
) -> List[str]:
    """One purchase for ``numbers``; candidates taken meanwhile are replaced and it is repeated.

    Returns the numbers bought, which differ from ``numbers`` when candidates were replaced or
    were found held by the project (bought by a concurrent run). Without ``recover_taken`` a
    refusal is reported as the server gave it (``phone_number`` documents it so).
    """
    for _dummy in range(MAX_PURCHASE_ATTEMPTS):
        try:
            records = purchase(api, numbers, rule, page_size)
        except StepError as exc:
            progress.purchased.extend(exc.done)
            taken = refused_numbers(exc.cause, numbers) if recover_taken and not exc.done else []
            if not taken:
                raise
            # Refused numbers the project holds by now were bought by a run converging the same
            # project at the same time: they count as held. Only the others need replacements.
            ours = {n: r for n, r in by_number(held_records(api, page_size)).items() if n in taken}
            planner.plan.routes.extend(planner.adopt(ours))
            numbers = [n for n in numbers if n not in ours]
            lost = [n for n in taken if n not in ours]
            if lost:
                numbers = planner.replace_taken(numbers, lost)
            if not numbers:
                return numbers
            continue
        progress.purchased.extend(numbers)
        progress.records.update(by_number(records))
        return numbers
    raise PlanError(
        "gave up buying numbers for dispatch rule %s after %d purchases in a row were refused "
        "because candidates had been bought by someone else"
        % (rule or "(none)", MAX_PURCHASE_ATTEMPTS)
    )


def execute(
    api, planner: Planner, settings: Settings, progress: Progress, recover_taken: bool = True
) -> None:
    """Carry out ``planner.plan``: purchases, then routes, then releases. Raises LiveKitError."""
    plan = planner.plan
    for position, (rule, numbers) in enumerate(plan.purchases):
        bought: List[str] = []
        for batch in batches(numbers, settings.batch_size):
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
    api, planner: Planner, settings: Settings, progress: Progress, current: List[Record]
) -> List[Record]:
    """The held records after the run: waited for when asked, read again when it wrote.

    Numbers held but still pending count too: a run repeated after a wait_timeout must wait for
    the numbers the first run bought, not return while they are provisioned. Raises WaitTimeout
    (and records the pending numbers in ``progress``).
    """
    if settings.wait and (progress.purchased or planner.pending()):
        try:
            return wait_settled(api, planner.accounted(), settings.wait_timeout, settings.page_size)
        except WaitTimeout as exc:
            progress.pending = list(exc.pending)
            raise
    if planner.plan.changed:
        return held_records(api, settings.page_size)
    return current
