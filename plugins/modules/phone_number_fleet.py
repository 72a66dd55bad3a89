#!/usr/bin/python
# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: phone_number_fleet
short_description: Make a LiveKit Cloud project hold a described set of phone numbers
version_added: 0.1.0
description:
  - Reconciles all of a project's phone numbers with a list of O(entries) in one task.
    An entry is either one number or a pool (so many numbers in a country and area code).
  - The project's numbers are read with one paged listing. Each pool that holds fewer numbers
    than it asks for is searched once; the numbers to buy are bought with one purchase per
    dispatch rule (per O(batch_size) numbers); numbers routed elsewhere are routed concurrently;
    numbers to release are released in one call (per O(batch_size) numbers). The number of API
    calls grows with the changes and the pages, not with the entries, and a second identical run
    makes no write at all.
  - Numbers the project already holds count toward a pool when they are in its country and
    area code and no number entry names them, whatever rule they are routed to; when the pool
    names a rule, they are routed to it. Pools with an area code choose before country-wide
    pools. A pool accounts for O(entries[].count) numbers; further matching numbers are
    unlisted.
  - When a number chosen for a pool is bought by someone else between the search and the
    purchase, the purchase (all or nothing on the server) is repeated with the next candidate
    from the search; ten refused purchases in a row fail the task.
  - The task fails before any write when the run would buy more than O(max_purchase) numbers
    (before searching) or when a search cannot offer enough numbers for a pool; the message
    names what it would buy, or the pool and its shortfall.
  - B(Buying costs money and releasing is irreversible:) a released number goes back to the
    shared pool, where anyone may buy it. Use check mode and O(max_purchase) to stay in control.
author:
  - livekit.sip contributors (!UNKNOWN)
extends_documentation_fragment:
  - livekit.sip.auth
  - livekit.sip.auth.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the project's numbers and searches for pools that fall short, then reports the
        numbers it would buy (for pools, the candidates it chose), route and release, without
        writing.
  diff_mode:
    support: full
    details: Shows, per changed number, whether it is held, its status and its dispatch rules, before and after.
options:
  entries:
    description:
      - The numbers the project should hold (or not hold). Each entry is a number (with
        O(entries[].phone_number)) or a pool (with O(entries[].country_code) and
        O(entries[].count)); one entry cannot be both.
      - Every entry is checked before the first request. Problems are reported together, each
        naming its entry as C(entries[i]), counting from 0.
      - Two number entries may name the same number only when they agree.
    type: list
    elements: dict
    required: true
    suboptions:
      phone_number:
        description:
          - One number in E.164 format, quoted. Spaces, dashes, dots and parentheses are
            ignored, so V(+1 (415\) 555-0100) works; a leading V(00) instead of V(+) is refused.
        type: str
      state:
        description:
          - V(present) holds the number, buying it when the project does not hold it.
          - V(absent) releases it when the project holds it.
          - Number entries only.
        type: str
        choices: [present, absent]
        default: present
      sip_dispatch_rule_id:
        description:
          - The SIP dispatch rule the number, or every number of the pool, is routed to
            (exactly this one rule). Numbers are bought with it.
          - When not set, routing is left alone and numbers are bought without a rule, so they
            stay V(offline) until routed.
        type: str
      country_code:
        description:
          - A pool's ISO 3166-1 alpha-2 country code, for example V(US).
        type: str
      area_code:
        description:
          - A pool's area code, for example V(415). Without it, any number of the country
            counts.
        type: str
      count:
        description:
          - How many numbers the pool holds at least. Required for a pool.
        type: int
  release_unlisted:
    description:
      - Release held numbers that no entry accounts for (see RV(unlisted)).
      - Refused when O(entries) is empty, as it would release every number.
    type: bool
    default: false
  max_purchase:
    description:
      - The most numbers this task may buy, counting explicit numbers and pool shortfalls.
        When the run would buy more, the task fails before searching or buying anything (in
        check mode too), naming what it would buy.
      - The default keeps a typo in a pool's count (V(100) for V(10)) from buying a hundred
        numbers; raise it deliberately for a large rollout.
    type: int
    default: 10
  wait:
    description:
      - Wait until none of the numbers the entries account for is V(pending) (being
        provisioned). This covers the numbers bought, and numbers an earlier run bought that
        are still provisioned, so that repeating a run that failed with O(wait_timeout) waits
        for them.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait with O(wait=true). The task fails naming the numbers still pending.
    type: int
    default: 300
  workers:
    description:
      - How many routing updates run at the same time (1 to 32).
    type: int
    default: 8
  page_size:
    description:
      - How many numbers to ask the server for per page when reading the project's numbers
        (1 to 1000).
    type: int
    default: 500
  batch_size:
    description:
      - The most numbers one purchase or one release call carries (1 to 1000). More numbers
        for one dispatch rule are bought with several purchases, and more numbers to release
        are released with several calls, one after the other.
      - LiveKit does not document a limit per call; lower this if the server refuses large
        requests.
    type: int
    default: 500
    version_added: 0.1.0
