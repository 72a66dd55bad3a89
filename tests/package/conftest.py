"""The Galaxy artifact, built once per session and installed into a clean collections path.

Everything in tests/package runs the installed copy, as a user (or an execution environment)
would get it from `ansible-galaxy collection install`, never the checkout.
"""

from __future__ import annotations

import glob
import os
import shutil

import pytest

from tests.package.helpers import ROOT, WORK, clean_env, run, tool

# Files the build must leave out, created (where missing) before the build so that their absence
# from the artifact proves build_ignore works rather than that nobody had made them yet. All of
# them are in paths git ignores.
DECOYS = (
    "tests/output/package-decoy.txt",
    ".pytest_cache/package-decoy",
    ".hypothesis/package-decoy",
    ".cache/package-decoy",
    "plugins/modules/__pycache__/package_decoy.cpython-311.pyc",
    "livekit-sip-0.0.0.tar.gz",
)


def pytest_configure(config):
    # Registered here rather than through pytest_plugins, which pytest refuses below the rootdir.
    if not config.pluginmanager.has_plugin("livekit_sip_emulator.fixtures"):
        config.pluginmanager.import_plugin("livekit_sip_emulator.fixtures")
    # The development secret "secret" is shorter than PyJWT likes; that is the point of a default.
    config.addinivalue_line("filterwarnings", "ignore::jwt.warnings.InsecureKeyLengthWarning")


class Installed:
    def __init__(self, path):
        self.path = path
        self.root = os.path.join(path, "ansible_collections", "livekit", "sip")

    def file(self, *parts):
        return os.path.join(self.root, *parts)


@pytest.fixture(scope="session")
def artifact(tmp_path_factory):
    """.build/package/dist/livekit-sip-<version>.tar.gz, built from the checkout."""
    shutil.rmtree(WORK, ignore_errors=True)
    dist = os.path.join(WORK, "dist")
    os.makedirs(dist)
    created_files, created_dirs = [], []
    for decoy in DECOYS:
        path = os.path.join(ROOT, decoy)
        if not os.path.exists(path):
            folder = os.path.dirname(path)
            if not os.path.isdir(folder):
                os.makedirs(folder)
                created_dirs.append(folder)
            with open(path, "w") as handle:
                handle.write("must not be in the artifact\n")
            created_files.append(path)
    try:
        env = clean_env(tmp_path_factory.mktemp("build"), os.path.join(WORK, "none"))
        done = run(
            [tool("ansible-galaxy"), "collection", "build", "--output-path", dist, ROOT], env, ROOT
        )
    finally:
        # Leave the checkout as it was: the decoys, and the folders made for them, go.
        for path in created_files:
            os.unlink(path)
        for folder in created_dirs:
            shutil.rmtree(folder, ignore_errors=True)
    assert done.returncode == 0, done
    built = glob.glob(os.path.join(dist, "*.tar.gz"))
    assert len(built) == 1, built
    return built[0]


@pytest.fixture(scope="session")
def installed(artifact, tmp_path_factory):
    """The artifact installed into .build/package/collections, the only collection there."""
    path = os.path.join(WORK, "collections")
    # ansible-galaxy skips a collection already installed in a configured collections path (for
    # example ~/.ansible/collections), even with -p; pointing the configuration at the target and
    # --force make it install this artifact, there.
    env = clean_env(tmp_path_factory.mktemp("install"), path)
    done = run(
        [
            tool("ansible-galaxy"),
            "collection",
            "install",
            "--offline",
            "--force",
            "-p",
            path,
            artifact,
        ],
        env,
        WORK,
    )
    assert done.returncode == 0, done
    return Installed(path)


@pytest.fixture
def ansible_env(installed, tmp_path):
    """clean_env() for the installed collection; keyword arguments add variables."""

    def make(**extra):
        return clean_env(tmp_path, installed.path, **extra)

    return make


@pytest.fixture
def local_inventory(tmp_path):
    """An inventory with localhost run by the Python of ansible-playbook, as the guides have it."""
    path = tmp_path / "localhost.yml"
    path.write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        "      ansible_python_interpreter: '{{ ansible_playbook_python }}'\n"
    )
    return path


# Stand-ins for the awx.awx modules, so that the controller set-up playbook of docs/awx.md can
# run here: each records the arguments it was given, in the file named by AWX_STUB_LOG.
# WANT_JSON makes ansible-playbook hand the arguments over as a JSON file, unchecked.
STUB = """#!/usr/bin/python
# WANT_JSON
import json
import os
import sys

with open(sys.argv[1]) as handle:
    args = dict((k, v) for k, v in json.load(handle).items() if not k.startswith("_ansible"))
with open(os.environ["AWX_STUB_LOG"], "a") as handle:
    handle.write(json.dumps({"module": %r, "args": args}) + "\\n")
print(json.dumps({"changed": True}))
"""


@pytest.fixture
def awx_stub(tmp_path):
    """A collections path holding a stand-in awx.awx collection; returns (path, log file)."""
    path = tmp_path / "stub-collections"
    modules = path / "ansible_collections" / "awx" / "awx" / "plugins" / "modules"
    modules.mkdir(parents=True)
    for name in ("credential_type", "credential", "job_template"):
        (modules / (name + ".py")).write_text(STUB % name)
    return str(path), tmp_path / "awx-calls.jsonl"
