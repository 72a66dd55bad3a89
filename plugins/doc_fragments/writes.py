# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options every writing module takes (argument spec: _module.write_argument_spec). The
    # spend guard max_purchase is documented by each module, as its default differs.
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until none of the numbers the task holds is V(pending) (being provisioned). This
        covers the numbers bought, and numbers an earlier run bought that are still
        provisioned, so that repeating a run that failed with O(wait_timeout) waits for them.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait with O(wait=true). The task fails naming the numbers still pending,
        and returns them as RV(pending).
    type: int
    default: 300
  workers:
    description:
      - How many routing updates run at the same time (1 to 32).
      - Rate limiting (HTTP 429) is waited out and the update repeated (see O(retries)).
    type: int
    default: 8
  page_size:
    description:
      - How many numbers to ask the server for per page when reading the project's numbers
        (1 to 1000).
    type: int
    default: 500
notes:
  - A purchase or release whose answer is lost is repeated with the same request id (see
    O(retries)); if its outcome is still unknown, the project's numbers are listed to find out,
    so a number is never bought twice.
  - When a task fails part-way, RV(purchased), RV(routed), RV(released) and RV(api_calls) still
    report what was done, and RV(error) says what went wrong.
  - To route a number is to set its dispatch rule (exactly one); RV(routed) lists the held
    numbers whose rule the task set.
"""
