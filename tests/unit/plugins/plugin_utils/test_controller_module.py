"""The controller-side stand-in for AnsibleModule, the choice of where a task runs, rendering."""

from __future__ import annotations

import sys

import pytest

from ansible_collections.livekit.sip.plugins.plugin_utils import _controller_module as cm

SPEC = {
    "url": {"type": "str"},
    "api_secret": {"type": "str", "no_log": True},
    "max_purchase": {"type": "int", "default": 10, "aliases": ["purchase_limit"]},
    "entries": {"type": "list", "elements": "dict", "required": True},
    "wait": {"type": "bool", "default": False},
}


def module(**args):
    spec = {"argument_spec": SPEC, "supports_check_mode": True}
    return cm.ControllerModule("livekit.sip.test", spec, args, check_mode=True, diff=False)


def ended(call, *args, **kwargs):
    with pytest.raises(cm.ModuleExit) as info:
        call(*args, **kwargs)
    return info.value.result


def test_params_are_validated_with_defaults_and_types():
    m = module(entries=[{"phone_number": "+14155550100"}], max_purchase="3")
    assert m.params["max_purchase"] == 3 and m.params["wait"] is False
    assert m.check_mode is True and m._diff is False


def test_a_large_list_of_mappings_is_handed_over_as_it_is():
    entries = [{"phone_number": "+1415555%04d" % i} for i in range(cm.LARGE_LIST)]
    m = module(entries=entries)
    assert m.params["entries"] is entries
    # A short list is validated (and copied) as AnsibleModule would.
    short = entries[:2]
    assert module(entries=short).params["entries"] == short
    assert module(entries=short).params["entries"] is not short


@pytest.mark.parametrize(
    "args, message",
    [
        ({}, "missing required arguments: entries"),
        (
            {"entries": [], "bogus": 1},
            "Unsupported parameters for (livekit.sip.test) module: bogus",
        ),
        ({"entries": [], "max_purchase": "many"}, "max_purchase"),
        ({"entries": "not a list of mappings=1,2"}, "entries"),
    ],
)
def test_invalid_arguments_fail_as_ansible_module_fails(args, message):
    result = ended(module, **args)
    assert result["failed"] is True and message in result["msg"]
    # As from AnsibleModule: the controller, not the module, adds changed=False.
    assert "changed" not in result


def test_a_large_list_that_is_not_only_mappings_is_validated():
    entries = [{"phone_number": "+14155550100"}] * cm.LARGE_LIST + ["+14155550101"]
    result = ended(module, entries=entries)
    assert result["failed"] is True and "entries" in result["msg"]


