"""The executor's purchase loop: candidates bought by someone else are replaced, a bounded number of times."""

from __future__ import annotations

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _errors as errors
from ansible_collections.livekit.sip.plugins.module_utils import _execute as module
from ansible_collections.livekit.sip.plugins.module_utils._api import ListResult
from ansible_collections.livekit.sip.plugins.module_utils._entries import NumberEntry, PoolEntry
from ansible_collections.livekit.sip.plugins.module_utils._errors import PlanError
from ansible_collections.livekit.sip.plugins.module_utils._plan import Planner
from ansible_collections.livekit.sip.plugins.module_utils._records import normalize_record


def sf(n):
    return "+1415555%04d" % n


class RivalApi:
    """Each purchase loses its first ``rivals`` attempts: someone else buys the first number first."""

    def __init__(self, rivals):
        self.rivals = rivals
        self.calls = []

    def purchase(self, numbers, sip_dispatch_rule_id=None, request_id=None):
        self.calls.append(list(numbers))
        if len(self.calls) <= self.rivals:
            body = f'{{"code": "failed_precondition", "msg": "phone numbers not available: {numbers[0]}"}}'
            raise errors.error_from_response(412, body.encode())
        return [
            normalize_record({"e164_format": n, "status": "PHONE_NUMBER_STATUS_PENDING"})
            for n in numbers
        ]

    def list(self, **kwargs):
        # A refused purchase is checked against the project's numbers: the rival is another project.
        return ListResult([], 0, 0, 1)

    def holdings(self, page_size=500):
        return self.list(page_size=page_size)


def fleet_with_candidates(count, offered):
    fleet = Planner([], [], [PoolEntry(0, "US", "415", count, "R")])
    fleet.choose(
        fleet.pools[0],
        [
            normalize_record({"e164_format": sf(n), "country_code": "US", "area_code": "415"})
            for n in range(offered)
        ],
    )
    fleet.finish(release_unlisted=False)
    return fleet


def test_taken_candidates_are_replaced_until_the_purchase_succeeds():
    fleet = fleet_with_candidates(2, 6)
    api = RivalApi(rivals=2)
    run = module.Progress()
    bought = module.buy(api, fleet, "R", [sf(0), sf(1)], 500, run)
    assert api.calls == [[sf(0), sf(1)], [sf(2), sf(1)], [sf(3), sf(1)]]
    assert bought == run.purchased == [sf(3), sf(1)]
    assert fleet.pool_results(set(bought))[0]["purchased"] == [sf(3), sf(1)]


def test_attempts_are_bounded():
    fleet = fleet_with_candidates(1, 40)
    api = RivalApi(rivals=100)
    with pytest.raises(
        PlanError, match="after %d purchases in a row were refused" % module.MAX_PURCHASE_ATTEMPTS
    ):
        module.buy(api, fleet, "R", [sf(0)], 500, module.Progress())
    assert len(api.calls) == module.MAX_PURCHASE_ATTEMPTS


def test_other_purchase_errors_are_not_retried():
    class QuotaApi(RivalApi):
        def purchase(self, numbers, sip_dispatch_rule_id=None, request_id=None):
            self.calls.append(list(numbers))
            raise errors.error_from_response(
                429, b'{"code": "resource_exhausted", "msg": "quota exceeded"}'
            )

    api = QuotaApi(0)
    with pytest.raises(errors.LiveKitError, match="quota exceeded"):
        module.buy(api, fleet_with_candidates(1, 5), "R", [sf(0)], 500, module.Progress())
    assert len(api.calls) == 1


def test_without_recovery_a_refusal_is_reported_as_the_server_gave_it():
    """phone_number's case: no listing, no replacement; the server's code and the numbers."""
    planner = Planner([], [NumberEntry(0, sf(0), "R", "present")], (), scope="entries")
    planner.finish()
    api = RivalApi(rivals=1)
    progress = module.Progress()
    with pytest.raises(errors.StepError, match="nothing was bought") as info:
        module.buy(api, planner, "R", [sf(0)], 500, progress, recover_taken=False)
    assert info.value.code == "failed_precondition"
    assert api.calls == [[sf(0)]] and progress.purchased == []
