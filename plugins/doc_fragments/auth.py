# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The connection options every module of the collection takes.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - URL of the LiveKit project, for example V(wss://my-project.livekit.cloud).
      - The schemes V(https), V(http), V(wss) and V(ws) are accepted; V(wss) and V(ws) are
        turned into V(https) and V(http). A trailing slash is fine; a path is not.
      - If not set, the value of the E(LIVEKIT_URL) environment variable is used. One of the
        two is required.
    type: str
  api_key:
    description:
      - API key of the LiveKit project.
      - If not set, the value of the E(LIVEKIT_API_KEY) environment variable is used. One of
        the two is required.
    type: str
  api_secret:
    description:
      - API secret that signs the access tokens. It is never sent to the server.
      - If not set, the value of the E(LIVEKIT_API_SECRET) environment variable is used. One
        of the two is required.
      - Each token is valid for ten minutes and carries only the SIP admin grant.
    type: str
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate.
      - Set to V(false) only for a test endpoint you trust.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: float
    default: 10
  retries:
    description:
      - How many times a request is repeated after a connection error, an HTTP 502, 503 or
        504, a Twirp V(unavailable) answer, or rate limiting (HTTP 429).
      - Waits double from 0.2 seconds up to 5 seconds, with random jitter; a C(Retry-After)
        header is obeyed (up to 30 seconds).
      - Every repeat carries the request id of the first attempt. A purchase whose answer was
        lost is checked against the project's numbers before it is reported, so a number is
        never bought twice.
    type: int
    default: 3
requirements:
  - requests (Python library)
  - PyJWT (Python library)
"""

    # Attribute descriptions; each module states its own support level.
    ATTRIBUTES = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts, without changing anything.
  diff_mode:
    description: Returns details on what has changed (or would change in check mode) in diff mode.
  action_group:
    description: Use C(group/livekit.sip.all) in C(module_defaults) to set the connection options once for every module of the collection.
    support: full
    membership:
      - livekit.sip.all
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - When the module would run on the controller anyway (a local connection, as for a play on
        localhost, with the controller's Python as C(ansible_python_interpreter), no C(become),
        no task C(environment), not delegated, not C(async)), the action runs the module's code
        in its own worker process instead of starting a module process. The result is the
        same. Set the variable C(livekit_sip_run_in_worker=false) to run it as a module anyway;
        C(-vvv) shows which way a task ran and why.
"""
