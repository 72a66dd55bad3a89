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
  - Entries may name their dispatch rule by name (O(entries[].sip_dispatch_rule)). With
    O(sip_dispatch_rules), the same task also makes SIP dispatch rules exist as described, so
    that one task stands up rules and the numbers routed to them; see O(sip_dispatch_rules) for
    the order of the writes.
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
    details: Shows, per changed number, whether it is held, its status, its dispatch rules and its label, before and after.
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
          - When neither this nor O(entries[].sip_dispatch_rule) is set, routing is left alone
            and numbers are bought without a rule, so they stay V(offline) until routed.
        type: str
      name:
        description:
          - The number's label (protocol 1.52 C(name), a human-readable name). Number entries
            with O(entries[].state=present) only.
          - Set with UpdatePhoneNumber only where it differs, in the same call as a route
            change when both change; a number bought gets it right after the purchase.
          - An empty string clears the label. When not set, the label is left alone.
          - A server that ignores labels (one that predates them) answers with the label
            unchanged; the task then fails with V(label_ignored) rather than report a change on
            every run.
        type: str
        version_added: 0.2.0
      sip_dispatch_rule:
        description:
          - The same as O(entries[].sip_dispatch_rule_id), giving the rule by its name; an
            entry takes one of the two.
          - Names are resolved with one listing of the project's rules before any write, and
            may name a rule that O(sip_dispatch_rules) creates in the same task.
          - 'In check mode, the id of a rule still to be created shows as
            V((created by this run: NAME\)).'
          - A name no rule has fails the task before any write, saying which names exist; a
            name two rules share fails it naming both ids.
        type: str
        version_added: 0.2.0
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
      number_type:
        description:
          - A pool filter, as in M(livekit.sip.phone_number_search); the same for the other
            filters below.
          - Only numbers of this kind count toward the pool and are bought for it.
          - Held numbers count toward a pool only when they pass all its filters, and the
            pool's search reads pages until enough numbers pass them, at most 20 pages; a pool
            that cannot be filled within them fails the task before anything is bought,
            saying the bound was reached.
        type: str
        choices: [mobile, local, toll_free]
        version_added: 0.2.0
      locality:
        description:
          - Only numbers in this city or locality. Case does not matter.
        type: str
        version_added: 0.2.0
      region:
        description:
          - Only numbers in this state or region. Case does not matter.
        type: str
        version_added: 0.2.0
      capabilities:
        description:
          - Only numbers with every one of these capabilities, for example V([voice, sms]).
        type: list
        elements: str
        version_added: 0.2.0
      contains:
        description:
          - Only numbers whose digits contain this pattern, quoted; V(*) is any one digit,
            letters are read as on a phone keypad.
        type: str
        version_added: 0.2.0
      max_spam_score:
        description:
          - Only numbers whose spam score is at most this.
        type: float
        version_added: 0.2.0
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
  sip_dispatch_rules:
    description:
      - SIP dispatch rules to make exist as described (or not exist), in the same task as the
        numbers. Each item takes the options of M(livekit.sip.sip_dispatch_rule) and means what
        it means there, except that rules are found by O(sip_dispatch_rules[].name) only.
      - One listing of the project's rules is read. Every definition is planned, and every rule
        name of O(entries) resolved, before any write; then rules are created and updated, then
        numbers are bought, routed and released, and only then are rules deleted, so that no
        number is left without its rule mid-run.
      - Rules of the project that no item names are reported under RV(rules_unlisted) and left
        alone.
      - Deleting a rule that numbers would still be routed to after the run fails before any
        write, naming the numbers, unless O(sip_dispatch_rules[].force=true).
      - When not set, rules are neither read nor written (unless an entry names a rule by
        name, which reads them).
    type: list
    elements: dict
    version_added: 0.2.0
    suboptions:
      name:
        description: Name of the rule; identifies it. Each name may be defined once.
        type: str
        required: true
      state:
        description: V(present) creates the rule or updates it to match; V(absent) deletes it.
        type: str
        choices: [present, absent]
        default: present
      type:
        description: The kind of rule (see M(livekit.sip.sip_dispatch_rule)). Required to create one.
        type: str
        choices: [direct, individual, callee]
      room_name:
        description: The room calls join, for V(direct) rules.
        type: str
      room_prefix:
        description: Prefix of the rooms created, for V(individual) and V(callee) rules.
        type: str
      randomize_room:
        description: Whether a random suffix is added to the names of the rooms created.
        type: bool
      pin:
        description: PIN a caller must enter; an empty string removes it. Never shown.
        type: str
      trunk_ids:
        description: Inbound trunks whose calls the rule accepts; an empty list means every trunk.
        type: list
        elements: str
      numbers:
        description: Called numbers the rule accepts; an empty list means any.
        type: list
        elements: str
      inbound_numbers:
        description: Calling numbers the rule accepts; an empty list means any.
        type: list
        elements: str
      hide_phone_number:
        description: Whether callers' numbers are hidden from the room.
        type: bool
      metadata:
        description: Metadata of the participants the rule creates.
        type: str
      attributes:
        description: Attributes of the participants the rule creates (the exact set).
        type: dict
      agents:
        description: The agents dispatched into the room, in order (the exact list).
        type: list
        elements: dict
        suboptions:
          agent_name:
            description: Name of the agent.
            type: str
            required: true
          metadata:
            description: Metadata handed to the agent's job.
            type: str
      room_preset:
        description: Name of a room configuration preset.
        type: str
      krisp_enabled:
        description: Whether Krisp noise cancellation is applied to callers.
        type: bool
      media_encryption:
        description: Encryption of the call's media.
        type: str
        choices: [disable, allow, require]
      force:
        description: Delete the rule even when numbers would still be routed to it.
        type: bool
        default: false
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
      - V(changed) returns the records of the numbers the run bought, routed or labelled (and of
        those a rule deleted with force left without a rule), as the server answered those
        writes, when they are 1,000 or fewer; a run that changes more returns none
        (RV(purchased), RV(routed) and RV(labelled) still name every number). RV(counts) counts
        the rest. The result stays small however many numbers the project
        holds, so that Ansible's handling of it (the no_log scrub, the transfer to the
        controller, registering it) does not cost more than the run.
      - V(all) returns every number the project holds after the run. A run that wrote then
        lists the project once more to read them.
      - V(none) returns no record.
    type: str
    choices: [changed, all, none]
    default: changed
    version_added: 0.2.0
