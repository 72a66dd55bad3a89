#!/usr/bin/python
# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sip_dispatch_rule
short_description: Create, update and delete a LiveKit SIP dispatch rule
version_added: 0.2.0
description:
  - Makes one SIP dispatch rule exist as described (O(state=present)) or not exist
    (O(state=absent)). A dispatch rule decides which room an inbound call joins, and which
    agents are dispatched into that room.
  - The rule is found by O(name) (the whole listing of the project's rules is read, page by
    page) or by O(id). Two rules with the same name make the task fail, naming both ids, before
    anything is written.
  - Options left unset are left as they are on the server. A list or dict that is given is the
    exact value the rule gets.
  - An update never clears a field the task did not mention, including fields this module does
    not model (room configuration details, codecs, fields added to the protocol later). Changes
    of the trunks, the rule kind and room, the pin, the name, metadata, attributes and media
    encryption are sent as a partial update; any other change sends the server's own record
    with the changes laid over it.
  - A second identical run changes nothing and sends no write.
author:
  - livekit.sip contributors (!UNKNOWN)
extends_documentation_fragment:
  - livekit.sip.auth
  - livekit.sip.auth.attributes
attributes:
  check_mode:
    support: full
    details: Reads the rules (and, to delete, the numbers routed to the rule) and reports what would change, without writing.
  diff_mode:
    support: full
    details: Shows the rule before and after; a changed pin shows as changed without its value.
options:
  name:
    description:
      - Name of the rule. Identifies the rule when O(id) is not given; rules are found by
        their exact name.
      - With O(id), the name the rule should have (a rename). A rename to a name another rule
        already has fails.
      - One of O(name) and O(id) is required; to create a rule, O(name) is.
    type: str
  id:
    description:
      - Id of the rule (V(SDR_...)). The server chooses ids, so a rule cannot be created with
        one; an id the server does not know fails the task with O(state=present) and is no
        change with O(state=absent).
    type: str
  state:
    description:
      - V(present) creates the rule or updates it to match; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - The kind of rule. V(direct) sends every call into the room O(room_name);
        V(individual) creates a room per caller, named O(room_prefix) plus the caller's
        number; V(callee) creates a room per called number, named O(room_prefix) plus that
        number.
      - Required to create a rule.
    type: str
    choices: [direct, individual, callee]
  room_name:
    description:
      - The room calls join, for O(type=direct). Required to create a direct rule.
    type: str
  room_prefix:
    description:
      - Prefix of the names of the rooms created, for O(type=individual) and O(type=callee).
    type: str
  randomize_room:
    description:
      - Whether a random suffix is added to the names of the rooms created, for
        O(type=individual) and O(type=callee) (the protocol's C(no_randomness) and
        C(randomize), turned the same way round).
      - When a rule is created without it, the server's default applies - V(true) for
        individual rules and V(false) for callee rules.
    type: bool
  pin:
    description:
      - PIN a caller must enter to join. An empty string removes the PIN.
      - Never shown in results; RV(sip_dispatch_rule.pin_set) says whether one is set.
    type: str
  trunk_ids:
    description:
      - Inbound trunks whose calls the rule accepts. An empty list means every trunk.
    type: list
    elements: str
  numbers:
    description:
      - Called numbers the rule accepts (calls TO these numbers). An empty list means any.
    type: list
    elements: str
  inbound_numbers:
    description:
      - Calling numbers the rule accepts (calls FROM these numbers). An empty list means any.
    type: list
    elements: str
  hide_phone_number:
    description:
      - Whether callers get a random participant identity instead of their phone number, and
        their number is left out of the participant's attributes.
    type: bool
  metadata:
    description:
      - Metadata participants created by the rule inherit. An empty string removes it.
    type: str
  attributes:
    description:
      - Attributes participants created by the rule inherit; the exact set the rule gets
        (keys not given are removed, V({}) removes all).
      - Values must not be empty (the server reads an empty value as "remove this key").
    type: dict
  agents:
    description:
      - The agents dispatched into the room of each call (the protocol's
        C(room_config.agents)), in order; the exact list (V([]) dispatches none).
      - Other settings of an agent kept on the server (a deployment, attributes) are kept for
        an agent of the same O(agents[].agent_name).
    type: list
    elements: dict
    suboptions:
      agent_name:
        description: Name of the agent.
        type: str
        required: true
      metadata:
        description:
          - Metadata handed to the agent's job. When not set, an agent already listed keeps
            its metadata and a new one gets none.
        type: str
  room_preset:
    description:
      - Name of a room configuration preset of the LiveKit Cloud project. An empty string
        removes it.
    type: str
  krisp_enabled:
    description:
      - Whether Krisp noise cancellation is applied to callers.
    type: bool
  media_encryption:
    description:
      - Encryption of the call's media (SRTP). V(disable) never encrypts, V(allow) encrypts
        when the caller's side offers it, V(require) refuses calls that cannot be encrypted.
      - Other media settings kept on the server (codecs, timeout) are kept.
    type: str
    choices: [disable, allow, require]
  force:
    description:
      - Delete the rule even when phone numbers are routed to it. Those numbers stop answering
        calls until routed to another rule.
      - Without it, deleting a rule that numbers are routed to fails, naming the numbers.
    type: bool
    default: false
  page_size:
    description:
      - How many rules to ask the server for per page when reading the project's rules
        (1 to 1000). The server may send fewer; reading goes on until a page is empty.
    type: int
    default: 100
