"""The Galaxy artifact: what it holds, how it installs, and playbooks run from the installed copy."""

from __future__ import annotations

import fnmatch
import json
import os
import tarfile

import yaml

from tests.package.conftest import DECOYS
from tests.package.helpers import ROOT, blocks, livekit_env, playbook, run, tool, writes

MODULES = sorted(
    name[:-3]
    for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
    if name.endswith(".py") and not name.startswith("_")
)
# What a user, Galaxy or ansible-builder needs from the artifact.
REQUIRED = [
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "requirements.txt",
    "meta/runtime.yml",
    "meta/execution-environment.yml",
    "roles/phone_numbers/meta/argument_specs.yml",
    "roles/phone_numbers/tasks/main.yml",
    "extensions/awx/credential_type.yml",
    "docs/authentication.md",
    "docs/provisioning.md",
    "docs/check-mode.md",
    "docs/awx.md",
    "docs/execution-environment.md",
    "docs/execution-environment.yml",
    "changelogs/changelog.yaml",
    "CHANGELOG.md",
    "CHANGELOG.rst",
    "examples/provision.yml",
    "tests/package/smoke.yml",
] + [f"plugins/modules/{name}.py" for name in MODULES]
# Directory names that must not appear anywhere in the artifact: VCS, virtualenvs, build trees,
# caches.
FORBIDDEN_DIRS = {
    ".git",
    ".venv",
    ".build",
    ".pytest_cache",
    ".hypothesis",
    ".cache",
    ".ansible",
    ".tox",
    ".mypy_cache",
    ".ruff_cache",
    "__pycache__",
}
FORBIDDEN_PATHS = [
    "tests/output*",
    "*.pyc",
    "*.tar.gz",
    "*.log",
    "*.pid",
    "changelogs/.plugin-cache.yaml",
    "docs/site*",
]


def members(artifact):
    with tarfile.open(artifact) as archive:
        return [member.name for member in archive.getmembers()]


def test_artifact_holds_the_collection(artifact):
    names = set(members(artifact))
    missing = [name for name in REQUIRED if name not in names]
    assert not missing, f"missing from {os.path.basename(artifact)}: {missing}"


def test_artifact_has_no_test_output_caches_or_build_trees(artifact):
    names = members(artifact)
    bad = [
        name
        for name in names
        if FORBIDDEN_DIRS.intersection(name.split("/"))
        or any(fnmatch.fnmatch(name, p) for p in FORBIDDEN_PATHS)
    ]
    assert not bad, f"should not be in the artifact: {bad}"
    # The decoys the fixture planted before the build: present in the checkout, absent here.
    assert not set(DECOYS) & set(names)


def test_artifact_has_no_emulator_files(artifact):
    """The emulator ships as its own Python package (emulator/), never inside the collection."""
    in_checkout = [
        os.path.join("emulator", "pyproject.toml"),
        os.path.join("emulator", "src", "livekit_sip_emulator", "server.py"),
        os.path.join("tests", "emulator", "__main__.py"),
    ]
    assert all(os.path.isfile(os.path.join(ROOT, path)) for path in in_checkout)
    names = members(artifact)
    emulator_files = [
        name
        for name in names
        if name.split("/")[0] == "emulator"
        or name.startswith("tests/emulator")
        or "livekit_sip_emulator" in name
    ]
    assert not emulator_files, f"emulator files in the artifact: {emulator_files}"


def galaxy_metadata():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        return yaml.safe_load(handle)


def test_manifest_carries_galaxy_metadata(artifact):
    galaxy = galaxy_metadata()
    with tarfile.open(artifact) as archive:
        info = json.load(archive.extractfile("MANIFEST.json"))["collection_info"]
    assert os.path.basename(artifact) == "livekit-sip-{}.tar.gz".format(galaxy["version"])
    for key in (
        "namespace",
        "name",
        "version",
        "license",
        "repository",
        "tags",
        "dependencies",
        "authors",
        "description",
    ):
        assert info[key] == galaxy[key], key
    assert info["license"] == ["GPL-3.0-or-later"]
    assert info["dependencies"] == {}
    assert "cloud" in info["tags"]


