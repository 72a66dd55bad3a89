#!/usr/bin/python
# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: phone_number
short_description: Buy, route and release LiveKit Cloud phone numbers
version_added: 0.1.0
description:
  - Makes the project hold (O(state=present)) or not hold (O(state=absent)) the given phone
    numbers, and routes held numbers to a SIP dispatch rule.
  - A number is held when its status is V(pending), V(active) or V(offline). Released numbers,
    and numbers the project never had, count as absent.
  - The project's numbers are read with one paged listing; writes are made only where the
    numbers differ from what was asked, so a second identical run changes nothing.
  - B(Buying costs money and releasing is irreversible:) a released number goes back to the
    shared pool, where anyone may buy it. Use check mode and O(max_purchase) to stay in control.
  - It plans and writes as M(livekit.sip.phone_number_fleet) does, with one number entry per
    number, all sharing one O(state) and one dispatch rule (O(sip_dispatch_rule_id), or
    O(sip_dispatch_rule) by name).
author:
  - livekit.sip contributors (!UNKNOWN)
extends_documentation_fragment:
  - livekit.sip.auth
  - livekit.sip.auth.attributes
  - livekit.sip.writes
attributes:
  check_mode:
    support: full
    details: Reads the project's numbers and reports what would be bought, routed and released, without writing.
  diff_mode:
    support: full
    details: Shows, per changed number, whether it is held, its status, its dispatch rules and its label, before and after.
options:
  phone_numbers:
    description:
      - Phone numbers in E.164 format. Spaces, dashes, dots and parentheses are ignored, so
        V(+1 (415\) 555-0100) works; a leading V(00) instead of V(+) is refused.
      - Every number is checked before the first request; one that is not E.164 fails the task.
      - A single number can be given as a string.
      - Exactly one of O(phone_numbers) and O(ids) is required.
    type: list
    elements: str
    aliases: [phone_number]
  ids:
    description:
      - Ids (V(PN_...)) of numbers the project holds.
      - With O(state=present) they can only be routed; an id the project does not hold fails
        the task. With O(state=absent), unknown ids are no change.
    type: list
    elements: str
  state:
    description:
      - V(present) buys the numbers the project does not hold, in one purchase, and routes held
        numbers whose dispatch rules differ from O(sip_dispatch_rule_id).
      - V(absent) releases the held numbers in one call.
    type: str
    choices: [present, absent]
    default: present
  sip_dispatch_rule_id:
    description:
      - SIP dispatch rule the numbers must be routed to (exactly this one rule).
      - New numbers are bought with this rule.
      - When neither this nor O(sip_dispatch_rule) is set, routing is left alone and new
        numbers are bought without a rule, so they stay V(offline) until routed.
    type: str
  name:
    description:
      - The label every number given must have (protocol 1.52 C(name), a human-readable name).
      - Set with UpdatePhoneNumber only where it differs, in the same call as a route change
        when both change. Numbers bought get it right after the purchase, which cannot carry
        one.
      - An empty string clears the labels. When not set, labels are left alone.
      - A server that ignores labels (one that predates them) answers with the label
        unchanged; the task then fails with V(label_ignored) rather than report a change on
        every run.
      - Not with O(state=absent).
    type: str
    version_added: 0.2.0
  sip_dispatch_rule:
    description:
      - The same as O(sip_dispatch_rule_id), giving the rule by its name.
      - The name is looked up with one listing of the project's rules before any write. A name
        no rule has fails the task, saying which names exist; a name two rules share fails it,
        naming both ids.
      - Mutually exclusive with O(sip_dispatch_rule_id).
    type: str
    version_added: 0.2.0
  max_purchase:
    description:
      - The most numbers this task may buy (the spend guard). When the run would buy more, the
        task fails before anything is bought (in check mode too).
      - No limit when not set.
      - O(purchase_limit) is the name this option had first; it remains an alias, and messages
        quote the name the task used.
    type: int
    aliases: [purchase_limit]
    version_added: 0.2.0
seealso:
  - module: livekit.sip.phone_number_search
  - module: livekit.sip.phone_number_info
"""

EXAMPLES = r"""
# Connection options come from LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.
- name: Preview buying two numbers; check mode reads but never writes
  livekit.sip.phone_number:
    phone_numbers:
      - "+1 (415) 204-5605"
      - "+14152051456"
    sip_dispatch_rule_id: SDR_support
  check_mode: true
  register: preview