notes:
  - Searching costs nothing; the searches of check mode are real requests.
  - When a task fails part-way, RV(purchased), RV(routed) and RV(released) still list what was
    done.
seealso:
  - module: livekit.sip.phone_number
  - module: livekit.sip.phone_number_info
  - module: livekit.sip.phone_number_search
"""

EXAMPLES = r"""
# Connection options come from LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.
- name: Preview the fleet; check mode searches but never buys, routes or releases
  livekit.sip.phone_number_fleet:
    entries:
      - phone_number: "+1 (650) 204-7240"
        sip_dispatch_rule_id: SDR_reception
      - country_code: US
        area_code: "212"
        count: 2
        sip_dispatch_rule_id: SDR_support
  check_mode: true
  register: preview

- name: Show what would be bought
  ansible.builtin.debug:
    msg: "Would buy {{ preview.purchased | join(', ') }}"

- name: Hold them, buying at most three numbers, and wait until they are provisioned
  livekit.sip.phone_number_fleet:
    entries:
      - phone_number: "+16502047240"
        sip_dispatch_rule_id: SDR_reception
      - country_code: US
        area_code: "212"
        count: 2
        sip_dispatch_rule_id: SDR_support
    max_purchase: 3
    wait: true
    wait_timeout: 120
  register: fleet

- name: Show the numbers held that no entry mentions
  ansible.builtin.debug:
    msg: "Not in the entries: {{ fleet.unlisted | join(', ') or 'none' }}"

- name: Grow the pool and move the reception number to another rule, showing the changes
  livekit.sip.phone_number_fleet:
    entries:
      - phone_number: "+16502047240"
        sip_dispatch_rule_id: SDR_after_hours
      - country_code: US
        area_code: "212"
        count: 3
        sip_dispatch_rule_id: SDR_support
  diff: true

- name: Hold exactly the pool; release the reception number and anything else (irreversible)
  livekit.sip.phone_number_fleet:
    entries:
      - phone_number: "+16502047240"
        state: absent
      - country_code: US
        area_code: "212"
        count: 3
        sip_dispatch_rule_id: SDR_support
    release_unlisted: true
