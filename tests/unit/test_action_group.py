"""meta/runtime.yml's action group `all` must list exactly the modules in plugins/modules."""

from __future__ import annotations

import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def modules_on_disk():
    folder = os.path.join(ROOT, "plugins", "modules")
    return sorted(
        name[:-3]
        for name in os.listdir(folder)
        if name.endswith(".py") and not name.startswith("_")
    )


def test_action_group_all_lists_every_module():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as handle:
        runtime = yaml.safe_load(handle)
    group = runtime["action_groups"]["all"]
    assert modules_on_disk(), "no modules found"
    assert sorted(group) == modules_on_disk()
    assert len(group) == len(set(group))


def test_every_module_documents_its_membership():
    for name in modules_on_disk():
        with open(os.path.join(ROOT, "plugins", "modules", name + ".py")) as handle:
            source = handle.read()
        assert "livekit.sip.auth.attributes" in source, name
