"""The action of phone_number_fleet through ansible-playbook: where it runs, what it renders.

With a local connection and the controller's Python the module's code runs in the worker;
with livekit_sip_run_in_worker=false, or a task environment, it runs as a module. Either way
the entries' templates are rendered (an omitted field stays unset), the result is the same and
the secret appears nowhere in the output, even at -vvv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from .helpers import available

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
SECRET = "s3cr3t-of-the-action-test-0123456789"

PLAYBOOK = """
- name: Reconcile a fleet
  hosts: all
  gather_facts: false
  tasks:
    - name: Reconcile
      livekit.sip.phone_number_fleet:
        url: "{{ lk_url }}"
        api_key: "{{ lk_key }}"
        api_secret: "{{ lk_secret }}"
        entries: "{{ fleet }}"
        max_purchase: 5
      register: fleet_result
    - name: Keep the result for the test
      ansible.builtin.copy:
        content: "{{ fleet_result | to_json }}"
        dest: "{{ result_path }}"
        mode: "0600"
"""

FROM_ENVIRONMENT = """
- name: Reconcile a fleet, the URL from the task's environment
  hosts: all
  gather_facts: false
  tasks:
    - name: Reconcile
      livekit.sip.phone_number_fleet:
        api_key: "{{ lk_key }}"
        api_secret: "{{ lk_secret }}"
        entries: "{{ fleet }}"
      environment:
        LIVEKIT_URL: "{{ lk_url }}"
      register: fleet_result
    - name: Keep the result for the test
      ansible.builtin.copy:
        content: "{{ fleet_result | to_json }}"
        dest: "{{ result_path }}"
        mode: "0600"
"""


def play(tmp_path, emulator, fleet, playbook=PLAYBOOK, **host_vars):
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "lk_url": emulator.url,
        "lk_key": emulator.api_key,
        "lk_secret": emulator.api_secret,
        "fleet": fleet,
        "label": "support",
        "result_path": str(tmp_path / "result.json"),
    }
    host.update(host_vars)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"hosts": {"localhost": host}}}))
    (tmp_path / "site.yml").write_text(playbook)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_")}
    env.update(
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
        ANSIBLE_LOCALHOST_WARNING="0",
    )
    done = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-vvv", "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "site.yml")],
        cwd=str(tmp_path),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert SECRET not in output
    return json.loads((tmp_path / "result.json").read_text()), output


def fleet_of(numbers):
    return [
        {"phone_number": numbers[0], "name": "{{ label }}"},
        {"phone_number": numbers[1], "name": "{{ omit }}"},
        {"phone_number": numbers[2]},
    ]


def test_in_the_worker_and_as_a_module_the_run_is_the_same(emulator_factory, tmp_path):
    emulator = emulator_factory(api_secret=SECRET)
    numbers = available(emulator, "US", "415", 3)
    outcomes = []
    for way, host_vars in (("worker", {}), ("module", {"livekit_sip_run_in_worker": False})):
        emulator.admin.reset()
        result, output = play(tmp_path, emulator, fleet_of(numbers), **host_vars)
        if way == "worker":
            assert "phone_number_fleet runs in the worker, on the controller" in output
        else:
            assert "runs as a module: livekit_sip_run_in_worker is false" in output
        held = {r["e164_format"]: r for r in emulator.admin.dump()["numbers"]}
        assert {n: held[n]["name"] for n in numbers} == {
            numbers[0]: "support",
            numbers[1]: "",
            numbers[2]: "",
        }
        outcomes.append(
            {key: result[key] for key in ("changed", "purchased", "labelled", "counts", "routed")}
        )
    assert outcomes[0] == outcomes[1]
    assert outcomes[0]["purchased"] == numbers and outcomes[0]["labelled"] == numbers[:1]


def test_a_task_environment_makes_it_run_as_a_module_that_reads_it(emulator_factory, tmp_path):
    emulator = emulator_factory(api_secret=SECRET)
    numbers = available(emulator, "US", "415", 3)
    result, output = play(tmp_path, emulator, fleet_of(numbers), playbook=FROM_ENVIRONMENT)
    assert "runs as a module: the task sets an environment" in output
    assert result["changed"] is True and result["purchased"] == numbers


DEFAULTS_AND_RETRY = """
- name: Reconcile a fleet with the group's defaults, and once more on a retry
  hosts: all
  gather_facts: false
  module_defaults:
    group/livekit.sip.all:
      url: "{{ lk_url }}"
      api_key: "{{ lk_key }}"
      api_secret: "{{ lk_secret }}"
  tasks:
    - name: Reconcile, releasing what no entry accounts for
      livekit.sip.phone_number_fleet:
        entries: "{{ fleet }}"
        release_unlisted: true
        max_purchase: 5
      register: fleet_result
      # The first attempt never satisfies this: the task runs a second time, with the entries
      # the first attempt rendered.
      until: fleet_result.attempts | default(1) > 1
      retries: 1
      delay: 0
    - name: Keep the result for the test
      ansible.builtin.copy:
        content: "{{ fleet_result | to_json }}"
        dest: "{{ result_path }}"
        mode: "0600"
"""


def test_group_defaults_apply_and_a_retry_sees_the_same_entries(emulator_factory, tmp_path):
    emulator = emulator_factory(api_secret=SECRET)
    numbers = available(emulator, "US", "415", 3)
    result, output = play(tmp_path, emulator, fleet_of(numbers), playbook=DEFAULTS_AND_RETRY)
    assert "phone_number_fleet runs in the worker" in output
    assert "FAILED - RETRYING" in output and result["attempts"] == 2
    # The second attempt found every number held as the entries say: nothing to release.
    assert result["changed"] is False and result["released"] == []
    assert result["counts"]["held"] == 3 and result["unlisted"] == []
    assert emulator.admin.health()["numbers_held"] == 3