notes:
  - Searching costs nothing; the searches of check mode are real requests.
  - The action renders only the entries that hold a template, so that a fleet of thousands of
    entries does not cost seconds of templating.
  - For a fleet of thousands of numbers, keep the entries in one variable and pass it whole,
    for example O(entries) set to C("{{ fleet }}"), and keep the default O(return_records=changed); the
    collection's docs/performance.md has the figures at 20,000 numbers.
seealso:
  - module: livekit.sip.phone_number
  - module: livekit.sip.phone_number_info
  - module: livekit.sip.phone_number_search
  - module: livekit.sip.sip_dispatch_rule
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

- name: Label the reception number, and keep two toll-free numbers that can send SMS
  livekit.sip.phone_number_fleet:
    entries:
      - phone_number: "+16502047240"
        sip_dispatch_rule_id: SDR_after_hours
        name: Reception
      - country_code: US
        area_code: "800"
        number_type: toll_free
        capabilities: [sms]
        count: 2
        sip_dispatch_rule_id: SDR_support
  register: labelled

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

- name: A support rule and two numbers routed to it, by name, in one task
  livekit.sip.phone_number_fleet:
    sip_dispatch_rules:
      - name: support-line
        type: individual
        room_prefix: support-
        agents:
          - agent_name: support-agent
    entries:
      - country_code: US
        area_code: "415"
        count: 2
        sip_dispatch_rule: support-line
  register: line

- name: Show the rules the task created and the ones it leaves alone
  ansible.builtin.debug:
    msg: "Created {{ line.rules_created | join(', ') or 'none' }}; not defined here: {{ line.rules_unlisted | join(', ') or 'none' }}"

- name: Release the line's numbers first; the rule is deleted once no number is routed to it
  livekit.sip.phone_number_fleet:
    entries:
      - phone_number: "{{ line.pools[0].held[0] }}"
        state: absent
      - phone_number: "{{ line.pools[0].held[1] }}"
        state: absent
    sip_dispatch_rules:
      - name: support-line
        state: absent
