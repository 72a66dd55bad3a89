#!/usr/bin/python
# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: phone_number_info
short_description: Read the phone numbers of a LiveKit Cloud project
version_added: 0.1.0
description:
  - Returns one phone number, by O(id) or O(phone_number), or a listing of the project's numbers,
    optionally filtered by O(statuses) and O(sip_dispatch_rule_id), which the server applies,
    and by O(name), O(country_code) and O(area_code), which the module applies.
  - Listings follow the server's pages to the end, or until O(limit) numbers were read. With
    O(name), O(country_code) or O(area_code), the whole listing is read and filtered, then cut
    to O(limit).
  - A listing that the server's pages and counters do not show complete (pages that shifted
    while they were read, or fewer records than the server's C(total_count)) is returned with a
    warning that numbers may be missing, as are records whose status this collection does not
    know. A listing cut at O(limit) is short on purpose and not warned about.
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
  id:
    description:
      - Id of one number (V(PN_...)).
      - Mutually exclusive with O(phone_number) and with every listing option.
    type: str
  phone_number:
    description:
      - One number in E.164 format. Spaces, dashes, dots and parentheses are ignored, so
        V(+1 (415\) 555-0100) works.
      - A number the project does not know gives an empty RV(phone_numbers), not a failure.
      - Mutually exclusive with O(id) and with every listing option.
    type: str
  statuses:
    description:
      - List only numbers in these statuses. All statuses when not set.
      - V(active), V(pending) and V(offline) numbers are held by the project; V(released)
        ones were given up and stay listed.
    type: list
    elements: str
    choices: [active, pending, released, offline]
  sip_dispatch_rule_id:
    description:
      - List only numbers routed to this SIP dispatch rule.
    type: str
  name:
    description:
      - List only numbers with exactly this label (case and spaces count).
      - An empty string lists the numbers without a label. Servers that predate labels report
        none, so every number counts as unlabelled there.
    type: str
  country_code:
    description:
      - List only numbers of this country (ISO 3166-1 alpha-2, for example V(US)). Case does not
        matter.
    type: str
  area_code:
    description:
      - List only numbers in this area code, for example V(415).
    type: str
  limit:
    description:
      - Return at most this many numbers. All of them when not set.
    type: int
  page_size:
    description:
      - How many numbers to ask the server for per page (1 to 1000). Without O(limit), the pages
        after the first are asked for in parallel (8 at a time) when the server's page tokens
        allow it.
    type: int
    default: 1000
seealso:
  - module: livekit.sip.phone_number
  - module: livekit.sip.phone_number_search
"""

EXAMPLES = r"""
# Connection options come from LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.
- name: List every number the project has ever had
  livekit.sip.phone_number_info:
  register: all_numbers

- name: List the numbers the project holds
  livekit.sip.phone_number_info:
    statuses: [active, pending, offline]
  register: held

- name: Show how many are not routed to any dispatch rule
  ansible.builtin.debug:
    msg: "{{ held.total_count }} held, {{ held.offline_count }} offline"

- name: Numbers routed to one dispatch rule
  livekit.sip.phone_number_info:
    sip_dispatch_rule_id: SDR_support
  register: support_numbers

- name: Numbers labelled "Support line" in the 415 area code
  livekit.sip.phone_number_info:
    name: Support line
    country_code: US
    area_code: "415"
  register: labelled

- name: Look up one number; a number the project never had gives an empty list
  livekit.sip.phone_number_info:
    phone_number: "+1 (415) 204-5605"
  register: one

- name: Look up one number by id
  livekit.sip.phone_number_info:
    id: PN_3H5Df81s3Eiz
  register: by_id

- name: Connection options set once for every module of the collection
  module_defaults:
    group/livekit.sip.all:
      url: "{{ lookup('ansible.builtin.env', 'LIVEKIT_URL') }}"
      api_key: "{{ lookup('ansible.builtin.env', 'LIVEKIT_API_KEY') }}"
      api_secret: "{{ lookup('ansible.builtin.env', 'LIVEKIT_API_SECRET') }}"
  block:
    - name: The first ten released numbers
      livekit.sip.phone_number_info:
        statuses: [released]
        limit: 10
"""

RETURN = r"""
phone_numbers:
  description:
    - The numbers found, as the server ordered them. Empty when O(id) or O(phone_number) names
      a number the project does not know.
    - Fields the server left out have their zero value.
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
total_count:
  description:
    - For a listing, the server's count of numbers matching the filters (all pages). With
      O(name), O(country_code) or O(area_code), the count of listed numbers that match every
      filter, before O(limit). For a lookup by O(id) or O(phone_number), the length of
      RV(phone_numbers).
  returned: success
  type: int
  sample: 42
