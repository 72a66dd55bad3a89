# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one executor: reading the project, searching for pools, carrying out a Plan, waiting.

Both writing modules run their plans here, and report what was done through one Progress, so
that a task that fails part-way still says what it bought, routed and released.

* Purchases: one call per dispatch rule and ``batch_size`` numbers. A purchase refused because
  candidates were taken meanwhile is repeated with replacements (``buy``), a bounded number of
  times; candidates the project itself holds by then (bought by a concurrent run) count as held.
* Routes: UpdatePhoneNumber calls on at most ``workers`` threads; rate limiting (HTTP 429) is
  waited out and repeated by the Twirp client with back-off.
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

from ansible_collections.livekit.sip.plugins.module_utils._entries import NumberEntry, PoolEntry
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    ApiError,
    LiveKitError,
    PlanError,
    ResponseError,
    StepError,
    TLSError,
    TransportError,
    WaitTimeout,
    refused_numbers,
)
from ansible_collections.livekit.sip.plugins.module_utils._plan import Planner, Route, pool_order
from ansible_collections.livekit.sip.plugins.module_utils._records import (
    Record,
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
        self.released: List[str] = []
        self.pending: Optional[List[str]] = None  # set when waiting timed out
        self.records: Dict[str, Record] = {}  # records the purchases answered with

    def result(self) -> Dict[str, object]:
        result: Dict[str, object] = {
            "changed": bool(self.purchased or self.routed or self.released),
            "purchased": list(self.purchased),
            "routed": list(self.routed),
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
    """The numbers the project holds, from a paged listing of all its records."""
    return api.holdings(page_size).held


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
    shows its new rule was routed.
    """
    results = {}
    failures = []

    def one(item):
        if item.id:
            return api.update(item.rule, id=item.id)
        return api.update(item.rule, phone_number=item.number)

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
        wanted = {item.number: item.rule for item in routes}
        settled = [
            (number, exc)
            for number, exc in failures
            if outcome_unknown(exc)
            and held.get(number, {}).get("sip_dispatch_rule_ids") == [wanted[number]]
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
        if pool.shortfall:
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
    if plan.routes:
        try:
            route_all(api, plan.routes, settings.workers, settings.page_size)
        except StepError as exc:
            progress.routed.extend(exc.done)
            raise
        progress.routed.extend(plan.routed)
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