def test_results_are_scrubbed_of_no_log_values_and_keep_booleans_and_none():
    m = module(entries=[], api_secret="s3cret-value")
    result = ended(m.exit_json, changed=True, note="the secret is s3cret-value", nothing=None)
    assert "s3cret-value" not in repr(result)
    assert result["changed"] is True and result["nothing"] is None
    assert (
        result["invocation"]["module_args"]["api_secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    )


def test_warnings_and_the_alias_warning_reach_the_result():
    m = module(entries=[], max_purchase=1, purchase_limit=1)
    m.warn("two numbers were read twice")
    result = ended(m.fail_json, msg="stopped", error={"code": "x"})
    assert result["warnings"] == [
        "Both option max_purchase and its alias purchase_limit are set.",
        "two numbers were read twice",
    ]
    assert result["failed"] is True and result["msg"] == "stopped"
    assert result["error"] == {"code": "x"}


def test_fail_json_drops_a_traceback_meant_for_a_module_process():
    result = ended(module(entries=[]).fail_json, msg="no", exception="Traceback ...")
    assert "exception" not in result


class Code:
    """A module's code: module_spec() and run(module)."""

    def __init__(self, body, **spec):
        self.body = body
        self.spec = dict({"argument_spec": dict(SPEC), "supports_check_mode": True}, **spec)

    def module_spec(self):
        return self.spec

    def run(self, module):
        self.body(module)


def test_run_in_worker_returns_what_the_module_exits_with():
    def body(module):
        module.exit_json(changed=False, held=len(module.params["entries"]))

    result = cm.run_in_worker(Code(body), "livekit.sip.test", {"entries": [{}]}, False, True)
    assert result["held"] == 1 and result["changed"] is False


def test_an_except_exception_of_the_module_does_not_swallow_its_exit():
    def body(module):
        try:
            module.exit_json(changed=True)
        except Exception:  # what a module's code might do around its work
            module.fail_json(msg="taken for an error")

    result = cm.run_in_worker(Code(body), "livekit.sip.test", {"entries": []}, False, False)
    assert result["changed"] is True and "failed" not in result


@pytest.mark.parametrize(
    "spec, args, message",
    [
        (
            {"mutually_exclusive": [("url", "api_secret")]},
            {"entries": [], "url": "u", "api_secret": "the-secret-value"},
            "parameters are mutually exclusive: url|api_secret",
        ),
        (
            {"required_one_of": [("url", "api_secret")]},
            {"entries": []},
            "one of the following is required: url, api_secret",
        ),
    ],
)
def test_the_modules_other_argument_rules_apply(spec, args, message):
    result = cm.run_in_worker(Code(lambda m: m.exit_json(), **spec), "x.y.z", args, False, False)
    assert result["failed"] is True and message in result["msg"]


def test_a_module_without_check_mode_is_skipped_in_check_mode():
    code = Code(lambda m: m.exit_json(changed=True), supports_check_mode=False)
    result = cm.run_in_worker(code, "x.y.z", {"entries": []}, True, False)
    assert result["skipped"] is True and "does not support check mode" in result["msg"]


def test_run_in_worker_refuses_a_module_that_returns_without_exiting():
    with pytest.raises(RuntimeError, match="without exit_json or fail_json"):
        cm.run_in_worker(
            Code(lambda module: None), "livekit.sip.test", {"entries": []}, False, False
        )


LOCAL = {
    "enabled": True,
    "transport": "local",
    "become": False,
    "environment": [],
    "async_val": 0,
    "delegate_to": None,
    "interpreter": sys.executable,
    "controller_python": sys.executable,
    "missing_library": None,
}


def test_a_local_task_with_the_controllers_python_runs_in_the_worker():
    assert cm.worker_refusal(**LOCAL) is None


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"enabled": False}, "livekit_sip_run_in_worker is false"),
        ({"transport": "ssh"}, "the connection is ssh, not local"),
        ({"delegate_to": "bastion"}, "the task is delegated"),
        ({"become": True}, "the task uses become"),
        ({"environment": [{"LIVEKIT_URL": "x"}]}, "the task sets an environment"),
        ({"async_val": 30}, "the task runs asynchronously"),
        ({"interpreter": None}, "the target's Python (discovered)"),
        ({"interpreter": "/usr/bin/python3"}, "the target's Python (/usr/bin/python3)"),
        ({"missing_library": "requests"}, "the controller lacks requests"),
    ],
)
def test_anything_else_runs_as_a_module_and_says_why(change, reason):
    assert reason in cm.worker_refusal(**dict(LOCAL, **change))


def test_items_without_templates_are_copied_as_plain_data_the_others_rendered():
    class Tagged(str):
        pass

    rendered = []

    def template(value):
        rendered.append(value)
        return {"phone_number": "+14155550199"}

    items = [{Tagged("phone_number"): Tagged("+14155550100"), "count": 2}, {"x": "{{ y }}"}]
    out = cm.render_items(items, template)
    assert out == [{"phone_number": "+14155550100", "count": 2}, {"phone_number": "+14155550199"}]
    assert rendered == [{"x": "{{ y }}"}]
    # Plain str, not the tagged subclass an inventory gives.
    assert {type(part) for pair in out[0].items() for part in pair} == {str, int}
    # A key can hold a template too; anything but a list is the template engine's.
    assert cm.render_items([{"{{ k }}": 1}], lambda v: "done") == ["done"]
    assert cm.render_items("{{ fleet }}", lambda v: ["all"]) == ["all"]