offline_count:
  description:
    - For a listing, the server's count of held numbers not routed to any dispatch rule; V(0)
      from servers that predate this counter. With O(name), O(country_code) or O(area_code),
      the count of V(offline) numbers among those that match, before O(limit). For a lookup,
      V(1) when the number is offline.
  returned: success
  type: int
  sample: 3
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
          V(transport), V(timeout), V(tls), V(malformed_response), V(pagination)).
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

from ansible_collections.livekit.sip.plugins.module_utils._e164 import normalize_e164
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._filters import ListingFilter
from ansible_collections.livekit.sip.plugins.module_utils._module import (
    auth_argument_spec,
    build_api,
    fail_with,
)
from ansible_collections.livekit.sip.plugins.module_utils._records import STATUS_CHOICES

MAX_PAGE_SIZE = 1000
LISTING_OPTIONS = ("statuses", "sip_dispatch_rule_id", "name", "country_code", "area_code", "limit")


def module_spec():
    """The keyword arguments of AnsibleModule (and of the action's ControllerModule)."""
    return {
        "argument_spec": auth_argument_spec(
            id={"type": "str"},
            phone_number={"type": "str"},
            statuses={"type": "list", "elements": "str", "choices": list(STATUS_CHOICES)},
            sip_dispatch_rule_id={"type": "str"},
            name={"type": "str"},
            country_code={"type": "str"},
            area_code={"type": "str"},
            limit={"type": "int"},
            page_size={"type": "int", "default": 1000},
        ),
        "mutually_exclusive": [("id", "phone_number")]
        + [(one, listing) for one in ("id", "phone_number") for listing in LISTING_OPTIONS],
        "supports_check_mode": True,
    }


def main():
    run(AnsibleModule(**module_spec()))


def run(module):
    """The task, given an AnsibleModule or the action plugin's controller-side stand-in."""
    params = module.params
    try:
        # Everything the user typed is checked before the first request.
        number = (
            normalize_e164(params["phone_number"]) if params["phone_number"] is not None else None
        )
        if params["id"] is not None and not params["id"].strip():
            raise ParameterError("id must not be empty")
        if params["limit"] is not None and params["limit"] < 0:
            raise ParameterError("limit must be 0 or more, not %d" % params["limit"])
        if not 1 <= params["page_size"] <= MAX_PAGE_SIZE:
            raise ParameterError(
                "page_size must be between 1 and %d, not %d" % (MAX_PAGE_SIZE, params["page_size"])
            )
        wanted = ListingFilter(
            name=params["name"], country_code=params["country_code"], area_code=params["area_code"]
        )
    except LiveKitError as exc:
        fail_with(module, exc)

    api = build_api(module)
    try:
        if params["id"] is not None or number is not None:
            record = api.get(id=params["id"].strip() if params["id"] else None, phone_number=number)
            records = [record] if record is not None else []
            module.exit_json(
                changed=False,
                phone_numbers=records,
                total_count=len(records),
                offline_count=sum(1 for r in records if r["status"] == "offline"),
            )
        listing = api.list(
            statuses=params["statuses"],
            sip_dispatch_rule_id=params["sip_dispatch_rule_id"],
            # The module's filters need every record: a cut before them would lose matches.
            limit=None if wanted.active else params["limit"],
            page_size=params["page_size"],
        )
    except LiveKitError as exc:
        fail_with(module, exc)
    warn_about(module, listing, cut=params["limit"] is not None and not wanted.active)
    if wanted.active:
        matched = wanted.apply(listing.records)
        module.exit_json(
            changed=False,
            phone_numbers=matched if params["limit"] is None else matched[: params["limit"]],
            total_count=len(matched),
            offline_count=sum(1 for r in matched if r["status"] == "offline"),
        )
    module.exit_json(
        changed=False,
        phone_numbers=listing.records,
        total_count=listing.total_count,
        offline_count=listing.offline_count,
    )


def warn_about(module, listing, cut):
    """Say what the listing could not show: records it had to interpret, and pages that shifted.

    A listing cut at ``limit`` is short on purpose; any other that the server's pages and
    counters do not show complete may miss numbers, which a user auditing the project must know.
    """
    for text in listing.warnings():
        module.warn(text)
    if not listing.complete and not cut:
        module.warn(
            "the server's listing could not be shown complete (%s): numbers may be missing "
            "from phone_numbers; repeat the task, or raise page_size so that fewer pages can "
            "shift while they are read" % listing.describe()
        )


if __name__ == "__main__":
    main()
