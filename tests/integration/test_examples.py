"""Every module's EXAMPLES, run as a playbook with ansible-playbook against the emulator."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest
import yaml

pytest_plugins = ["livekit_sip_emulator.fixtures"]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES_DIR = os.path.join(ROOT, "plugins", "modules")
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
MODULES = sorted(
    name[:-3]
    for name in os.listdir(MODULES_DIR)
    if name.endswith(".py") and not name.startswith("_")
)


def examples(module):
    """The EXAMPLES string, read without importing the module."""
    with open(os.path.join(MODULES_DIR, module + ".py")) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(t, "id", None) == "EXAMPLES" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{module} has no EXAMPLES")


def playbook(tasks):
    return [{"name": "EXAMPLES", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


# On localhost with the controller's Python every module runs in the action's worker; with
# livekit_sip_run_in_worker=false it runs as a module: the examples must do the same both ways.
@pytest.mark.parametrize("in_worker", [True, False], ids=["in-worker", "as-module"])
@pytest.mark.parametrize("module", MODULES)
def test_examples_run_against_the_emulator(emulator, module, tmp_path, in_worker):
    tasks = yaml.safe_load(examples(module))
    assert isinstance(tasks, list) and tasks
    assert any(("livekit.sip." + module) in task for task in tasks)
    (tmp_path / "playbook.yml").write_text(yaml.safe_dump(playbook(tasks), sort_keys=False))
    (tmp_path / "inventory.ini").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable} "
        f"livekit_sip_run_in_worker={in_worker}\n"
    )
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "LIVEKIT_URL": emulator.url,
            "LIVEKIT_API_KEY": emulator.api_key,
            "LIVEKIT_API_SECRET": emulator.api_secret,
        }
    )
    command = [
        os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
        "-i",
        "inventory.ini",
        "playbook.yml",
        "-vvv",
    ]
    done = subprocess.run(
        command,
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "failed=0" in output and "unreachable=0" in output
    assert "ok=%d" % len(tasks) in output, output
    way = (
        "runs in the worker"
        if in_worker
        else "runs as a module: livekit_sip_run_in_worker is false"
    )
    assert "livekit.sip.%s %s" % (module, way) in output
    counters = emulator.admin.counters()
    assert sum(counters["calls"].values()) > 0
    # Looking up numbers the project does not have is part of the info examples.
    expected_errors = {"not_found"} if module == "phone_number_info" else set()
    assert set(counters["errors"]) == expected_errors
    if module == "phone_number":
        # Four numbers bought once each (one routed by rule name), and all released at the end.
        assert sorted(counters["purchases_by_number"].values()) == [1, 1, 1, 1]
        assert counters["writes"]["released"] == 4
        assert emulator.admin.health()["numbers_held"] == 0
        assert counters["rule_writes"] == {"created": 1, "updated": 0, "replaced": 0, "deleted": 1}
    if module == "phone_number_fleet":
        # The rule defined beside the entries is created once, its pool's two numbers are bought
        # routed to it, and the rule is deleted once those numbers were released.
        assert counters["rule_writes"] == {"created": 1, "updated": 0, "replaced": 0, "deleted": 1}
        assert emulator.admin.health()["sip_dispatch_rules"] == 0
    if module == "sip_dispatch_rule":
        # Two rules created, each updated once (metadata; the rename), both deleted at the end;
        # the number routed to one of them released.
        assert counters["rule_writes"] == {"created": 2, "updated": 2, "replaced": 0, "deleted": 2}
        assert emulator.admin.health()["sip_dispatch_rules"] == 0
        assert counters["writes"]["released"] == 1
    if module == "sip_dispatch_rule_info":
        assert counters["rule_writes"] == {"created": 1, "updated": 0, "replaced": 0, "deleted": 1}
