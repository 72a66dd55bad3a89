"""Jobs run the way AWX runs them: ansible-runner on the private data directory AWX writes.

For each job, AWX (awx/main/tasks/jobs.py) writes a private data directory and hands it to
ansible-runner in the job's execution environment:

- project/: the project's files (here, those of docs/awx.md);
- inventory/hosts: an executable script printing the job's inventory as JSON: the hosts, groups
  and variables that the inventory source's import stored (`ansible-inventory --list --export`
  of the project's inventory/hosts.yml), plus the controller's own host variables;
- env/envvars: the job's environment, with the `env` injectors of its credentials rendered;
- env/extravars: the awx_* variables of the job;
- env/cmdline: the job template's ansible-playbook arguments (`--check` for a Check job,
  `--diff` for "Show changes");
- env/settings: ansible-runner's settings.

The collection comes from the execution environment: the installed artifact stands for the
image's /usr/share/ansible/collections. ansible-runner records every event of the job under
artifacts/<ident>/job_events/, which is what the controller stores and shows; the secret must
appear in none of them, nor in the job's output.
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import stat

import pytest

from tests.package.helpers import run, tool, writes
from tests.package.test_awx_credentials import credential_type, inject, job_project

SCRIPT = "#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n"


@pytest.fixture
def awx(installed, ansible_env, emulator_factory, tmp_path):
    return AwxJobs(installed, ansible_env, emulator_factory, tmp_path)


class AwxJobs:
    def __init__(self, installed, ansible_env, emulator_factory, tmp_path):
        self.installed = installed
        self.secret = "awx-job-secret-" + secrets.token_hex(16)
        self.emulator = emulator_factory(api_secret=self.secret)
        self.tmp_path = tmp_path
        # The runner's own environment: nothing about collections, which the job's envvars set.
        self.process_env = ansible_env()
        del self.process_env["ANSIBLE_COLLECTIONS_PATH"]
        self.project = job_project(tmp_path / "source")
        self.inventory = self.imported_inventory(ansible_env())
        self.credential_env = inject(
            credential_type(),
            {"url": self.emulator.url, "api_key": self.emulator.api_key, "api_secret": self.secret},
        )[0]

    def imported_inventory(self, env):
        """What the controller stores from the project's inventory source, and writes as a script."""
        done = run(
            [
                tool("ansible-inventory"),
                "-i",
                str(self.project / "inventory" / "hosts.yml"),
                "--list",
                "--export",
            ],
            env,
            self.project,
        )
        assert done.returncode == 0, done
        data = json.loads(done.output[done.output.index("{") :])
        assert data["livekit_projects"]["vars"]["livekit_phone_numbers"], data
        for hostvars in data["_meta"]["hostvars"].values():
            hostvars.update(remote_tower_enabled="true", remote_tower_id=1)
        return data

    def job(self, ident, name, cmdline, collections):
        """Run one job; returns (private data directory, artifacts directory, runner output)."""
        private = self.tmp_path / ("job-%s" % ident)
        shutil.copytree(str(self.project), str(private / "project"))
        (private / "inventory").mkdir()
        script = private / "inventory" / "hosts"
        script.write_text(SCRIPT % json.dumps(self.inventory))
        script.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IXUSR)
        (private / "env").mkdir()
        envvars = dict(
            self.credential_env,
            JOB_ID=str(ident),
            INVENTORY_ID="1",
            PROJECT_REVISION="0123456789abcdef0123456789abcdef01234567",
            ANSIBLE_RETRY_FILES_ENABLED="False",
            ANSIBLE_INVENTORY_UNPARSED_FAILED="True",
            ANSIBLE_PARAMIKO_RECORD_HOST_KEYS="False",
            AWX_PRIVATE_DATA_DIR=str(private),
            **collections(private),
        )
        (private / "env" / "envvars").write_text(json.dumps(envvars))
        extravars = {
            "awx_job_id": ident,
            "awx_job_launch_type": "manual",
            "awx_job_template_name": name,
            "awx_project_revision": envvars["PROJECT_REVISION"],
            "tower_job_id": ident,
        }
        (private / "env" / "extravars").write_text(json.dumps(extravars))
        (private / "env" / "cmdline").write_text(cmdline)
        (private / "env" / "settings").write_text(json.dumps({"job_timeout": 0}))
        done = run(
            [
                tool("ansible-runner"),
                "run",
                str(private),
                "-p",
                "provision.yml",
                "--ident",
                str(ident),
            ],
            self.process_env,
            private,
        )
        return private, private / "artifacts" / str(ident), done

    def in_the_image(self, private):
        # AWX's own directories first, then the image's (here: the installed artifact).
        return {
            "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
                [str(private / "requirements_collections"), self.installed.path]
            )
        }


