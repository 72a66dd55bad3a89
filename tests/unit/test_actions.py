"""Every module has its action, naming it, and the two functions the action runs."""

from __future__ import annotations

import importlib
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = sorted(
    name[:-3]
    for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
    if name.endswith(".py") and not name.startswith("_")
)
ACTIONS = sorted(
    name[:-3]
    for name in os.listdir(os.path.join(ROOT, "plugins", "action"))
    if name.endswith(".py") and not name.startswith("_")
)


def test_every_module_has_an_action_and_every_action_a_module():
    assert MODULES and ACTIONS == MODULES


@pytest.mark.parametrize("name", MODULES)
def test_the_action_names_its_module_which_offers_module_spec_and_run(name):
    action = importlib.import_module("ansible_collections.livekit.sip.plugins.action." + name)
    assert action.ActionModule.MODULE == "livekit.sip." + name
    module = importlib.import_module("ansible_collections.livekit.sip.plugins.modules." + name)
    spec = module.module_spec()
    assert "argument_spec" in spec and spec["supports_check_mode"] is True
    assert callable(module.run)
    # Options the action takes as the list itself must be options of the module.
    assert set(action.ActionModule.LARGE_OPTIONS) <= set(spec["argument_spec"])
