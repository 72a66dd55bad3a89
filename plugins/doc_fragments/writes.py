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
      - How many requests run at the same time (1 to 32) - routing updates, purchases of
        explicit numbers (one per dispatch rule and batch), and the pages of a listing when the
        server's page tokens let them be asked for ahead. Pool candidates are bought one
        purchase after the other.
      - After a failed purchase no other purchase starts; those already sent finish, and every
        number bought is reported under RV(purchased). V(1) buys in the plan's order and stops
        at the first failure.
      - Rate limiting (HTTP 429) is waited out and the request repeated (see O(retries)).
    type: int
    default: 8
  page_size:
    description:
      - How many numbers to ask the server for per page when reading the project's numbers
        (1 to 1000). The server may send fewer per page (it caps them); the listing then takes
        more pages.
    type: int
    default: 1000
notes:
  - A purchase or release whose answer is lost is repeated with the same request id (see
    O(retries)); if its outcome is still unknown, the project's numbers are listed to find out,
    so a number is never bought twice. When no answer came at all (a timeout, a cut
    connection), the server may still carry the write out, so the numbers are listed again
    after one more O(timeout); if they still do not show it, the task fails with
    RV(error.code=outcome_unknown). List the project's numbers before running it again.
  - Every write's answer is checked against its request, and against the project's numbers
    when they disagree, and numbers a purchase did not buy, or a release did not release, are
    reported as such (RV(error.code=write_mismatch)), never as done.
  - A number the project lists with a status this collection does not know counts as held
    (nothing is bought in its place) and a warning names it; so do records the server left
    fields out of (the country and area code of a +1 number are read from its digits). Such
    numbers are released only when an entry names them.
  - A number to release that the listing does not mention at all is looked up by itself
    (GetPhoneNumber) when the listing did not give a count to check it against.
  - Cancelling the job (killing C(ansible-playbook)) does not recall a request already sent;
    the server may still carry out a purchase or release in flight. Run the task again, as it
    lists the project first and counts what the cancelled run bought.
  - When a task fails part-way, RV(purchased), RV(routed), RV(released) and RV(api_calls) still
    report what was done, and RV(error) says what went wrong.
  - To route a number is to set its dispatch rule (exactly one); RV(routed) lists the held
    numbers whose rule the task set.
"""
