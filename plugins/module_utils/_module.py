# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Glue shared by the modules: options, dependency checks, error reporting, check mode.

This is the only layer that talks to AnsibleModule; everything below raises LiveKitError. The
writing modules (``phone_number``, ``phone_number_fleet``) share ``write_argument_spec``
(documented by the doc fragment ``livekit.sip.writes``), ``check_write_params``,
``settings`` and ``exit_check_mode``.
"""

from __future__ import annotations

import re
import traceback
from typing import Dict, Optional

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.livekit.sip.plugins.module_utils._api import LIST_WORKERS, PhoneNumberApi
from ansible_collections.livekit.sip.plugins.module_utils._auth import TokenSource
from ansible_collections.livekit.sip.plugins.module_utils._errors import (
    ConfigError,
    LiveKitError,
    ParameterError,
)
from ansible_collections.livekit.sip.plugins.module_utils._execute import Settings, api_calls
from ansible_collections.livekit.sip.plugins.module_utils._plan import Plan, diff, predict
from ansible_collections.livekit.sip.plugins.module_utils._twirp import TwirpClient, is_retryable

try:
    import requests  # noqa: F401, pylint: disable=unused-import
except ImportError:
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    REQUESTS_IMPORT_ERROR = None

try:
    import jwt  # noqa: F401, pylint: disable=unused-import
except ImportError:
    JWT_IMPORT_ERROR = traceback.format_exc()
else:
    JWT_IMPORT_ERROR = None

AUTH_ARGUMENT_SPEC = {
    "url": {"type": "str", "fallback": (env_fallback, ["LIVEKIT_URL"])},
    # The key only names the credential (it is the token's issuer); showing it helps debugging.
    "api_key": {"type": "str", "no_log": False, "fallback": (env_fallback, ["LIVEKIT_API_KEY"])},
    "api_secret": {
        "type": "str",
        "no_log": True,
        "fallback": (env_fallback, ["LIVEKIT_API_SECRET"]),
    },
    "validate_certs": {"type": "bool", "default": True},
    "timeout": {"type": "float", "default": 10},
    "retries": {"type": "int", "default": 3},
}


def auth_argument_spec(**extra):
    """The connection options merged with a module's own (``extra`` wins on a clash)."""
    spec = {name: dict(option) for name, option in AUTH_ARGUMENT_SPEC.items()}
    spec.update(extra)
    return spec


# The spend guard's name, and the alias kept for phone_number's first name of it.
SPEND_OPTION = "max_purchase"
SPEND_ALIAS = "purchase_limit"

# Upper bounds of the writing modules' sizing options (all start at 1).
WRITE_BOUNDS = {"workers": 32, "page_size": 1000, "batch_size": 1000}


def write_argument_spec(max_purchase: Optional[int] = None, batch_size: bool = False, **extra):
    """The connection options, the writing modules' common options, and a module's own.

    ``max_purchase`` is the module's default spend guard (None: no limit). ``batch_size``
    adds that option (phone_number_fleet); without it, one call carries a rule's numbers.
    """
    spend = {"type": "int", "aliases": [SPEND_ALIAS]}
    if max_purchase is not None:
        spend["default"] = max_purchase
    common = {
        "wait": {"type": "bool", "default": False},
        "wait_timeout": {"type": "int", "default": 300},
        "workers": {"type": "int", "default": 8},
        "page_size": {"type": "int", "default": 1000},
        SPEND_OPTION: spend,
    }
    if batch_size:
        common["batch_size"] = {"type": "int", "default": 500}
    common.update(extra)
    return auth_argument_spec(**common)


def spend_option(params: Dict[str, object]) -> str:
    """The spend guard's name as the user wrote it, for messages that quote it."""
    return SPEND_ALIAS if params.get(SPEND_ALIAS) is not None else SPEND_OPTION


def check_write_params(params: Dict[str, object]) -> None:
    """Validate the common options as argument_spec cannot; raises ParameterError."""
    for name, bound in WRITE_BOUNDS.items():
        if name in params and not 1 <= params[name] <= bound:
            raise ParameterError(
                "%s must be between 1 and %d, not %d" % (name, bound, params[name])
            )
    if params["wait_timeout"] < 0:
        raise ParameterError("wait_timeout must be 0 or more, not %d" % params["wait_timeout"])
    limit = params[SPEND_OPTION]
    if limit is not None and limit < 0:
        raise ParameterError("%s must be 0 or more, not %d" % (spend_option(params), limit))


def settings(params: Dict[str, object]) -> Settings:
    """How the executor carries out the run, from the common options."""
    return Settings(
        workers=params["workers"],
        page_size=params["page_size"],
        batch_size=params.get("batch_size"),
        wait=params["wait"],
        wait_timeout=params["wait_timeout"],
    )


