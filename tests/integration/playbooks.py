"""The phone_numbers role through the real ansible-playbook command, for the reliability tests.

test_role.py covers the role's features; the reliability tests also need what it does not offer:
two runs at once, -vvvv, credentials in the environment or as variables, and the time a run took.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

PLAYBOOK = """
- name: Provision phone numbers
  hosts: all
  gather_facts: false
  roles:
    - livekit.sip.phone_numbers
  post_tasks:
    - name: Keep the summary for the test
      ansible.builtin.copy:
        content: "{{ phone_numbers_summary | to_json }}"
        dest: "{{ summary_path }}"
        mode: "0600"
      check_mode: false
      changed_when: false
"""


class Outcome:
    """One finished ansible-playbook run: exit status, everything it printed, the role's summary."""

    def __init__(self, returncode, output, summary, seconds):
        self.returncode = returncode
        self.output = output
        self.summary = summary
        self.seconds = seconds

    def failure_messages(self):
        """The ``msg`` of every failed task, from the default callback's ``FAILED! => {...}``.

        The JSON after the marker takes one line, or several with -v and more.
        """
        messages = []
        decoder = json.JSONDecoder()
        for part in self.output.split("FAILED! =>")[1:]:
            try:
                messages.append(decoder.raw_decode(part.lstrip())[0].get("msg", part))
            except ValueError:
                messages.append(part.splitlines()[0].strip())
        return messages


class RolePlay:
    """Writes an inventory and the playbook to ``directory`` and runs the role.

    ``credentials`` is ``vars`` (the role's livekit_* variables, so the secret is a module
    option) or ``environment`` (LIVEKIT_* variables of ansible-playbook, read by the module).
    """

    def __init__(self, directory, url, api_key, api_secret, credentials="vars"):
        self.dir = str(directory)
        os.makedirs(self.dir, exist_ok=True)
        self.connection = {"url": url, "api_key": api_key, "api_secret": api_secret}
        self.credentials = credentials
        with open(os.path.join(self.dir, "site.yml"), "w", encoding="utf-8") as handle:
            handle.write(PLAYBOOK)
        self.summary_path = os.path.join(self.dir, "summary.json")
        self._started = None

    def start(self, verbosity=0, check=False, options=(), new_session=False, **host_vars):
        """Start ansible-playbook without waiting; finish() collects it. ``options``: more arguments.

        ``new_session`` runs it in a process group of its own, which a test may kill as a job
        cancel does.
        """
        host = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "summary_path": self.summary_path,
        }
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_")}
        if self.credentials == "vars":
            host.update(("livekit_" + name, value) for name, value in self.connection.items())
        else:
            env.update(
                ("LIVEKIT_" + name.upper(), value) for name, value in self.connection.items()
            )
        host.update(host_vars)
        inventory = os.path.join(self.dir, "hosts.yml")
        with open(inventory, "w", encoding="utf-8") as handle:
            yaml.safe_dump({"all": {"hosts": {"localhost": host}}}, handle)
        if os.path.exists(self.summary_path):
            os.unlink(self.summary_path)
        env.update(
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
            ANSIBLE_LOCALHOST_WARNING="0",
        )
        argv = [ANSIBLE_PLAYBOOK, "-i", inventory, os.path.join(self.dir, "site.yml")]
        argv += ["-" + "v" * verbosity] if verbosity else []
        argv += ["--check"] if check else []
        argv += list(options)
        self._started = (
            time.monotonic(),
            subprocess.Popen(
                argv,
                cwd=self.dir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=new_session,
            ),
        )
        return self

    @property
    def process(self):
        return self._started[1]

    def finish(self, timeout=300):
        began, process = self._started
        output = process.communicate(timeout=timeout)[0]
        seconds = time.monotonic() - began
        summary = None
        if os.path.exists(self.summary_path):
            with open(self.summary_path, encoding="utf-8") as handle:
                summary = json.load(handle)
        return Outcome(process.returncode, output, summary, seconds)

    def run(self, verbosity=0, check=False, options=(), **host_vars):
        return self.start(verbosity, check, options, **host_vars).finish()