"""

RETURN = r"""
phone_numbers:
  description:
    - Records of every number the project holds after the run, in the order the server lists
      them.
    - In check mode, the records predicted; a number to be bought has only
      RV(phone_numbers[].e164_format), status V(pending) and its rule.
  returned: success
  type: list
  elements: dict
  sample:
    - id: PN_7Jc3kQ2a
      e164_format: "+14155550100"
      country_code: US
      area_code: "415"
      number_type: local
      locality: San Francisco
      region: CA
      spam_score: 0.0
      capabilities: [voice, sms]
      status: active
      sip_dispatch_rule_id: SDR_support
      sip_dispatch_rule_ids: [SDR_support]
      created_at: "2025-09-08T12:00:00Z"
      updated_at: "2025-09-08T12:00:05Z"
      assigned_at: "2025-09-08T12:00:00Z"
      released_at: null
  contains:
    id:
      description: The number's id (V(PN_...)); empty for numbers not yet bought.
      type: str
      returned: always
    e164_format:
      description: The number in E.164 format.
      type: str
      returned: always
    country_code:
      description: ISO 3166-1 alpha-2 country code.
      type: str
      returned: always
    area_code:
      description: Area code; empty when the server does not report one.
      type: str
      returned: always
    number_type:
      description: Kind of number.
      type: str
      choices: [mobile, local, toll_free, unknown]
      returned: always
    locality:
      description: City or locality; may be empty.
      type: str
      returned: always
    region:
      description: State or region; may be empty.
      type: str
      returned: always
    spam_score:
      description: Spam likelihood reported by the carrier; V(0.0) when unknown.
      type: float
      returned: always
    capabilities:
      description: What the number can do, for example V(voice) and V(sms).
      type: list
      elements: str
      returned: always
    status:
      description:
        - Status. V(pending) while being provisioned, V(offline) when held but not routed to a dispatch rule.
      type: str
      choices: [active, pending, offline]
      returned: always
    sip_dispatch_rule_id:
      description: The first of RV(phone_numbers[].sip_dispatch_rule_ids), or empty.
      type: str
      returned: always
    sip_dispatch_rule_ids:
      description: SIP dispatch rules the number is routed to.
      type: list
      elements: str
      returned: always
    created_at:
      description: When the record was created (ISO 8601, UTC), or V(null).
      type: str
      returned: always
    updated_at:
      description: When the record last changed (ISO 8601, UTC), or V(null).
      type: str
      returned: always
    assigned_at:
      description: When the number was bought (ISO 8601, UTC), or V(null).
      type: str
      returned: always
    released_at:
      description: Always V(null), as released numbers are not held.
      type: str
      returned: always
purchased:
  description: Numbers bought (in check mode, that would be bought), E.164, explicit numbers and pool candidates alike.
  returned: always
  type: list
  elements: str
  sample: ["+16502047240", "+12122019609"]
routed:
  description: Held numbers routed to their entry's dispatch rule (in check mode, that would be), E.164.
  returned: always
  type: list
  elements: str
  sample: ["+12122021810"]
released:
  description:
    - Numbers released (in check mode, that would be), E.164.
    - Numbers of entries with O(entries[].state=absent), and with O(release_unlisted=true) the RV(unlisted) ones.
  returned: always
  type: list
  elements: str
  sample: []
unlisted:
  description:
    - Numbers the project held before the run that no entry accounts for, E.164. With
      O(release_unlisted=true) they are released too.
  returned: success
  type: list
  elements: str
  sample: ["+14152045605"]
api_calls:
  description:
    - The requests the task made to the server, the repeated ones included (see O(retries)), also
      when it fails part-way.
    - A run that needs many repeats is talking over a poor link or to a busy service; raise
      O(retries) when tasks fail after running out of them.
  returned: when the options were valid
  type: dict
  sample: {calls: 6, attempts: 7, retries: 1}
  contains:
    calls:
      description: API calls made; a call repeated after a failure counts once.
      type: int
      returned: always
    attempts:
      description: HTTP requests sent, repeats included.
      type: int
      returned: always
    retries:
      description: Repeats made, RV(api_calls.attempts) minus RV(api_calls.calls).
      type: int
      returned: always
pools:
  description: One item per pool entry, in the order of O(entries).
  returned: success
  type: list
  elements: dict
  sample:
    - entry: 1
      country_code: US
      area_code: "212"
      count: 2
      sip_dispatch_rule_id: SDR_support
      held: ["+12122019609", "+12122021810"]
      purchased: ["+12122021810"]
  contains:
    entry:
      description: Position of the pool in O(entries), from 0.
      type: int
      returned: always
    country_code:
      description: The pool's country code, upper case.
      type: str
      returned: always
    area_code:
      description: The pool's area code; empty for a country-wide pool.
      type: str
      returned: always
    count:
      description: How many numbers the pool asks for.
      type: int
      returned: always
    sip_dispatch_rule_id:
      description: The pool's dispatch rule; empty when routing is left alone.
      type: str
      returned: always
    held:
      description: The numbers the pool accounts for after the run (in check mode, would), E.164.
      type: list
      elements: str
      returned: always
    purchased:
      description: The numbers bought for the pool (in check mode, the candidates chosen), E.164.
      type: list
      elements: str
      returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._execute import (
    StepError,
    WaitTimeout,
    by_number,
    held_records,
    purchase,
    release,
    route,
    wait_settled,
)
from ansible_collections.livekit.sip.plugins.module_utils._fleet import (
    FleetPlan,
    parse_entries,
    pool_order,
    taken_numbers,
)
from ansible_collections.livekit.sip.plugins.module_utils._module import (
    api_calls,
    auth_argument_spec,
    build_api,
    fail_with,
)
from ansible_collections.livekit.sip.plugins.module_utils._planning import PlanError, diff, predict

