"""The guides' YAML parses, and their playbooks run against the emulator as the guides say.

Each guide is a project directory: a block marked `<!-- file: NAME -->` is the file NAME of
it (an inventory may come after the playbook that uses it, so every file is written first).
Then, in reading order, each playbook is syntax-checked and run once per `<!-- run: ARGS -->`
marker (once without arguments when it has none), with the guide's inventory. State carries
over from one playbook to the next, as for a reader following along.

The credentials are the emulator's, both in LIVEKIT_* and as the extra variables livekit_url,
livekit_api_key and livekit_api_secret. Extra variables win over the inventory, so the guides'
example values (wss://my-project.livekit.cloud, a vaulted secret) are never used.

A playbook that the guide's own commands run (a `<!-- shell: -->` console block) is run by
test_guide_commands_run_as_typed instead: those commands are typed in a terminal as written,
with only the example credentials replaced by the emulator's.
"""

from __future__ import annotations

import os
import secrets

import pytest
import yaml

from tests.package.helpers import blocks, example_values, livekit_env, playbook, recap, writes
from tests.package.terminal import Terminal

GUIDES = ["authentication", "provisioning", "check-mode", "awx", "execution-environment"]
WITH_PLAYBOOKS = ["authentication", "provisioning", "check-mode", "awx"]

# Guides whose console blocks (marked `<!-- shell: -->`) run here as they are written, in the
# guide's project directory. The others name files a reader has elsewhere (check-mode.md's
# `inventory`), or need a container engine or a controller (execution-environment.md and
# awx.md have their own tests).
TYPED = ["authentication", "provisioning"]
VAULT_PASSWORD = "guide-vault-password"


def typed_commands(guide):
    return [
        command for block in blocks(guide) if block.has("shell") for command in block.commands()
    ]


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
    typed = " ".join(typed_commands(guide)) if guide in TYPED else ""
    for block, path in plays:
        if path.name in typed.split():
            # test_guide_commands_run_as_typed runs it, as the guide's commands say.
            assert not block.runs(), f"{block!r}: run by the guide's commands, and by markers"
            ran += 1
            continue
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


@pytest.mark.parametrize("guide", TYPED)
def test_guide_commands_run_as_typed(guide, ansible_env, emulator_factory, tmp_path):
    emulator = emulator_factory(api_secret="guide-" + secrets.token_hex(12))
    project = tmp_path / guide
    for block in blocks(guide):
        name = block.marker("file")
        if name:
            path = project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(example_values(block.text, emulator))
    commands = typed_commands(guide)
    assert commands
    # A guide that exports the credentials itself starts from an environment without them.
    exported = any("export LIVEKIT_URL=" in command for command in commands)
    env = ansible_env() if exported else ansible_env(**livekit_env(emulator))
    terminal = Terminal(project, env, tmp_path / "terminal")
    played = 0
    applied = set()
    for command in commands:
        command = example_values(command, emulator)
        if "read -rs" in command:
            answers = emulator.api_secret + "\n"
        elif "encrypt_string --stdin-name" in command:
            # The new vault password twice, then the secret, ended with Ctrl-D (no newline).
            answers = "%s\n%s\n%s" % (VAULT_PASSWORD, VAULT_PASSWORD, emulator.api_secret)
        else:
            answers = VAULT_PASSWORD + "\n"
        before = writes(emulator.admin.counters())
        done = terminal.type(command, answers)
        assert done.returncode == 0, done
        assert "[ERROR]" not in done.output, done
        assert emulator.api_secret not in done.output, done
        if command.startswith("ansible-playbook"):
            played += 1
            result = recap(done.output)
            assert result["failed"] == 0 and result["ok"] > 0, done
            if "--check" in command:
                assert writes(emulator.admin.counters()) == before, f"wrote in check mode:\n{done}"
            elif command in applied:
                # The same run again: nothing left to do.
                assert result["changed"] == 0, done
                assert writes(emulator.admin.counters()) == before, done
            applied.add(command)
    assert played > 0
    assert sum(emulator.admin.counters()["calls"].values()) > 0
