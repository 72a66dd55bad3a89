#!/usr/bin/python
# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: phone_number_search
short_description: Search the phone numbers LiveKit Cloud offers for purchase
version_added: 0.1.0
description:
  - Lists phone numbers that are available to buy in a country, optionally in one area code.
  - Can also choose by kind of number, locality, region, capabilities, a vanity digit pattern
    and spam score. The API filters by country and area code only, so these filters are applied
    to the pages the server sends, reading on until O(limit) numbers match, the server has no
    more, or O(max_pages) pages were read.
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
  country_code:
    description:
      - ISO 3166-1 alpha-2 country code, for example V(US) or V(GB). Case does not matter.
    type: str
    required: true
  area_code:
    description:
      - Only numbers in this area code, for example V(415).
    type: str
  limit:
    description:
      - The largest number of results to return.
      - Pages are requested until this many numbers were found or the server has no more.
    type: int
    default: 50
  number_type:
    description:
      - Only numbers of this kind.
    type: str
    choices: [mobile, local, toll_free]
  locality:
    description:
      - Only numbers in this city or locality, for example V(San Francisco). Case does not matter.
    type: str
  region:
    description:
      - Only numbers in this state or region, for example V(CA). Case does not matter.
    type: str
  capabilities:
    description:
      - Only numbers that have every one of these capabilities, for example V([voice, sms]).
    type: list
    elements: str
  contains:
    description:
      - Only numbers whose digits contain this pattern, anywhere (the country code counts).
      - Digits and V(*), which stands for any one digit. Letters are read as on a phone keypad,
        so V(FLOWERS) is V(3569377); spaces and dashes are ignored.
      - For example V(555) or V(8*8*8). Quote it in YAML, so that a leading V(0) is kept.
    type: str
  max_spam_score:
    description:
      - Only numbers whose spam score is at most this. Numbers without a score count as V(0.0).
    type: float
  max_pages:
    description:
      - With any filter other than O(country_code) and O(area_code), the most search pages read
        (the server's pages hold up to 50 numbers), 1 to 1000.
      - When the bound is reached with fewer than O(limit) matches, the task returns the matches
        found, sets RV(scan.bound_reached) and warns.
    type: int
    default: 20
notes:
  - Searching does not reserve anything. A number found here can be bought by someone else
    before M(livekit.sip.phone_number) buys it.
seealso:
  - module: livekit.sip.phone_number
  - module: livekit.sip.phone_number_info
"""

EXAMPLES = r"""
# Connection options come from LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET.
- name: Find local numbers in San Francisco
  livekit.sip.phone_number_search:
    country_code: US
    area_code: "415"
    limit: 5
  register: found

- name: Show the first number found
  ansible.builtin.debug:
    msg: "{{ found.phone_numbers[0].e164_format }} in {{ found.phone_numbers[0].locality }}"

- name: Find an 800 number with voice and SMS whose digits contain 555
  livekit.sip.phone_number_search:
    country_code: US
    area_code: "800"
    number_type: toll_free
    capabilities: [voice, sms]
    contains: "555"
    limit: 1
  register: vanity

- name: Local numbers in New York with a low spam score, reading at most 5 pages
  livekit.sip.phone_number_search:
    country_code: US
    locality: New York
    region: NY
    max_spam_score: 0.2
    max_pages: 5
    limit: 3
  register: clean

- name: Say how far the search read, and whether it stopped at its bound
  ansible.builtin.debug:
    msg: >-
      {{ clean.scan.offered }} offers read in {{ clean.scan.pages }} pages;
      stopped at max_pages: {{ clean.scan.bound_reached }}

- name: Search with explicit connection options
  livekit.sip.phone_number_search:
    url: "{{ lookup('ansible.builtin.env', 'LIVEKIT_URL') }}"
    api_key: "{{ lookup('ansible.builtin.env', 'LIVEKIT_API_KEY') }}"
    api_secret: "{{ lookup('ansible.builtin.env', 'LIVEKIT_API_SECRET') }}"
    country_code: gb
    limit: 120
  register: uk_numbers
"""

RETURN = r"""
phone_numbers:
  description:
    - The numbers available, at most O(limit), as the server ordered them.
    - Fields the server left out have their zero value.
  returned: success
  type: list
  elements: dict
  sample:
    - id: ""
      name: ""
      e164_format: "+14155550100"
      country_code: US
      area_code: "415"
      number_type: local
      locality: San Francisco
      region: CA
      spam_score: 0.0
      capabilities: [voice, sms]
      status: unspecified
      inbound_status: unspecified
      outbound_status: unspecified
      sip_dispatch_rule_id: ""
      sip_dispatch_rule_ids: []
      created_at: null
      updated_at: null
      assigned_at: null
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
scan:
  description:
    - How far the offer was read, when a filter other than O(country_code) and O(area_code) is set.
  returned: success and a filter is set
  type: dict
  sample:
    pages: 3
    offered: 150
    matched: 2
    exhausted: false
    bound_reached: false
  contains:
    pages:
      description: Search pages read.
      type: int
      returned: always
    offered:
      description: Offered numbers read on those pages.
      type: int
      returned: always
    matched:
      description: Numbers that matched every filter (the length of RV(phone_numbers)).
      type: int
      returned: always
    exhausted:
      description: V(true) when the server had no more numbers to offer.
      type: bool
      returned: always
    bound_reached:
      description:
        - V(true) when reading stopped at O(max_pages) with fewer than O(limit) matches, so
          more may match beyond the pages read.
      type: bool
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

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._filters import (
    NUMBER_TYPE_CHOICES,
    SearchFilter,
)
from ansible_collections.livekit.sip.plugins.module_utils._module import (
    auth_argument_spec,
    build_api,
    fail_with,
)

MAX_PAGES = 1000


def module_spec():
    """The keyword arguments of AnsibleModule (and of the action's ControllerModule)."""
    return {
        "argument_spec": auth_argument_spec(
            country_code={"type": "str", "required": True},
            area_code={"type": "str"},
            limit={"type": "int", "default": 50},
            number_type={"type": "str", "choices": list(NUMBER_TYPE_CHOICES)},
            locality={"type": "str"},
            region={"type": "str"},
            capabilities={"type": "list", "elements": "str"},
            contains={"type": "str"},
            max_spam_score={"type": "float"},
            max_pages={"type": "int", "default": 20},
        ),
        "supports_check_mode": True,
    }


def main():
    run(AnsibleModule(**module_spec()))


def run(module):
    """The task, given an AnsibleModule or the action plugin's controller-side stand-in."""
    params = module.params
    try:
        country = params["country_code"].strip().upper()
        if not re.match(r"^[A-Z]{2}$", country):
            raise ParameterError(
                "country_code {!r} is not an ISO 3166-1 alpha-2 code such as US or GB".format(
                    params["country_code"]
                )
            )
        if params["limit"] < 1:
            raise ParameterError("limit must be 1 or more, not %d" % params["limit"])
        if not 1 <= params["max_pages"] <= MAX_PAGES:
            raise ParameterError(
                "max_pages must be between 1 and %d, not %d" % (MAX_PAGES, params["max_pages"])
            )
        wanted = SearchFilter.from_params(params)
    except LiveKitError as exc:
        fail_with(module, exc)
    area = params["area_code"].strip() if params["area_code"] else None
    api = build_api(module)
    try:
        if not wanted.active:
            records = api.search(country, area_code=area, limit=params["limit"])
            module.exit_json(changed=False, phone_numbers=records)
        scan = api.search_matching(
            country,
            wanted.matches,
            area_code=area,
            limit=params["limit"],
            max_pages=params["max_pages"],
        )
    except LiveKitError as exc:
        fail_with(module, exc)
    if scan.bound_reached:
        module.warn(
            "Stopped after max_pages=%d search pages (%d offered numbers) with %d of the %d "
            "numbers asked for matching %s; more may match beyond. Raise max_pages, or narrow "
            "the search with area_code."
            % (
                params["max_pages"],
                scan.scanned,
                len(scan.records),
                params["limit"],
                wanted.describe(),
            )
        )
    module.exit_json(
        changed=False,
        phone_numbers=scan.records,
        scan={
            "pages": scan.pages,
            "offered": scan.scanned,
            "matched": len(scan.records),
            "exhausted": scan.exhausted,
            "bound_reached": scan.bound_reached,
        },
    )


if __name__ == "__main__":
    main()