notes:
  - A write whose answer is lost is repeated with the same request id (see O(retries)); if its
    outcome is still unknown, the rule is read again and a write found carried out counts as
    done, so a rule is never created twice.
  - The server refuses a rule that conflicts with another one, that is one that would take the
    same calls (the same trunk, called number, calling number and PIN); the task then fails with
    the server's message naming the other rule.
  - Only explicit routing counts for O(force); a rule without trunks and numbers catches calls
    of numbers routed to no rule, and deleting it is not checked against them.
seealso:
  - module: livekit.sip.sip_dispatch_rule_info
  - module: livekit.sip.phone_number
"""

EXAMPLES = r"""
# Connection options come from LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.
- name: Preview the support line's rule; check mode reads but never writes
  livekit.sip.sip_dispatch_rule:
    name: support
    type: individual
    room_prefix: support-
    agents:
      - agent_name: support-agent
        metadata: '{"queue": "tier1"}'
  check_mode: true
  diff: true
  register: preview

- name: Show what would be done
  ansible.builtin.debug:
    msg: "Would {{ preview.action }} the rule support"

- name: A room per caller, with the support agent dispatched into it
  livekit.sip.sip_dispatch_rule:
    name: support
    type: individual
    room_prefix: support-
    agents:
      - agent_name: support-agent
        metadata: '{"queue": "tier1"}'
    attributes:
      team: support
    media_encryption: allow
  register: support

- name: Buy a number routed to that rule
  livekit.sip.phone_number:
    phone_number: "+1 (415) 204-5605"
    sip_dispatch_rule_id: "{{ support.sip_dispatch_rule.id }}"

- name: Change only the metadata; every other field stays as it is
  livekit.sip.sip_dispatch_rule:
    name: support
    metadata: '{"hours": "9-17"}'

- name: A PIN-protected conference room for calls to one number
  livekit.sip.sip_dispatch_rule:
    name: board-bridge
    type: direct
    room_name: board
    pin: "{{ board_pin | default('4711') }}"
    numbers: ["+14152045605"]
    hide_phone_number: true
  register: bridge

- name: Rename the bridge, finding it by id
  livekit.sip.sip_dispatch_rule:
    id: "{{ bridge.sip_dispatch_rule.id }}"
    name: board-conference

- name: Deleting a rule a number is routed to fails unless forced
  livekit.sip.sip_dispatch_rule:
    name: support
    state: absent
  register: refused
  failed_when: refused.error.code | default('') != 'rule_in_use'

- name: Delete it anyway; the number stops answering calls
  livekit.sip.sip_dispatch_rule:
    name: support
    state: absent
    force: true
  register: deleted

- name: Release the number
  livekit.sip.phone_number:
    phone_numbers: "{{ deleted.unrouted_numbers }}"
    state: absent

- name: Delete the bridge
  livekit.sip.sip_dispatch_rule:
    name: board-conference
    state: absent