"""

RETURN = r"""
phone_numbers:
  description:
    - With O(return_records=changed) (the default), the records of the numbers the run bought,
      routed or labelled, in that order, as the server answered those writes (a purchase may
      answer only the id, the number and the status). Empty when the run changed nothing, and
      when it changed more than 1,000 numbers (RV(purchased), RV(routed) and RV(labelled) name
      them all).
    - With O(return_records=all), the records of every number the project holds after the run,
      in the order the server lists them. With O(return_records=none), empty.
    - In check mode, the records predicted; a number to be bought has only
      RV(phone_numbers[].e164_format), status V(pending), its rule and its label.
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
      type: str
      choices: [active, pending, offline]
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
labelled:
  description:
    - Numbers whose label (O(entries[].name)) the task set (in check mode, would set), E.164. A label
      and a route of one number are set by one call.
  returned: always
  type: list
  elements: str
  sample: ["+14155550101"]
  version_added: 0.2.0
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
          V(wait_timeout), V(label_ignored)), or one of the dispatch rules (V(unknown_rule) for a
          rule name no rule has, V(duplicate_name) for a name several rules share, V(rule_in_use)
          for a rule to delete that numbers are routed to, V(write_disagrees)).
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
  sample: {held: 20000, purchased: 0, routed: 0, labelled: 0, released: 0, unlisted: 0, unchanged: 20000}
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
    labelled:
      description: Numbers labelled, the length of RV(labelled).
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
      description: Numbers held after the run that it neither bought, routed nor labelled.
      type: int
      returned: always
  version_added: 0.2.0
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
      sip_dispatch_rule: ""
      filters: {}
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
      description:
        - The pool's dispatch rule; empty when routing is left alone.
        - 'In check mode, a rule the task would create shows as V((created by this run: NAME\)).'
      type: str
      returned: always
    sip_dispatch_rule:
      description: The rule's name when the entry gave it by name, else empty.
      type: str
      returned: always
      version_added: 0.2.0
    filters:
      description:
        - The pool's search filters that are set, by name (O(entries[].number_type),
          O(entries[].capabilities), ...); empty when it has none. V(locality) and V(region)
          are given in lower case, V(contains) as digits.
      type: dict
      returned: always
      version_added: 0.2.0
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
rules_created:
  description: Names of the dispatch rules the task created (in check mode, would create).
  returned: when O(sip_dispatch_rules) is given
  type: list
  elements: str
  sample: [support-line]
  version_added: 0.2.0
rules_updated:
  description: Names of the dispatch rules the task updated (in check mode, would update).
  returned: when O(sip_dispatch_rules) is given
  type: list
  elements: str
  sample: []
  version_added: 0.2.0
rules_deleted:
  description: Names of the dispatch rules the task deleted (in check mode, would delete).
  returned: when O(sip_dispatch_rules) is given
  type: list
  elements: str
  sample: []
  version_added: 0.2.0
rules_unlisted:
  description:
    - The project's dispatch rules that no item of O(sip_dispatch_rules) names, left alone;
      by name, or by id for a rule without a name.
  returned: when O(sip_dispatch_rules) is given
  type: list
  elements: str
  sample: [after-hours]
  version_added: 0.2.0