- name: Show what would be bought
  ansible.builtin.debug:
    msg: "Would buy {{ preview.purchased | join(', ') }}"

- name: Buy them routed to the support dispatch rule, at most two, and wait until provisioned
  livekit.sip.phone_number:
    phone_numbers:
      - "+1 (415) 204-5605"
      - "+14152051456"
    sip_dispatch_rule_id: SDR_support
    max_purchase: 2
    wait: true
    wait_timeout: 120

- name: Find one more number in the same area code
  livekit.sip.phone_number_search:
    country_code: US
    area_code: "415"
    limit: 1
  register: found

- name: Buy it without a dispatch rule (it stays offline until routed)
  livekit.sip.phone_number:
    phone_number: "{{ found.phone_numbers[0].e164_format }}"

- name: Route it to the sales dispatch rule
  livekit.sip.phone_number:
    phone_number: "{{ found.phone_numbers[0].e164_format }}"
    sip_dispatch_rule_id: SDR_sales
  register: routed

- name: Route the same number back to support and label it, in one call, by id
  livekit.sip.phone_number:
    ids:
      - "{{ routed.phone_numbers[0].id }}"
    sip_dispatch_rule_id: SDR_support
    name: Support overflow

- name: Release all three numbers (irreversible), showing the change in diff mode
  livekit.sip.phone_number:
    phone_numbers:
      - "+14152045605"
      - "+14152051456"
      - "{{ found.phone_numbers[0].e164_format }}"
    state: absent
  diff: true

- name: A rule for the sales line, made with the dispatch-rule module
  livekit.sip.sip_dispatch_rule:
    name: sales
    type: callee
    room_prefix: sales-

- name: Buy a number routed to it by name; no id to copy into the inventory
  livekit.sip.phone_number:
    phone_number: "+16502047240"
    sip_dispatch_rule: sales
  register: sales_line

- name: Release it again
  livekit.sip.phone_number:
    ids: ["{{ sales_line.phone_numbers[0].id }}"]
    state: absent

- name: Delete the sales rule, which no number is routed to any more
  livekit.sip.sip_dispatch_rule:
    name: sales
    state: absent
"""

RETURN = r"""
phone_numbers:
  description:
    - Records of the numbers the task is about that the project holds after the run, in the
      order given. Numbers released (or never held) are left out.
    - In check mode, the records predicted; a number to be bought has only RV(phone_numbers[].e164_format),
      status V(pending), its rule and its label.
  returned: success
  type: list
  elements: dict
  sample:
    - id: PN_7Jc3kQ2a
      name: Support line
      e164_format: "+14155550100"
      country_code: US
      area_code: "415"
      number_type: local
      locality: San Francisco
      region: CA
      spam_score: 0.0
      capabilities: [voice, sms]
      status: active
      inbound_status: active
      outbound_status: unavailable
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
    name:
      description:
        - The number's label, a human-readable name; empty when it has none.
        - Always empty from servers that predate labels.
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
        - V(unspecified) when the server gives none, as for numbers offered for sale.
        - A status this collection does not know (from a later protocol) is returned in the
          same short form, for example V(suspended), or V(unknown_7) for a bare number.
      type: str
      choices: [active, pending, released, offline, unspecified]
      returned: always
    inbound_status:
      description:
        - Whether the number takes inbound calls. V(active) when it does, V(unavailable) when the
          server says it cannot now, V(detached) when it is not associated with dispatch rules.
        - V(unspecified) when the server gives none, as servers that predate this field do.
      type: str
      choices: [active, unavailable, detached, unspecified]
      returned: always
    outbound_status:
      description:
        - Whether the number can place outbound calls. V(active) when it can, V(unavailable) when
          it cannot now.
        - V(unspecified) when the server gives none, as servers that predate this field do.
      type: str
      choices: [active, unavailable, unspecified]
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
      description: When the number was released (ISO 8601, UTC), or V(null).
      type: str
      returned: always
purchased:
  description: Numbers bought (in check mode, that would be bought), E.164.
  returned: always
  type: list
  elements: str
  sample: ["+14155550100"]
routed:
  description:
    - Held numbers whose dispatch rule the task set (in check mode, would set), E.164.
  returned: always
  type: list
  elements: str
  sample: ["+14155550101"]
labelled:
  description:
    - Numbers whose label (O(name)) the task set (in check mode, would set), E.164. A label
      and a route of one number are set by one call.
  returned: always
  type: list
  elements: str
  sample: ["+14155550101"]
  version_added: 0.2.0