"""

RETURN = r"""
sip_dispatch_rule:
  description:
    - The rule after the run (in check mode, as it would be), normalised - snake_case names,
      fields the server left out at their zero value. Empty after a deletion.
  returned: success
  type: dict
  sample:
    id: SDR_3a9Xk2LmQp
    name: support
    type: individual
    room_name: ""
    room_prefix: support-
    pin_set: false
    randomize_room: true
    trunk_ids: []
    numbers: []
    inbound_numbers: []
    hide_phone_number: false
    metadata: '{"hours": "9-17"}'
    attributes: {team: support}
    agents:
      - agent_name: support-agent
        metadata: '{"queue": "tier1"}'
    room_preset: ""
    krisp_enabled: false
    media_encryption: allow
    created_at: "2026-09-08T12:00:00Z"
    updated_at: "2026-09-08T12:05:00Z"
  contains:
    id:
      description: The rule's id (V(SDR_...)); empty for a rule still to be created in check mode.
      type: str
      returned: always
    name:
      description: The rule's name.
      type: str
      returned: always
    type:
      description: The kind of rule; empty for a kind this collection does not know.
      type: str
      choices: [direct, individual, callee, ""]
      returned: always
    room_name:
      description: The room of a direct rule; empty for the other kinds.
      type: str
      returned: always
    room_prefix:
      description: The room name prefix of an individual or callee rule; empty for direct rules.
      type: str
      returned: always
    pin_set:
      description: Whether callers must enter a PIN (the PIN itself is never returned).
      type: bool
      returned: always
    randomize_room:
      description: Whether room names get a random suffix; V(false) for direct rules.
      type: bool
      returned: always
    trunk_ids:
      description: Trunks the rule accepts calls from; empty for every trunk.
      type: list
      elements: str
      returned: always
    numbers:
      description: Called numbers the rule accepts; empty for any.
      type: list
      elements: str
      returned: always
    inbound_numbers:
      description: Calling numbers the rule accepts; empty for any.
      type: list
      elements: str
      returned: always
    hide_phone_number:
      description: Whether callers' numbers are hidden from the room.
      type: bool
      returned: always
    metadata:
      description: Metadata of the participants the rule creates.
      type: str
      returned: always
    attributes:
      description: Attributes of the participants the rule creates.
      type: dict
      returned: always
    agents:
      description: Agents dispatched into the room, in order.
      type: list
      elements: dict
      returned: always
      contains:
        agent_name:
          description: Name of the agent.
          type: str
          returned: always
        metadata:
          description: Metadata handed to the agent's job.
          type: str
          returned: always
    room_preset:
      description: Room configuration preset; may be empty.
      type: str
      returned: always
    krisp_enabled:
      description: Whether Krisp noise cancellation is on.
      type: bool
      returned: always
    media_encryption:
      description: Media encryption in force.
      type: str
      choices: [disable, allow, require]
      returned: always
    created_at:
      description: When the rule was created (ISO 8601, UTC), or V(null).
      type: str
      returned: always
    updated_at:
      description: When the rule last changed (ISO 8601, UTC), or V(null).
      type: str
      returned: always
action:
  description:
    - What the task did (in check mode, would do). V(update) is the server's partial update,
      V(replace) a full record sent back with changes laid over it.
  returned: success
  type: str
  choices: [create, update, replace, delete, none]
  sample: update
changes:
  description: Options whose value changed (in check mode, would change), in the order of the options.
  returned: success
  type: list
  elements: str
  sample: [metadata]
unrouted_numbers:
  description:
    - Numbers (E.164) routed to the rule when it was deleted with O(force=true) (in check mode,
      that would be); they answer no calls until routed to another rule.
  returned: when O(state=absent)
  type: list
  elements: str
  sample: ["+14152045605"]