sip_dispatch_rules:
  description: One item per item of O(sip_dispatch_rules), in their order.
  returned: when O(sip_dispatch_rules) is given and the task succeeded
  type: list
  elements: dict
  version_added: 0.2.0
  sample:
    - name: support-line
      action: create
      changes: [name, type, room_prefix, agents]
      sip_dispatch_rule: {id: SDR_3a9Xk2LmQp, name: support-line, type: individual}
      unrouted_numbers: []
  contains:
    name:
      description: The rule's name.
      type: str
      returned: always
    action:
      description: What the task did (in check mode, would do), as RV(livekit.sip.sip_dispatch_rule#module:action).
      type: str
      choices: [create, update, replace, delete, none]
      returned: always
    changes:
      description: Options whose value changed (in check mode, would change).
      type: list
      elements: str
      returned: always
    sip_dispatch_rule:
      description:
        - The rule after the run (in check mode, as it would be; its id is empty when it is
          still to be created), as M(livekit.sip.sip_dispatch_rule) returns it. Empty after a
          deletion.
      type: dict
      returned: always
    unrouted_numbers:
      description: Numbers still routed to a rule deleted with O(sip_dispatch_rules[].force=true).
      type: list
      elements: str
      returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.livekit.sip.plugins.module_utils._dispatch_rules import RuleInUse
from ansible_collections.livekit.sip.plugins.module_utils._entries import (
    RuleName,
    parse_entries,
    rule_names,
    with_rule_ids,
)
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._execute import (
    Progress,
    by_number,
    execute,
    held_records,
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
from ansible_collections.livekit.sip.plugins.module_utils._rule_set import (
    RuleSet,
    parse_definitions,
    planned_id,
    rule_options,
)
from ansible_collections.livekit.sip.plugins.module_utils._rule_writes import carry_out
from ansible_collections.livekit.sip.plugins.module_utils._sip_api import SipApi


def check_params(params):
    """Validate what argument_spec cannot; raises ParameterError before any request."""
    check_write_params(params)
    numbers, pools = parse_entries(params["entries"])
    if params["release_unlisted"] and not numbers and not pools:
        raise ParameterError(
            "release_unlisted=true with no entries would release every number the project holds; "
            "list the numbers to keep, or release numbers with livekit.sip.phone_number state=absent"
        )
    definitions = params["sip_dispatch_rules"]
    parsed = None if definitions is None else parse_definitions(definitions)
    return numbers, pools, parsed


def read_rules(api, numbers, pools, parsed):
    """One listing of the rules when the task defines rules or names them; entries with ids.

    Returns (RuleSet or None, numbers, pools). Raises before any write when a name is unknown
    or ambiguous, or a definition cannot be planned.
    """
    names = rule_names(numbers, pools)
    if parsed is None and not names:
        return None, numbers, pools
    rule_set = RuleSet(parsed or [], SipApi(api.twirp).list_records())
    ids = rule_set.resolve(names)
    return rule_set, with_rule_ids(numbers, ids), with_rule_ids(pools, ids)


def rule_result(rule_set, managed, done_only=False):
    """The result keys of the rules: names per action, and per definition on success."""
    if rule_set is None or not managed:
        return {}
    summary = rule_set.summary(done_only=done_only)
    result = {"rules_" + key: names for key, names in summary.items()}
    if not done_only:
        result["sip_dispatch_rules"] = rule_set.results()
    return result


def pool_results(planner, pools, bought=None):
    """The planner's pool results, with the rule's name where the entry gave one."""
    names = {pool.index: pool.rule.name for pool in pools if isinstance(pool.rule, RuleName)}
    results = []
    for result in planner.pool_results(bought):
        shown = {}
        for key, value in result.items():
            shown[key] = value
            if key == "sip_dispatch_rule_id":
                shown["sip_dispatch_rule"] = names.get(result["entry"], "")
        results.append(shown)
    return results


def apply_rules(sip, rule_set, planner, tasks):
    """Carry out the rules' plans in order; rules created give their ids to the numbers' plan."""
    ids = {}
    for task in tasks:
        rule = carry_out(sip, task.plan)
        task.done = True
        if task.plan.action == "create":
            ids[planned_id(task.name)] = rule["id"]
    if ids:
        planner.rename_rules(ids)


def counts(held, plan, purchased, routed, labelled, released, unrouted=()):
    """The ``counts`` return value; ``unrouted``: numbers a forced rule deletion left ruleless."""
    touched = set(purchased) | set(routed) | set(labelled) | set(unrouted)
    return {
        "held": len(held),
        "purchased": len(purchased),
        "routed": len(routed),
        "labelled": len(labelled),
        "released": len(released),
        "unlisted": len(plan.unlisted),
        "unchanged": sum(1 for record in held if record["e164_format"] not in touched),
    }


def unrouted(rule_set):
    """The numbers that rules deleted with force leave without a rule."""
    if rule_set is None:
        return []
    return [number for task in rule_set.deletions() for number in task.unrouted]


# With return_records=changed, a run that changes more numbers returns none of their records:
# the lists of numbers name them, and thousands of records would cost more than the run.
CHANGED_RECORDS_LIMIT = 1000


def returned_records(choice, records, purchased, routed, labelled, unrouted=()):
    """``phone_numbers`` for ``return_records=choice`` from the records held after the run."""
    if choice == "all":
        return records
    changed = list(purchased) + list(routed) + list(labelled) + list(unrouted)
    numbers = list(dict.fromkeys(changed))
    if choice == "none" or len(numbers) > CHANGED_RECORDS_LIMIT:
        return []
    index = by_number(records)
    return [index[number] for number in numbers if number in index]


def module_spec():
    """The keyword arguments of AnsibleModule (and of the action's ControllerModule)."""
    return {"argument_spec": argument_spec(), "supports_check_mode": True}


def argument_spec():
    return write_argument_spec(
        max_purchase=10,
        batch_size=True,
        entries={"type": "list", "elements": "dict", "required": True},
        release_unlisted={"type": "bool", "default": False},
        sip_dispatch_rules={
            "type": "list",
            "elements": "dict",
            "options": rule_options(name={"type": "str", "required": True}),
        },
        return_records={
            "type": "str",
            "default": "changed",
            "choices": ["changed", "all", "none"],
        },
    )


def main():
    run(AnsibleModule(**module_spec()))


def run(module):
    """The task, given an AnsibleModule or the action plugin's controller-side stand-in."""
    params = module.params
    every_record = params["return_records"] == "all"
    try:
        numbers, pools, parsed = check_params(params)
    except LiveKitError as exc:
        fail_with(module, exc)

    api = build_api(module)
    run = settings(params)
    progress = Progress(api)
    managed = parsed is not None
    rule_set = None
    try:
        rule_set, resolved_numbers, resolved_pools = read_rules(api, numbers, pools, parsed)
        current, planner = read_and_plan(
            api,
            run,
            resolved_numbers,
            resolved_pools,
            release_unlisted=params["release_unlisted"],
            max_purchase=params["max_purchase"],
            option=spend_option(params),
            progress=progress,
        )
        if rule_set is not None:
            rule_set.check_deletions(current, planner.plan)
    except RuleInUse as exc:
        fail_with(module, exc, routed_numbers=exc.numbers, **progress.result())
    except LiveKitError as exc:
        warn_all(module, progress)
        fail_with(module, exc, **progress.result())
    warn_all(module, progress)
    plan = planner.plan
    rules = rule_result(rule_set, managed)
    rules_changed = rule_set is not None and any(task.plan.changed for task in rule_set.tasks)
    if module.check_mode:
        extra = dict(rules)
        if module._diff:
            extra["diff"] = merged_diff(diff(current, plan), rule_set)
        if rules_changed:
            extra["changed"] = True
        predicted = predict(current, plan)
        exit_check_mode(
            module,
            api,
            current,
            plan,
            phone_numbers=returned_records(
                params["return_records"],
                predicted,
                plan.purchased,
                plan.routed,
                plan.labelled,
                unrouted(rule_set),
            ),
            counts=counts(
                predicted,
                plan,
                plan.purchased,
                plan.routed,
                plan.labelled,
                plan.releases,
                unrouted(rule_set),
            ),
            unlisted=list(plan.unlisted),
            pools=pool_results(planner, pools),
            **extra,
        )

    try:
        if rule_set is not None:
            sip = SipApi(api.twirp)
            apply_rules(sip, rule_set, planner, rule_set.creations_and_updates())
        execute(api, planner, run, progress)
        if rule_set is not None:
            apply_rules(sip, rule_set, planner, rule_set.deletions())
        records = settle(api, planner, run, progress, current, relist=every_record)
        if rule_set is not None and any(task.unrouted for task in rule_set.deletions()):
            # Numbers of a rule deleted with force lost their rule: show them as they are now.
            records = held_records(api, run.page_size)
    except LiveKitError as exc:
        result = progress.result()
        result.update(rule_result(rule_set, managed, done_only=True))
        if rule_set is not None and any(task.done for task in rule_set.tasks):
            result["changed"] = True
        fail_with(module, exc, **result)

    result = progress.result()
    result.update(rule_result(rule_set, managed))
    if rules_changed:
        result["changed"] = True
    if module._diff:
        result["diff"] = merged_diff(diff(current, plan), rule_set)
    module.exit_json(
        phone_numbers=returned_records(
            params["return_records"],
            records,
            progress.purchased,
            progress.routed,
            progress.labelled,
            unrouted(rule_set),
        ),
        counts=counts(
            records,
            plan,
            progress.purchased,
            progress.routed,
            progress.labelled,
            progress.released,
            unrouted(rule_set),
        ),
        unlisted=list(plan.unlisted),
        pools=pool_results(planner, pools, set(progress.purchased)),
        invocation=invocation(module),
        **result,
    )


def merged_diff(numbers_diff, rule_set):
    """The numbers' diff, with the rules that change beside them."""
    if rule_set is None:
        return numbers_diff
    rules = rule_set.diff()
    for side in ("before", "after"):
        numbers_diff[side].update(rules[side])
    return numbers_diff


if __name__ == "__main__":
    main()