released:
  description: Numbers released (in check mode, that would be), E.164.
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
  version_added: 0.2.0
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
          V(wait_timeout), V(label_ignored)), or V(unknown_rule) and V(duplicate_name) for an
          O(sip_dispatch_rule) that no rule, or several rules, have.
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
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.livekit.sip.plugins.module_utils._dispatch_rules import resolve_names
from ansible_collections.livekit.sip.plugins.module_utils._e164 import normalize_many
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._execute import (
    Progress,
    by_number,
    execute,
    read_project,
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
from ansible_collections.livekit.sip.plugins.module_utils._plan import diff, plan_numbers
from ansible_collections.livekit.sip.plugins.module_utils._sip_api import SipApi


def check_params(params):
    """Validate what argument_spec cannot; raises ParameterError before any request."""
    check_write_params(params)
    if params["name"] is not None and params["state"] == "absent":
        raise ParameterError(
            "name labels numbers the project keeps; it cannot go with state=absent"
        )
    option = (
        "sip_dispatch_rule" if params["sip_dispatch_rule"] is not None else "sip_dispatch_rule_id"
    )
    rule = params[option]
    if rule is not None and not rule.strip():
        # The API can set a rule but has no way to clear one.
        raise ParameterError(f"{option} must not be empty; omit it to leave routing alone")
    numbers = normalize_many(params["phone_numbers"] or [])
    ids = []
    for ident in params["ids"] or []:
        ident = ident.strip()
        if not ident:
            raise ParameterError("ids must not contain empty strings")
        if ident not in ids:
            ids.append(ident)
    if not numbers and not ids:
        raise ParameterError("phone_numbers or ids must name at least one number")
    return numbers, ids, rule.strip() if rule is not None else None


def module_spec():
    """The keyword arguments of AnsibleModule (and of the action's ControllerModule)."""
    return {
        "argument_spec": write_argument_spec(
            phone_numbers={"type": "list", "elements": "str", "aliases": ["phone_number"]},
            ids={"type": "list", "elements": "str"},
            state={"type": "str", "default": "present", "choices": ["present", "absent"]},
            sip_dispatch_rule_id={"type": "str"},
            name={"type": "str"},
            sip_dispatch_rule={"type": "str"},
        ),
        "mutually_exclusive": [
            ("phone_numbers", "ids"),
            ("sip_dispatch_rule_id", "sip_dispatch_rule"),
        ],
        "required_one_of": [("phone_numbers", "ids")],
        "supports_check_mode": True,
    }


def main():
    run(AnsibleModule(**module_spec()))


def run(module):
    """The task, given an AnsibleModule or the action plugin's controller-side stand-in."""
    params = module.params
    try:
        numbers, ids, rule = check_params(params)
    except LiveKitError as exc:
        fail_with(module, exc)

    api = build_api(module)
    run = settings(params)
    progress = Progress(api)
    try:
        if params["sip_dispatch_rule"] is not None:
            # One listing of the rules, before anything is read or written of the numbers.
            rule = resolve_names(SipApi(api.twirp).list(), [rule])[rule]
        absent = params["state"] == "absent"
        current, dummy = read_project(
            api,
            run.page_size,
            absent=numbers if absent else (),
            present=() if absent else numbers,
            progress=progress,
            absent_ids=ids if absent else (),
        )
        planner = plan_numbers(
            current,
            params["state"],
            numbers=numbers,
            ids=ids,
            rule=rule,
            max_purchase=params["max_purchase"],
            option=spend_option(params),
            name=params["name"],
        )
    except LiveKitError as exc:
        warn_all(module, progress)
        fail_with(module, exc, **progress.result())
    warn_all(module, progress)
    plan = planner.plan
    exit_check_mode(module, api, current, plan)

    try:
        # A refused purchase is reported as the server gave it: this module documents the
        # server's codes (not_found, ...) for numbers that are not for sale.
        execute(api, planner, run, progress, recover_taken=False)
        records = settle(api, planner, run, progress, current)
    except LiveKitError as exc:
        fail_with(module, exc, **progress.result())

    index = by_number(records)
    for number, record in progress.records.items():
        index.setdefault(number, record)
    after = [index[n] for n in plan.targets if n in index]
    result = progress.result()
    result["phone_numbers"] = after
    if module._diff:
        result["diff"] = diff(current, plan, after)
    result["invocation"] = invocation(module)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
