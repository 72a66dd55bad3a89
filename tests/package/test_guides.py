"""The guides' YAML parses, and their playbooks run against the emulator as the guides say.

Each guide is a project directory: a block marked `<!-- file: NAME -->` is the file NAME of
it (an inventory may come after the playbook that uses it, so every file is written first).
Then, in reading order, each playbook is syntax-checked and run once per `<!-- run: ARGS -->`
marker (once without arguments when it has none), with the guide's inventory. State carries
over from one playbook to the next, as for a reader following along.

The credentials are the emulator's, both in LIVEKIT_* and as the extra variables livekit_url,
livekit_api_key and livekit_api_secret. Extra variables win over the inventory, so the guides'
example values (wss://my-project.livekit.cloud, a vaulted secret) are never used.
"""

from __future__ import annotations

import os

import pytest
import yaml

from tests.package.helpers import blocks, livekit_env, playbook, writes

GUIDES = ["authentication", "provisioning", "check-mode", "awx", "execution-environment"]
WITH_PLAYBOOKS = ["authentication", "provisioning", "check-mode", "awx"]


def is_playbook(data):
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(play, dict) and "hosts" in play for play in data)
    )


def uses_awx(text):
    return "awx.awx." in text


@pytest.mark.parametrize("guide", GUIDES)
def test_guide_yaml_parses(guide):
    found = [block for block in blocks(guide) if block.lang == "yaml"]
    assert found
    for block in found:
        assert yaml.safe_load(block.text), block


@pytest.mark.parametrize("guide", WITH_PLAYBOOKS)
def test_guide_playbooks_run(
    guide, ansible_env, installed, emulator, awx_stub, local_inventory, tmp_path
):
    project = tmp_path / guide
    project.mkdir()
    credentials = [
        "-e",
        f"livekit_url={emulator.url}",
        "-e",
        f"livekit_api_key={emulator.api_key}",
        "-e",
        f"livekit_api_secret={emulator.api_secret}",
    ]
    stub_path = awx_stub[0]
    ran = 0
    plays = []
    for block in blocks(guide):
        if block.lang != "yaml":
            continue
        name = block.marker("file")
        if name:
            path = project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text)
        if is_playbook(yaml.safe_load(block.text)):
            assert name, f"{block!r}: a playbook needs a <!-- file: NAME --> marker"
            plays.append((block, path))
    for candidate in (project / "inventory", project / "inventory.yml", local_inventory):
        if candidate.exists():
            inventory = candidate
            break
    for block, path in plays:
        if uses_awx(block.text):
            # Needs a controller: checked for syntax here, run with stand-ins in test_awx_credentials.py.
            env = ansible_env(ANSIBLE_COLLECTIONS_PATH=installed.path + os.pathsep + stub_path)
            done = playbook(path, env, project, inventory, "--syntax-check")
            assert done.returncode == 0, done
            continue
        env = ansible_env(**livekit_env(emulator))
        done = playbook(path, env, project, inventory, "--syntax-check")
        assert done.returncode == 0, done
        for args in block.runs() or [[]]:
            before = writes(emulator.admin.counters())
            done = playbook(path, env, project, inventory, *(args + credentials))
            assert done.returncode == 0, f"{block!r} {args}\n{done}"
            assert done.recap()["failed"] == 0
            if "--check" in args:
                assert writes(emulator.admin.counters()) == before, f"{block!r} wrote in check mode"
            ran += 1
    assert ran > 0
    assert sum(emulator.admin.counters()["calls"].values()) > 0