def events(artifacts):
    found = []
    for path in sorted(glob.glob(str(artifacts / "job_events" / "*.json"))):
        with open(path) as handle:
            found.append((path, handle.read()))
    return found


def stats(artifacts):
    for found in events(artifacts):
        event = json.loads(found[1])
        if event.get("event") == "playbook_on_stats":
            return event["event_data"]
    raise AssertionError(f"no playbook_on_stats event in {artifacts}")


def assert_secret_kept(awx, private, artifacts, done):
    found = events(artifacts)
    assert len(found) > 5, found
    # The job had the secret (the controller wrote it for the runner), and showed it nowhere.
    assert awx.secret in (private / "env" / "envvars").read_text()
    leaks = [path for path, text in found if awx.secret in text]
    assert not leaks, leaks
    assert awx.secret not in (artifacts / "stdout").read_text()
    assert awx.secret not in done.output


def test_check_job_then_run_job_then_rerun(awx):
    emulator = awx.emulator

    # The "preview" job template: job type Check, with Show changes.
    private, artifacts, done = awx.job(1, "preview", "--check --diff", awx.in_the_image)
    assert (artifacts / "status").read_text() == "successful", done
    assert "Would purchase (3)" in (artifacts / "stdout").read_text(), done
    assert writes(emulator.admin.counters()) == 0
    assert sum(emulator.admin.counters()["calls"].values()) > 0
    assert_secret_kept(awx, private, artifacts, done)

    # The "apply" job template: job type Run, with Show changes.
    private, artifacts, done = awx.job(2, "apply", "--diff", awx.in_the_image)
    assert (artifacts / "status").read_text() == "successful", done
    assert stats(artifacts)["changed"].get("localhost", 0) >= 1
    counters = emulator.admin.counters()
    assert counters["writes"]["purchased"] == 3
    assert counters["purchases_by_number"].get("+16502047240") == 1
    assert_secret_kept(awx, private, artifacts, done)

    # The same job again: nothing to do, no write.
    before = writes(emulator.admin.counters())
    private, artifacts, done = awx.job(3, "apply", "--diff", awx.in_the_image)
    assert (artifacts / "status").read_text() == "successful", done
    result = stats(artifacts)
    assert result["changed"].get("localhost", 0) == 0 and not result["failures"], result
    assert result["ok"].get("localhost", 0) > 0
    assert writes(emulator.admin.counters()) == before
    assert emulator.admin.health()["numbers_held"] == 3
    assert_secret_kept(awx, private, artifacts, done)


def test_project_collections_named_only_by_the_plural_variable_are_not_found(awx):
    """docs/awx.md: older AWX set only ANSIBLE_COLLECTIONS_PATHS, which ansible-core 2.19 ignores."""

    def project_collections_old_style(private):
        folder = private / "requirements_collections"
        shutil.copytree(
            awx.installed.path, str(folder), ignore=shutil.ignore_patterns("__pycache__")
        )
        return {"ANSIBLE_COLLECTIONS_PATHS": str(folder)}

    private, artifacts, done = awx.job(4, "apply", "--diff", project_collections_old_style)
    assert (private / "requirements_collections" / "ansible_collections" / "livekit").is_dir()
    assert (artifacts / "status").read_text() == "failed", done
    assert (
        "the role 'livekit.sip.phone_numbers' was not found" in (artifacts / "stdout").read_text()
    )
    assert sum(awx.emulator.admin.counters()["calls"].values()) == 0