api_calls:
  description: The requests the task made to the server, the repeated ones included (see O(retries)).
  returned: when the options were valid
  type: dict
  sample: {calls: 2, attempts: 2, retries: 0}
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
        - The Twirp error code from the server (for example V(invalid_argument) for a conflict
          between rules, V(not_found), V(unauthenticated)), or a code of the collection -
          V(duplicate_name) (several rules with the name), V(rule_in_use) (numbers are routed
          to the rule), V(invalid_parameter), V(config), V(transport),
          V(timeout), V(tls), V(malformed_response), V(pagination), V(write_disagrees).
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
routed_numbers:
  description: The numbers (E.164) routed to the rule that made the deletion fail.
  returned: when the task failed with RV(error.code=rule_in_use)
  type: list
  elements: str
  sample: ["+14152045605"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.livekit.sip.plugins.module_utils._dispatch_rules import (
    RuleInUse,
    desired_from_params,
    find_by_name,
    plan_rule,
    public_rule,
    rule_diff,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._module import (
    api_calls,
    auth_argument_spec,
    build_api,
    fail_with,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import is_held
from ansible_collections.livekit.sip.plugins.module_utils._rule_set import rule_options
from ansible_collections.livekit.sip.plugins.module_utils._rule_writes import carry_out
from ansible_collections.livekit.sip.plugins.module_utils._sip_api import SipApi

MAX_PAGE_SIZE = 1000
NUMBER_PAGE_SIZE = 500


def check_params(params):
    if not 1 <= params["page_size"] <= MAX_PAGE_SIZE:
        raise ParameterError(
            "page_size must be between 1 and %d, not %d" % (MAX_PAGE_SIZE, params["page_size"])
        )
    for name in ("name", "id"):
        if params[name] is not None and not params[name].strip():
            raise ParameterError(f"{name} must not be empty")
    if params["state"] == "present" and params["id"] is None and params["name"] is None:
        raise ParameterError("name or id is required")
    return desired_from_params(params)


def find_current(sip, params):
    """(normalised rule, raw JSON) of the rule the task is about, or (None, None)."""
    if params["id"]:
        record = sip.get_record(params["id"].strip())
        if record is None:
            if params["state"] == "present":
                raise ParameterError(
                    "no SIP dispatch rule has the id %s; the server chooses ids, so give name "
                    "(without id) to create a rule" % params["id"]
                )
            return None, None
        return record.rule, record.raw
    records = sip.list_records(params["page_size"])
    rule = find_by_name([r.rule for r in records], params["name"])
    if rule is None:
        return None, None
    raw = next(r.raw for r in records if r.rule["id"] == rule["id"])
    return rule, raw


def check_rename(sip, params, plan):
    """A rename must not make two rules share a name (the name is how rules are found)."""
    if plan.action not in ("update", "replace") or "name" not in plan.changes:
        return
    others = [
        rule["id"]
        for rule in sip.list(params["page_size"])
        if rule["name"] == plan.after["name"] and rule["id"] != plan.before["id"]
    ]
    if others:
        raise ParameterError(
            "cannot rename %s to %r: the rule %s has that name already"
            % (plan.before["id"], plan.after["name"], ", ".join(others))
        )


def routed_numbers(api, rule_id):
    """Held numbers routed to the rule, E.164, from a listing filtered by the rule."""
    listing = api.list(sip_dispatch_rule_id=rule_id, page_size=NUMBER_PAGE_SIZE)
    # The filter is the server's; a number only counts when its own record names the rule.
    return sorted(
        record["e164_format"]
        for record in listing.records
        if is_held(record) and rule_id in record["sip_dispatch_rule_ids"]
    )


def module_spec():
    """The keyword arguments of AnsibleModule (and of the action's ControllerModule)."""
    return {
        "argument_spec": auth_argument_spec(
            id={"type": "str"},
            page_size={"type": "int", "default": 100},
            **rule_options(),
        ),
        "required_one_of": [("name", "id")],
        "supports_check_mode": True,
    }


def main():
    run(AnsibleModule(**module_spec()))


def run(module):
    """The task, given an AnsibleModule or the action plugin's controller-side stand-in."""
    params = module.params
    try:
        desired = check_params(params)
    except LiveKitError as exc:
        fail_with(module, exc)

    api = build_api(module)
    sip = SipApi(api.twirp)
    try:
        current, raw = find_current(sip, params)
        if params["state"] == "present" and current is None and not params["name"]:
            raise ParameterError("name is required to create a SIP dispatch rule")
        plan = plan_rule(desired, current, raw, params["state"])
        check_rename(sip, params, plan)
        unrouted = []
        if plan.action == "delete":
            unrouted = routed_numbers(api, current["id"])
            if unrouted and not params["force"]:
                raise RuleInUse(
                    "%d phone number(s) are routed to the SIP dispatch rule %s (%s): %s; they "
                    "would stop answering calls. Route them to another rule first, or set "
                    "force=true"
                    % (len(unrouted), current["id"], current["name"], ", ".join(unrouted)),
                    numbers=unrouted,
                )
    except RuleInUse as exc:
        fail_with(module, exc, routed_numbers=exc.numbers, api_calls=api_calls(api))
    except LiveKitError as exc:
        fail_with(module, exc, api_calls=api_calls(api))

    result = {"changed": plan.changed, "action": plan.action, "changes": plan.changes}
    if params["state"] == "absent":
        result["unrouted_numbers"] = unrouted
    after = plan.after
    if plan.changed and not module.check_mode:
        try:
            after = carry_out(sip, plan, params["page_size"])
        except LiveKitError as exc:
            fail_with(module, exc, api_calls=api_calls(api), **result)
    result["sip_dispatch_rule"] = public_rule(after)
    result["api_calls"] = api_calls(api)
    if module._diff:
        result["diff"] = rule_diff(plan)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