MAX_WORKERS = 32
MAX_PAGE_SIZE = 1000
MAX_BATCH_SIZE = 1000
# Each attempt replaces at least one candidate someone else bought; the bound keeps a busy
# inventory from turning one task into an unbounded series of purchase calls.
MAX_PURCHASE_ATTEMPTS = 10


def check_params(params):
    """Validate what argument_spec cannot; raises ParameterError before any request."""
    if not 1 <= params["workers"] <= MAX_WORKERS:
        raise ParameterError(
            "workers must be between 1 and %d, not %d" % (MAX_WORKERS, params["workers"])
        )
    if not 1 <= params["page_size"] <= MAX_PAGE_SIZE:
        raise ParameterError(
            "page_size must be between 1 and %d, not %d" % (MAX_PAGE_SIZE, params["page_size"])
        )
    if not 1 <= params["batch_size"] <= MAX_BATCH_SIZE:
        raise ParameterError(
            "batch_size must be between 1 and %d, not %d" % (MAX_BATCH_SIZE, params["batch_size"])
        )
    if params["wait_timeout"] < 0:
        raise ParameterError("wait_timeout must be 0 or more, not %d" % params["wait_timeout"])
    if params["max_purchase"] < 0:
        raise ParameterError("max_purchase must be 0 or more, not %d" % params["max_purchase"])
    numbers, pools = parse_entries(params["entries"])
    if params["release_unlisted"] and not numbers and not pools:
        raise ParameterError(
            "release_unlisted=true with no entries would release every number the project holds; "
            "list the numbers to keep, or release numbers with livekit.sip.phone_number state=absent"
        )
    return numbers, pools


class Run:
    """What the run did so far, so that a failure part-way still reports it."""

    def __init__(self, api=None):
        self.api = api
        self.purchased = []
        self.routed = []
        self.released = []

    def result(self):
        result = {
            "changed": bool(self.purchased or self.routed or self.released),
            "purchased": list(self.purchased),
            "routed": list(self.routed),
            "released": list(self.released),
        }
        if self.api is not None:
            result["api_calls"] = api_calls(self.api)
        return result


def plan_fleet(api, params, numbers, pools):
    """Read the project, search for pools that fall short, and plan; no writes."""
    current = held_records(api, params["page_size"])
    fleet = FleetPlan(current, numbers, pools)
    fleet.check_spend(params["max_purchase"])
    by_index = {pool.entry.index: pool for pool in fleet.pools}
    for entry in pool_order([pool.entry for pool in fleet.pools]):
        pool = by_index[entry.index]
        if pool.shortfall:
            offered = api.search(
                entry.country_code, entry.area_code or None, limit=fleet.search_limit(pool)
            )
            fleet.choose(pool, offered)
    fleet.check_shortfalls()
    fleet.finish(params["release_unlisted"])
    return current, fleet


