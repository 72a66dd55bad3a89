#!/usr/bin/python
# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sip_dispatch_rule_info
short_description: Read the SIP dispatch rules of a LiveKit project
version_added: 0.2.0
description:
  - Returns one SIP dispatch rule, by O(name) or O(id), or every rule of the project.
  - The listing is read page by page until the server sends an empty page; a page shorter
    than O(page_size) is not taken as the end, since servers may cap their pages.
  - Reads only; never changes anything.
author:
  - livekit.sip contributors (!UNKNOWN)
extends_documentation_fragment:
  - livekit.sip.auth
  - livekit.sip.auth.attributes
attributes:
  check_mode:
    support: full
    details: The module only reads, so it behaves the same in check mode.
  diff_mode:
    support: N/A
    details: The module changes nothing.
options:
  name:
    description:
      - Return the rules with exactly this name (the whole listing is read to find them).
        Several rules may share a name; all of them are returned.
      - Mutually exclusive with O(id).
    type: str
  id:
    description:
      - Return the rule with this id (V(SDR_...)); an id the server does not know gives an
        empty RV(sip_dispatch_rules), not a failure.
      - Mutually exclusive with O(name).
    type: str
  page_size:
    description:
      - How many rules to ask the server for per page (1 to 1000).
    type: int
    default: 100
seealso:
  - module: livekit.sip.sip_dispatch_rule
"""

EXAMPLES = r"""
# Connection options come from LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.
- name: A rule to look at
  livekit.sip.sip_dispatch_rule:
    name: sales
    type: callee
    room_prefix: sales-
  register: sales

- name: Every dispatch rule of the project
  livekit.sip.sip_dispatch_rule_info:
  register: all_rules

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ all_rules.sip_dispatch_rules | map(attribute='name') | join(', ') }}"

- name: One rule by name
  livekit.sip.sip_dispatch_rule_info:
    name: sales
  register: by_name

- name: One rule by id; an unknown id gives an empty list
  livekit.sip.sip_dispatch_rule_info:
    id: "{{ sales.sip_dispatch_rule.id }}"
  register: by_id

- name: Check that both found the same rule
  ansible.builtin.assert:
    that:
      - by_name.sip_dispatch_rules | length == 1
      - by_id.sip_dispatch_rules[0].id == by_name.sip_dispatch_rules[0].id

- name: Clean up
  livekit.sip.sip_dispatch_rule:
    name: sales
    state: absent
"""

RETURN = r"""
sip_dispatch_rules:
  description:
    - The rules found, in the server's order (by id). Normalised - snake_case names, fields
      the server left out at their zero value.
  returned: success
  type: list
  elements: dict
  sample:
    - id: SDR_3a9Xk2LmQp
      name: sales
      type: callee
      room_name: ""
      room_prefix: sales-
      pin_set: false
      randomize_room: false
      trunk_ids: []
      numbers: []
      inbound_numbers: []
      hide_phone_number: false
      metadata: ""
      attributes: {}
      agents: []
      room_preset: ""
      krisp_enabled: false
      media_encryption: disable
      created_at: "2026-09-08T12:00:00Z"
      updated_at: "2026-09-08T12:00:00Z"
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
pages:
  description: How many listing pages were read (0 for a lookup by id).
  returned: success
  type: int
  sample: 2
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
        - The Twirp error code from the server, or a code of the collection for errors found
          before or without an answer (V(invalid_parameter), V(config), V(transport),
          V(timeout), V(tls), V(malformed_response), V(pagination)).
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

from ansible_collections.livekit.sip.plugins.module_utils._dispatch_rules import public_rule
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
from ansible_collections.livekit.sip.plugins.module_utils._sip_api import SipApi

MAX_PAGE_SIZE = 1000


def check_params(params):
    if not 1 <= params["page_size"] <= MAX_PAGE_SIZE:
        raise ParameterError(
            "page_size must be between 1 and %d, not %d" % (MAX_PAGE_SIZE, params["page_size"])
        )
    for name in ("name", "id"):
        if params[name] is not None and not params[name].strip():
            raise ParameterError(f"{name} must not be empty")


def module_spec():
    """The keyword arguments of AnsibleModule (and of the action's ControllerModule)."""
    return {
        "argument_spec": auth_argument_spec(
            name={"type": "str"},
            id={"type": "str"},
            page_size={"type": "int", "default": 100},
        ),
        "mutually_exclusive": [("name", "id")],
        "supports_check_mode": True,
    }


def main():
    run(AnsibleModule(**module_spec()))


def run(module):
    """The task, given an AnsibleModule or the action plugin's controller-side stand-in."""
    params = module.params
    try:
        check_params(params)
    except LiveKitError as exc:
        fail_with(module, exc)
    api = build_api(module)
    sip = SipApi(api.twirp)
    try:
        if params["id"]:
            found = [record.rule for record in sip.get_records([params["id"].strip()]) if record]
        else:
            found = sip.list(params["page_size"])
            if params["name"] is not None:
                found = [rule for rule in found if rule["name"] == params["name"]]
    except LiveKitError as exc:
        fail_with(module, exc, api_calls=api_calls(api))
    module.exit_json(
        changed=False,
        sip_dispatch_rules=[public_rule(rule) for rule in found],
        pages=sip.pages,
        api_calls=api_calls(api),
    )


if __name__ == "__main__":
    main()