def planned(plan: Plan) -> Dict[str, object]:
    """The result keys a plan fills before it is carried out (and in check mode)."""
    return {
        "changed": plan.changed,
        "purchased": plan.purchased,
        "routed": plan.routed,
        "labelled": plan.labelled,
        "released": list(plan.releases),
    }


def exit_check_mode(module, api, current, plan: Plan, **extra) -> None:
    """In check mode, report the plan as if carried out and exit; otherwise return at once."""
    if not module.check_mode:
        return
    result = planned(plan)
    if module._diff:
        result["diff"] = diff(current, plan)
    result["phone_numbers"] = predict(current, plan)
    result["api_calls"] = api_calls(api)
    result["invocation"] = invocation(module)
    result.update(extra)
    module.exit_json(**result)


def warn_all(module, progress) -> None:
    """Hand the run's warnings (records it had to interpret, numbers left alone) to Ansible."""
    for text in progress.warnings:
        module.warn(text)
    progress.warnings = []


def check_dependencies(module):
    """Fail with Ansible's standard message when a required library is missing."""
    if REQUESTS_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("requests"), exception=REQUESTS_IMPORT_ERROR)
    if JWT_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib("PyJWT"), exception=JWT_IMPORT_ERROR)


# A message names at most this many numbers in a row; the result's lists have all of them.
MESSAGE_NUMBERS = 10
_NUMBER_RUN = re.compile(r"\+[0-9]{8,15}(?:, \+[0-9]{8,15})+")


def _shorten(match):
    numbers = match.group(0).split(", ")
    if len(numbers) <= MESSAGE_NUMBERS:
        return match.group(0)
    return "%s and %d more" % (", ".join(numbers[:MESSAGE_NUMBERS]), len(numbers) - MESSAGE_NUMBERS)


# Option values longer than this are not echoed back under ``invocation`` (what -v shows): a
# task given 20,000 entries would otherwise return all of them again, scrubbed for no_log values,
# copied and carried back to the controller, for seconds per run.
ECHO_LIMIT = 1000


def invocation(module) -> Dict[str, object]:
    """The result's ``invocation``: the options the task was given, long lists as their length."""
    args = {}
    for name, value in module.params.items():
        if isinstance(value, (list, dict)) and len(value) > ECHO_LIMIT:
            value = "(%d items, not echoed)" % len(value)
        args[name] = value
    return {"module_args": args}


def fail_with(module, exc, **result):
    """Report a LiveKitError: a one-line ``msg`` and the structured ``error``.

    Lists of thousands of numbers (a spend guard tripped by a huge list, a server naming every
    number of a refused purchase) are cut to the first few, so that the message stays readable.
    A request that failed every time it was repeated says which option allows more repeats.
    """
    msg = _NUMBER_RUN.sub(_shorten, " ".join(str(exc).split()))
    cause = getattr(exc, "cause", None) or exc
    if (cause.attempts or 0) > 1 and is_retryable(cause):
        msg += (
            " (gave up after %d attempts; the retries option, livekit_retries in the role, allows more)"
            % (cause.attempts)
        )
    result.setdefault("invocation", invocation(module))
    module.fail_json(msg=msg, error=exc.to_dict(), **result)


def build_client(module):
    """A TwirpClient from the module's connection options; raises ConfigError."""
    params = module.params
    if not params.get("url"):
        raise ConfigError("url is missing: set the url option or LIVEKIT_URL")
    if not params.get("api_key"):
        raise ConfigError("api_key is missing: set the api_key option or LIVEKIT_API_KEY")
    if not params.get("api_secret"):
        raise ConfigError("api_secret is missing: set the api_secret option or LIVEKIT_API_SECRET")
    if params["timeout"] <= 0:
        raise ConfigError(
            "timeout must be a positive number of seconds, not {}".format(params["timeout"])
        )
    if params["retries"] < 0:
        raise ConfigError("retries must be 0 or more, not {}".format(params["retries"]))
    tokens = TokenSource(params["api_key"], params["api_secret"])
    return TwirpClient(
        params["url"],
        tokens,
        timeout=params["timeout"],
        retries=params["retries"],
        validate_certs=params["validate_certs"],
    )


def build_api(module):
    """Check dependencies and settings, then return a PhoneNumberApi (or fail the module)."""
    check_dependencies(module)
    try:
        # The modules' workers option bounds the requests in flight: updates and listing pages.
        workers = module.params.get("workers") or LIST_WORKERS
        return PhoneNumberApi(build_client(module), list_workers=workers)
    except LiveKitError as exc:
        fail_with(module, exc)