def buy(api, fleet, rule, numbers, page_size, run):
    """One purchase for ``numbers``; candidates taken meanwhile are replaced and it is repeated.

    Returns the numbers bought, which differ from ``numbers`` when candidates were replaced or
    were found held by the project (bought by a concurrent run).
    """
    for _dummy in range(MAX_PURCHASE_ATTEMPTS):
        try:
            purchase(api, numbers, rule, page_size)
        except StepError as exc:
            run.purchased.extend(exc.done)
            taken = [] if exc.done else taken_numbers(exc.cause, numbers)
            if not taken:
                raise
            # Refused numbers the project holds by now were bought by a run converging the same
            # project at the same time: they count as held. Only the others need replacements.
            ours = {n: r for n, r in by_number(held_records(api, page_size)).items() if n in taken}
            fleet.plan.route.extend(fleet.adopt(ours))
            numbers = [n for n in numbers if n not in ours]
            lost = [n for n in taken if n not in ours]
            if lost:
                numbers = fleet.replace_taken(numbers, lost)
            if not numbers:
                return numbers
            continue
        run.purchased.extend(numbers)
        return numbers
    raise PlanError(
        "gave up buying numbers for dispatch rule %s after %d purchases in a row were refused "
        "because candidates had been bought by someone else"
        % (rule or "(none)", MAX_PURCHASE_ATTEMPTS)
    )


def batches(items, size):
    """``items`` in consecutive slices of at most ``size``."""
    return [items[start : start + size] for start in range(0, len(items), size)]


def execute(api, fleet, params, run):
    plan = fleet.plan
    for position, (rule, numbers) in enumerate(plan.purchase):
        bought = []
        for batch in batches(numbers, params["batch_size"]):
            bought.extend(buy(api, fleet, rule, batch, params["page_size"], run))
        plan.purchase[position] = (rule, bought)
    if plan.route:
        try:
            route(api, plan.route, params["workers"], params["page_size"])
        except StepError as exc:
            run.routed.extend(exc.done)
            raise
        run.routed.extend(plan.routed)
    for batch in batches(plan.release, params["batch_size"]):
        try:
            release(api, batch, params["page_size"])
        except StepError as exc:
            run.released.extend(exc.done)
            raise
        run.released.extend(batch)


def main():
    module = AnsibleModule(
        argument_spec=auth_argument_spec(
            entries={"type": "list", "elements": "dict", "required": True},
            release_unlisted={"type": "bool", "default": False},
            max_purchase={"type": "int", "default": 10},
            wait={"type": "bool", "default": False},
            wait_timeout={"type": "int", "default": 300},
            workers={"type": "int", "default": 8},
            page_size={"type": "int", "default": 500},
            batch_size={"type": "int", "default": 500},
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        numbers, pools = check_params(params)
    except LiveKitError as exc:
        fail_with(module, exc)

    api = build_api(module)
    run = Run(api)
    try:
        current, fleet = plan_fleet(api, params, numbers, pools)
    except LiveKitError as exc:
        fail_with(module, exc, **run.result())

    plan = fleet.plan
    result = {
        "changed": plan.changed,
        "purchased": plan.purchased,
        "routed": plan.routed,
        "released": list(plan.release),
        "unlisted": list(fleet.unlisted),
    }
    if module.check_mode:
        if module._diff:
            result["diff"] = diff(current, plan)
        module.exit_json(
            phone_numbers=predict(current, plan),
            pools=fleet.pool_results(),
            api_calls=api_calls(api),
            **result,
        )

    try:
        execute(api, fleet, params, run)
        records = current
        # Numbers held but still pending count too: a run repeated after a wait_timeout must
        # wait for the numbers the first run bought, not return while they are provisioned.
        if params["wait"] and (run.purchased or fleet.pending()):
            records = wait_settled(
                api, fleet.accounted(), params["wait_timeout"], params["page_size"]
            )
        elif plan.changed:
            records = held_records(api, params["page_size"])
    except WaitTimeout as exc:
        fail_with(module, exc, pending=exc.pending, **run.result())
    except LiveKitError as exc:
        fail_with(module, exc, **run.result())

    result.update(run.result())
    if module._diff:
        # After the purchases: candidates bought by someone else meanwhile were replaced.
        plan.targets = [record["e164_format"] for record in current] + plan.purchased
        result["diff"] = diff(current, plan)
    module.exit_json(phone_numbers=records, pools=fleet.pool_results(set(run.purchased)), **result)


if __name__ == "__main__":
    main()
