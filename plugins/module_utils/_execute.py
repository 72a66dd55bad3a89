# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carrying out a plan: the writes, their verification, and waiting for provisioning.

Buying costs money and releasing cannot be undone, so a write whose outcome is unknown (the
answer was lost, or a repeat of it was refused) is never simply repeated again: the project's
numbers are listed, and what they show decides between success and failure. Errors raised here
carry ``done``: the numbers the step did change, for reporting a partial run.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    ApiError,
    LiveKitError,
    ResponseError,
    TLSError,
    TransportError,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import HELD_STATUSES, is_held

POLL_FIRST = 0.5
POLL_MAX = 5.0


class StepError(LiveKitError):
    """A step failed for some numbers; ``done`` lists the ones it did change."""

    def __init__(self, message, cause=None, done=None, failed=None):
        kwargs = {}
        if cause is not None:
            kwargs = {
                "code": cause.code,
                "http_status": cause.http_status,
                "meta": cause.meta,
                "request_id": cause.request_id,
            }
        super().__init__(message, **kwargs)
        self.cause = cause
        self.done = list(done or [])
        self.failed = list(failed or [])


class WaitTimeout(LiveKitError):
    default_code = "wait_timeout"

    def __init__(self, message, pending):
        super().__init__(message)
        self.pending = list(pending)


def outcome_unknown(exc):
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


def held_records(api, page_size):
    """The numbers the project holds, from one paged listing."""
    listing = api.list(statuses=HELD_STATUSES, page_size=page_size)
    # Filtered again here: a server that ignores the filter must not make released numbers look held.
    return [record for record in listing.records if is_held(record)]


def by_number(records):
    return {record["e164_format"]: record for record in records}


def purchase(api, numbers, rule, page_size):
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


def route(api, routes, workers, page_size=500):
    """Update every route concurrently; returns {number: record}. Raises StepError.

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


def release(api, numbers, page_size):
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


def wait_settled(api, numbers, timeout, page_size, sleep=time.sleep, clock=time.monotonic):
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