def test_installed_copy_is_a_verified_copy(installed, ansible_env):
    # A copy, not the checkout's symlink; with the metadata only an installed artifact has.
    assert not os.path.islink(installed.root)
    assert os.path.realpath(installed.root) != os.path.realpath(ROOT)
    assert os.path.isfile(installed.file("MANIFEST.json")) and os.path.isfile(
        installed.file("FILES.json")
    )
    listed = run(
        [tool("ansible-galaxy"), "collection", "list", "livekit.sip", "--format", "json"],
        ansible_env(),
        ROOT,
    )
    assert listed.returncode == 0, listed
    found = json.loads(listed.output[listed.output.index("{") :])
    assert found == {
        os.path.join(installed.path, "ansible_collections"): {
            "livekit.sip": {"version": galaxy_metadata()["version"]}
        }
    }
    # Every installed file matches the checksums of the artifact's manifest.
    verified = run(
        [tool("ansible-galaxy"), "collection", "verify", "--offline", "livekit.sip"],
        ansible_env(),
        ROOT,
    )
    assert verified.returncode == 0, verified


def assert_modules_from(done, installed, expected):
    """The -vvv output names the module files used: all of them under the installed copy."""
    used = done.module_files()
    assert used, done
    outside = [path for path in used if not path.startswith(installed.root + os.sep)]
    assert not outside, f"module files from outside the installed copy: {outside}"
    names = {os.path.basename(path)[:-3] for path in used}
    assert set(expected) <= names, names


def test_example_provisioning_runs_from_the_installed_copy(installed, ansible_env, emulator):
    """examples/provision.yml with examples/inventory, both from the installed copy, twice."""
    inventory = installed.file("examples", "inventory")
    with open(
        installed.file("examples", "inventory", "group_vars", "livekit_projects", "main.yml")
    ) as handle:
        entries = yaml.safe_load(handle)["livekit_phone_numbers"]
    wanted = sum(
        entry.get("count", 1) for entry in entries if entry.get("state", "present") == "present"
    )
    env = ansible_env(**livekit_env(emulator))

    first = playbook(
        installed.file("examples", "provision.yml"), env, installed.root, inventory, "-vvv"
    )
    assert first.returncode == 0, first
    assert first.recap()["failed"] == 0 and first.recap()["changed"] >= 1
    assert_modules_from(first, installed, ["phone_number_fleet"])
    counters = emulator.admin.counters()
    assert counters["writes"]["purchased"] == wanted
    assert sorted(set(counters["purchases_by_number"].values())) == [1]
    assert emulator.admin.health()["numbers_held"] == wanted

    before = writes(emulator.admin.counters())
    second = playbook(installed.file("examples", "provision.yml"), env, installed.root, inventory)
    assert second.returncode == 0, second
    assert second.recap()["changed"] == 0
    assert writes(emulator.admin.counters()) == before


def test_modules_run_from_the_installed_copy(installed, ansible_env, emulator, local_inventory):
    """tests/package/smoke.yml, from the installed copy: search, check mode, buy, read, release."""
    env = ansible_env(**livekit_env(emulator))
    done = playbook(
        installed.file("tests", "package", "smoke.yml"),
        env,
        installed.root,
        local_inventory,
        "-vvv",
    )
    assert done.returncode == 0, done
    assert done.recap()["failed"] == 0
    assert_modules_from(
        done, installed, ["phone_number_search", "phone_number", "phone_number_info"]
    )
    counters = emulator.admin.counters()
    assert list(counters["purchases_by_number"].values()) == [1]
    assert counters["writes"] == {"purchased": 1, "routed": 0, "released": 1}


def shadowed_group_vars(paths):
    """group_vars files that Ansible skips without a word because a directory of the name exists.

    For each group, Ansible reads `group_vars/<group>` as a directory if there is one, and only
    otherwise `group_vars/<group>.yml` (or .yaml, .json): never both.
    """
    folders = set()
    for path in paths:
        parts = path.split("/")
        folders.update("/".join(parts[:end]) for end in range(1, len(parts)))
    found = []
    for path in paths:
        folder, name = path.rpartition("/")[::2]
        stem, ext = os.path.splitext(name)
        in_group_vars = folder == "group_vars" or folder.endswith("/group_vars")
        if in_group_vars and ext in (".yml", ".yaml", ".json") and folder + "/" + stem in folders:
            found.append(path)
    return found


def test_no_shipped_group_vars_file_is_ignored(artifact):
    """The examples' (and the guides') inventories never hold a file Ansible would skip."""
    names = members(artifact)
    assert "examples/inventory/group_vars/livekit_projects/main.yml" in names
    assert shadowed_group_vars(names) == []
    for guide in ("authentication", "provisioning", "check-mode", "awx"):
        files = [block.marker("file") for block in blocks(guide) if block.marker("file")]
        assert shadowed_group_vars(files) == [], guide
    # The layout the README's quick start warns against is the one this finds.
    assert shadowed_group_vars(
        [
            "inventory/group_vars/livekit_projects.yml",
            "inventory/group_vars/livekit_projects/vault.yml",
        ]
    ) == ["inventory/group_vars/livekit_projects.yml"]
