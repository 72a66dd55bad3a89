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
  - The project's numbers are read with one paged listing (its pages asked for in parallel,
    on O(workers), when the server's page tokens allow it). Each pool that holds fewer numbers
    than it asks for is searched once; the numbers to buy are bought with one purchase per
    dispatch rule (per O(batch_size) numbers); numbers routed elsewhere are routed concurrently;
    numbers to release are released in one call (per O(batch_size) numbers). The number of API
    calls grows with the changes and the pages, not with the entries, and a second identical run
    makes no write at all.
  - Numbers the project already holds count toward a pool when they are in its country and
    area code and no number entry names them, whatever rule they are routed to; when the pool
    names a rule, they are routed to it. Pools with an area code choose before country-wide
    pools. A pool accounts for O(entries[].count) numbers and keeps the ones held longest
    (by C(assigned_at)); further matching numbers, the newest, are unlisted.
  - Candidates are chosen from the search by spam score, then by number, whatever order the
    server answers in, and the project is listed again just before each purchase of pool
    candidates. Runs of the same entries at the same time (or a run repeated while a cancelled
    one's purchase still goes through) therefore choose the same numbers, and count the ones
    the other bought instead of buying more.
  - When a number chosen for a pool is bought by someone else between the search and the
    purchase, the purchase (all or nothing on the server) is repeated with the next candidate
    from the search; ten refused purchases in a row fail the task.
  - Pools are filled, and O(release_unlisted) releases, only on a listing of the project that
    is shown complete (no record read twice, as many records as the server counts). Otherwise
    the project is listed again with larger pages, and if that does not help the task fails
    with RV(error.code=incomplete_listing) before any search or write.
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
  - livekit.sip.writes
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
      - Numbers whose records are uncertain (a status this collection does not know, fields
        the server left out) stay held, with a warning naming them; an entry with
        O(entries[].state=absent) releases them.
      - When a pool holds more than its count (after runs that overlapped), the numbers held
        longest stay and the newest are released.
    type: bool
    default: false
  max_purchase:
    description:
      - The most numbers this task may buy (the spend guard), counting explicit numbers and
        pool shortfalls. When the run would buy more, the task fails before searching or
        buying anything (in check mode too), naming what it would buy.
      - The default keeps a typo in a pool's count (V(100) for V(10)) from buying a hundred
        numbers; raise it deliberately for a large rollout.
      - O(purchase_limit), the name M(livekit.sip.phone_number) gave this option first, is an
        alias; messages quote the name the task used.
    type: int
    default: 10
    aliases: [purchase_limit]
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
  return_records:
    description:
      - Which records RV(phone_numbers) holds.
      - V(changed) returns the records of the numbers the run bought or routed, as the server
        answered those writes, when they are 1,000 or fewer; a run that changes more returns
        none (RV(purchased) and RV(routed) still name every number). RV(counts) counts the
        rest. The result stays small however many numbers the project holds, so that Ansible's
        handling of it (the no_log scrub, the transfer to the controller, registering it) does
        not cost more than the run.
      - V(all) returns every number the project holds after the run. A run that wrote then
        lists the project once more to read them.
      - V(none) returns no record.
    type: str
    choices: [changed, all, none]
    default: changed
    version_added: 0.1.0
notes:
  - Searching costs nothing; the searches of check mode are real requests.
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
    - With O(return_records=changed) (the default), the records of the numbers the run bought
      or routed, in that order, as the server answered those writes (a purchase may answer
      only the id, the number and the status). Empty when the run changed nothing, and when it
      changed more than 1,000 numbers (RV(purchased) and RV(routed) name them all).
    - With O(return_records=all), the records of every number the project holds after the run,
      in the order the server lists them. With O(return_records=none), empty.
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
  description: Numbers bought (in check mode, that would be bought), E.164.
  returned: always
  type: list
  elements: str
  sample: ["+16502047240", "+12122019609"]
routed:
  description:
    - Held numbers whose dispatch rule the task set (in check mode, would set), E.164.
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
pending:
  description: The numbers still pending when O(wait_timeout) ran out.
  returned: when O(wait=true) timed out
  type: list
  elements: str
  sample: ["+14155550100"]
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
error:
  description:
    - What went wrong, when the task failed. C(msg) says the same on one line.
  returned: failure
  type: dict
  contains:
    code:
      description:
        - The Twirp error code from the server (for example V(not_found), V(unauthenticated),
          V(resource_exhausted)), or a code of the collection for errors found before or
          without an answer (V(invalid_phone_number), V(invalid_parameter), V(config),
          V(transport), V(timeout), V(tls), V(malformed_response), V(pagination),
          V(incomplete_listing), V(write_mismatch), V(outcome_unknown), V(plan),
          V(unknown_id), V(purchase_limit), V(pool_shortfall), V(number_unavailable),
          V(wait_timeout)).
      type: str
      returned: always
    message:
      description: The error message.
      type: str
      returned: always
    http_status:
      description: The HTTP status of the answer, or V(null) when there was none.
      type: int
      returned: always
    request_id:
      description: The C(X-Livekit-Request-Id) of the failed call, or V(null) when no call was made.
      type: str
      returned: always
    meta:
      description: Details the server attached to the error (Twirp C(meta)), all values strings.
      type: dict
      returned: always
unlisted:
  description:
    - Numbers the project held before the run that no entry accounts for, E.164. With
      O(release_unlisted=true) they are released too.
  returned: success
  type: list
  elements: str
  sample: ["+14152045605"]
counts:
  description:
    - How many numbers the run found and changed, whatever O(return_records) says (in check
      mode, would change).
  returned: success
  type: dict
  sample: {held: 20000, purchased: 0, routed: 0, released: 0, unlisted: 0, unchanged: 20000}
  contains:
    held:
      description: Numbers the project holds after the run.
      type: int
      returned: always
    purchased:
      description: Numbers bought, the length of RV(purchased).
      type: int
      returned: always
    routed:
      description: Numbers routed, the length of RV(routed).
      type: int
      returned: always
    released:
      description: Numbers released, the length of RV(released).
      type: int
      returned: always
    unlisted:
      description: Numbers held that no entry accounts for, the length of RV(unlisted).
      type: int
      returned: always
    unchanged:
      description: Numbers held after the run that it neither bought nor routed.
      type: int
      returned: always
  version_added: 0.1.0
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

from ansible_collections.livekit.sip.plugins.module_utils._entries import parse_entries
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._execute import (
    Progress,
    by_number,
    execute,
    read_and_plan,
    settle,
)
from ansible_collections.livekit.sip.plugins.module_utils._module import (
    build_api,
    check_write_params,
    exit_check_mode,
    fail_with,
    invocation,
    settings,
    spend_option,
    warn_all,
    write_argument_spec,
)
from ansible_collections.livekit.sip.plugins.module_utils._plan import diff, predict


def check_params(params):
    """Validate what argument_spec cannot; raises ParameterError before any request."""
    check_write_params(params)
    numbers, pools = parse_entries(params["entries"])
    if params["release_unlisted"] and not numbers and not pools:
        raise ParameterError(
            "release_unlisted=true with no entries would release every number the project holds; "
            "list the numbers to keep, or release numbers with livekit.sip.phone_number state=absent"
        )
    return numbers, pools


def counts(held, plan, purchased, routed, released):
    """The ``counts`` return value."""
    touched = set(purchased) | set(routed)
    return {
        "held": len(held),
        "purchased": len(purchased),
        "routed": len(routed),
        "released": len(released),
        "unlisted": len(plan.unlisted),
        "unchanged": sum(1 for record in held if record["e164_format"] not in touched),
    }


# With return_records=changed, a run that changes more numbers returns none of their records:
# the lists of numbers name them, and thousands of records would cost more than the run.
CHANGED_RECORDS_LIMIT = 1000


def returned_records(choice, records, purchased, routed):
    """``phone_numbers`` for ``return_records=choice`` from the records held after the run."""
    if choice == "all":
        return records
    numbers = list(dict.fromkeys(list(purchased) + list(routed)))
    if choice == "none" or len(numbers) > CHANGED_RECORDS_LIMIT:
        return []
    index = by_number(records)
    return [index[number] for number in numbers if number in index]


def main():
    module = AnsibleModule(
        argument_spec=write_argument_spec(
            max_purchase=10,
            batch_size=True,
            entries={"type": "list", "elements": "dict", "required": True},
            release_unlisted={"type": "bool", "default": False},
            return_records={
                "type": "str",
                "default": "changed",
                "choices": ["changed", "all", "none"],
            },
        ),
        supports_check_mode=True,
    )
    params = module.params
    every_record = params["return_records"] == "all"
    try:
        numbers, pools = check_params(params)
    except LiveKitError as exc:
        fail_with(module, exc)

    api = build_api(module)
    run = settings(params)
    progress = Progress(api)
    try:
        current, planner = read_and_plan(
            api,
            run,
            numbers,
            pools,
            release_unlisted=params["release_unlisted"],
            max_purchase=params["max_purchase"],
            option=spend_option(params),
            progress=progress,
        )
    except LiveKitError as exc:
        warn_all(module, progress)
        fail_with(module, exc, **progress.result())
    warn_all(module, progress)
    plan = planner.plan
    if module.check_mode:
        predicted = predict(current, plan)
        exit_check_mode(
            module,
            api,
            current,
            plan,
            phone_numbers=returned_records(
                params["return_records"], predicted, plan.purchased, plan.routed
            ),
            counts=counts(predicted, plan, plan.purchased, plan.routed, plan.releases),
            unlisted=list(plan.unlisted),
            pools=planner.pool_results(),
        )

    try:
        execute(api, planner, run, progress)
        records = settle(api, planner, run, progress, current, relist=every_record)
    except LiveKitError as exc:
        fail_with(module, exc, **progress.result())

    result = progress.result()
    if module._diff:
        result["diff"] = diff(current, plan)
    module.exit_json(
        phone_numbers=returned_records(
            params["return_records"], records, progress.purchased, progress.routed
        ),
        counts=counts(records, plan, progress.purchased, progress.routed, progress.released),
        unlisted=list(plan.unlisted),
        pools=planner.pool_results(set(progress.purchased)),
        invocation=invocation(module),
        **result,
    )


if __name__ == "__main__":
    main()
