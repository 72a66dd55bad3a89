# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running a module's code inside the action plugin's worker process, on the controller.

A task whose module would run on the controller anyway (a local connection, the controller's
own Python) need not pay for a module process: building its payload, encoding thousands of
entries as JSON and decoding them again, importing the libraries. ``ControllerModule`` offers
what the collection's modules use of AnsibleModule (``params``, ``check_mode``, ``_diff``,
``warn``, ``exit_json``, ``fail_json``) and behaves as AnsibleModule does there: the same
argument validation and messages, the invocation echoed, the values of ``no_log`` options
scrubbed from the result. ``exit_json`` and ``fail_json`` raise ``ModuleExit``, which carries
the result, instead of printing it and ending the process.
"""

from __future__ import annotations

import os

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.parameters import remove_values
from ansible.module_utils.errors import UnsupportedError

# The task variable that turns running in the worker off (the module then runs as any module).
OPT_OUT_VAR = "livekit_sip_run_in_worker"
# A list of at least this many mappings is checked by the caller's code, not copied by the
# validator: ArgumentSpecValidator deep-copies every parameter, which for 20,000 entries read
# from an inventory costs a second (the module checks each entry anyway).
LARGE_LIST = 100


class ModuleExit(BaseException):
    """The end of a module run; ``result`` is what AnsibleModule would have printed.

    A BaseException, as the SystemExit of AnsibleModule is: no ``except Exception`` of the
    module's code may take a finished run for an error.
    """

    def __init__(self, result):
        super().__init__(result.get("msg", ""))
        self.result = result


class ControllerModule:
    """``spec``: the keyword arguments the module gives AnsibleModule (its ``module_spec()``)."""

    def __init__(self, name, spec, args, check_mode=False, diff=False):
        self._name = name
        self.check_mode = check_mode
        self._diff = diff
        self._warnings = []
        self.no_log_values = set()
        self.params = dict(args)
        large = {
            key: value
            for key, value in args.items()
            if isinstance(value, list)
            and len(value) >= LARGE_LIST
            and all(isinstance(item, dict) for item in value)
        }
        # An option of type list with elements dict leaves such a list as it is.
        self.params.update(dict.fromkeys(large, []))
        validator = ArgumentSpecValidator(
            spec["argument_spec"],
            mutually_exclusive=spec.get("mutually_exclusive"),
            required_together=spec.get("required_together"),
            required_one_of=spec.get("required_one_of"),
            required_if=spec.get("required_if"),
            required_by=spec.get("required_by"),
        )
        validation = validator.validate(self.params)
        self.params.update(validation.validated_parameters)
        self.params.update(large)
        self.no_log_values.update(validation._no_log_values)
        for warning in validation._warnings:
            self._warnings.append(
                "Both option %s and its alias %s are set." % (warning["option"], warning["alias"])
            )
        for deprecation in validation._deprecations:
            self._warnings.append(deprecation["msg"])
        if validation.errors.errors:
            msg = validation.errors.msg
            if isinstance(validation.errors[0], UnsupportedError):
                msg = "Unsupported parameters for (%s) module: %s" % (name, msg)
            self.fail_json(msg=msg)
        if check_mode and not spec.get("supports_check_mode", False):
            self.exit_json(
                skipped=True, msg="remote module (%s) does not support check mode" % name
            )

    def warn(self, warning):
        self._warnings.append(warning)

    def exit_json(self, **result):
        raise ModuleExit(self._formatted(result))

    def fail_json(self, msg, **result):
        # A traceback or an import error is for a module process; the message says it all.
        result.pop("exception", None)
        result["failed"] = True
        result["msg"] = msg
        raise ModuleExit(self._formatted(result))

    def _formatted(self, result):
        result.setdefault("invocation", {"module_args": self.params})
        if self._warnings:
            result["warnings"] = list(self._warnings)
        # As AnsibleModule does: booleans and None survive the scrub of no_log values.
        preserved = {k: v for k, v in result.items() if v is None or isinstance(v, bool)}
        result = remove_values(result, self.no_log_values)
        result.update(preserved)
        return result


def run_in_worker(module_code, name, args, check_mode, diff):
    """The result of ``module_code.run`` on a ControllerModule, as the module would return it."""
    try:
        module_code.run(ControllerModule(name, module_code.module_spec(), args, check_mode, diff))
    except ModuleExit as exc:
        return exc.result
    raise RuntimeError("%s ended without exit_json or fail_json" % name)


def worker_refusal(
    enabled,
    transport,
    become,
    environment,
    async_val,
    delegate_to,
    interpreter,
    controller_python,
    missing_library,
):
    """Why the task must run as a module on its target, or None when it can run in the worker.

    Only a task whose module would run on the controller, with the controller's Python and its
    environment, runs in the worker: there the two are the same run.
    """
    if not enabled:
        return "%s is false" % OPT_OUT_VAR
    if transport != "local":
        return "the connection is %s, not local" % transport
    if delegate_to:
        return "the task is delegated"
    if become:
        return "the task uses become"
    if environment:
        return "the task sets an environment"
    if async_val:
        return "the task runs asynchronously"
    if not interpreter or os.path.abspath(interpreter) != os.path.abspath(controller_python):
        return "the target's Python (%s) is not the controller's (%s)" % (
            interpreter or "discovered",
            controller_python,
        )
    if missing_library:
        return "the controller lacks %s" % missing_library
    return None


def _has_template(value):
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, dict):
        return any(_has_template(key) or _has_template(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_template(item) for item in value)
    return False


def _plain(value):
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def render_items(items, template):
    """A list the action plugin received unrendered, rendered: each item that may hold a
    template goes through ``template`` (Ansible's own templating), the others are copied as
    plain Python data. Anything else than a list is handed to ``template`` whole."""
    if not isinstance(items, list):
        return template(items)
    return [template(item) if _has_template(item) else _plain(item) for item in items]
