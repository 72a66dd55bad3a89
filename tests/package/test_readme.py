"""README.md's Install and Quick start, typed as a newcomer would, against the emulator.

The blocks marked `<!-- shell: [VARIANT...] -->` are typed command by command in a terminal
(tests/package/terminal.py), starting in a fresh copy of the checkout (the reader's clone), in
README order. `<!-- file: PATH -->` blocks are written where the reader stands; the
`<!-- vault-file: PATH -->` block is what the reader types into the editor that
`ansible-vault create` opens. The Quick start offers two ways of giving the credentials, the
environment and a vault; each variant types the blocks of its own way and the common ones.

What the test changes in the text, and only that: the example credentials become the
emulator's, and the example number becomes one the README's search printed. Everything runs from
the collection that the Install commands built and installed, and from nothing else.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil

import pytest
import yaml

from tests.package import helpers
from tests.package.helpers import ROOT, blocks_of, clean_env, example_values, fresh_clone, writes
from tests.package.terminal import Terminal

VAULT_PASSWORD = "readme-vault-password"
OFFERED = re.compile(r'"e164_format": "(\+\d+)"')
# The sections the test follows, and the variants of the Quick start.
SECTIONS = ("## Install", "## Quick start")
VARIANTS = ("env", "vault")


def readme_blocks(*sections):
    """The README's blocks of the sections named (all of SECTIONS by default)."""
    with open(os.path.join(ROOT, "README.md")) as handle:
        text = handle.read()
    spans = []
    for title in sections or SECTIONS:
        start = text.index("\n" + title + "\n")
        end = text.find("\n## ", start + 1)
        first = text.count("\n", 0, start) + 1
        spans.append((first, text.count("\n", 0, end if end > 0 else len(text)) + 1))
    return [
        block
        for block in blocks_of("README.md")
        if any(first <= block.line <= last for first, last in spans)
    ]


def shell_commands(block, variant=None):
    """The commands of a `<!-- shell: -->` block that the variant types (none for other blocks)."""
    if not block.has("shell"):
        return []
    only = block.marker("shell").split()
    return block.commands() if not only or variant in only else []


def recap(done):
    """The run's changed count; it must have failed nothing."""
    counts = helpers.recap(done.output)
    assert counts["failed"] == 0, done
    return counts["changed"]


def test_readme_marks_the_blocks_it_means_to_run():
    found = readme_blocks()
    console = [block for block in found if block.lang == "console"]
    assert console and all(block.has("shell") for block in console), console
    for variant in VARIANTS:
        assert any(variant in block.marker("shell").split() for block in console), variant
    assert [block.marker("file") for block in found if block.has("file")] == [
        "inventory/group_vars/livekit_projects/main.yml"
    ]
    assert len([block for block in found if block.has("vault-file")]) == 1


@pytest.fixture(scope="module")
def readme_install(tmp_path_factory):
    """The Install section, typed twice in a fresh clone: (where it leaves the reader, environment)."""
    base = tmp_path_factory.mktemp("readme-install")
    clone = fresh_clone(str(base / "clone"))
    collections = base / "collections"
    env = clean_env(
        base, str(collections), HOME=str(base / "home"), PIP_DISABLE_PIP_VERSION_CHECK="1"
    )
    terminal = Terminal(clone, env, base / "terminal")
    commands = [
        command for block in readme_blocks("## Install") for command in shell_commands(block)
    ]
    assert any("collection install" in command for command in commands)
    # Typed again (after a `git pull`, say), Install works just the same.
    for again in (False, True):
        for command in commands:
            if again and not command.startswith("ansible-galaxy"):
                continue
            done = terminal.type(command)
            assert done.returncode == 0, done
            assert "[ERROR]" not in done.output and "Nothing to do" not in done.output, done
            if "collection build" in command:
                assert os.path.isfile(os.path.join(clone, "livekit-sip-0.1.0.tar.gz")), done
    manifest = collections / "ansible_collections" / "livekit" / "sip" / "MANIFEST.json"
    assert manifest.is_file()
    # The clone stays where the Install left the reader, for the Quick start.
    return terminal.cwd, terminal.env


@pytest.mark.parametrize("variant", VARIANTS)
def test_readme_quick_start(variant, readme_install, emulator_factory, tmp_path):
    installed_clone, installed_env = readme_install
    emulator = emulator_factory(api_secret="readme-" + secrets.token_hex(12))
    # Each variant starts from its own copy of the installed clone, so that `cp -r examples
    # ../my-numbers` finds no earlier copy.
    clone = str(tmp_path / "clone")
    shutil.copytree(installed_clone, clone, symlinks=True)
    editor_source = tmp_path / "typed-in-the-editor.yml"
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\ncp "%s" "$1"\n' % editor_source)
    editor.chmod(0o755)
    terminal = Terminal(clone, dict(installed_env, EDITOR=str(editor)), tmp_path / "terminal")

    found = readme_blocks("## Quick start")
    vault_files = [block for block in found if block.has("vault-file")]
    editor_source.write_text(example_values(vault_files[0].text, emulator))
    offered = []
    chosen = None
    applied = 0
    for block in found:
        if block.has("file"):
            text = block.text
            if chosen:
                shown = [
                    entry["phone_number"]
                    for entry in yaml.safe_load(text)["livekit_phone_numbers"]
                    if "phone_number" in entry
                ]
                assert len(shown) == 1, block
                text = text.replace(shown[0], chosen)
            path = os.path.join(terminal.cwd, block.marker("file"))
            assert os.path.isfile(path), f"{block!r}: {path} should replace the example's file"
            with open(path, "w") as handle:
                handle.write(text)
            continue
        for command in shell_commands(block, variant):
            command = example_values(command, emulator)
            answers = emulator.api_secret + "\n" if "read -rs" in command else VAULT_PASSWORD + "\n"
            if "ansible-vault create" in command:
                target = vault_files[0].marker("vault-file")
                assert command.split()[-1] == target, f"{block!r}: creates {command}, not {target}"
                answers = VAULT_PASSWORD + "\n" + VAULT_PASSWORD + "\n"
            before = emulator.admin.counters()
            done = terminal.type(command, answers)
            assert done.returncode == 0, f"{block!r}\n{done}"
            assert "[ERROR]" not in done.output, f"{block!r}\n{done}"
            after = emulator.admin.counters()

            if "phone_number_search" in command:
                offered = OFFERED.findall(done.output)
                assert len(offered) >= 2, done
                # Not the README's example: the number the reader saw is the one to use.
                chosen = offered[-1]
                assert writes(after) == 0, done
            elif "provision.yml" in command and "--check" in command:
                assert writes(after) == writes(before), f"check mode wrote:\n{done}"
                assert "Would purchase (3)" in done.output and chosen in done.output, done
            elif "provision.yml" in command:
                changed = recap(done)
                applied += 1
                if applied == 1:
                    assert changed >= 1, done
                    assert after["writes"]["purchased"] == 3, after
                    assert after["purchases_by_number"].get(chosen) == 1, after
                else:
                    assert changed == 0 and writes(after) == writes(before), done
            elif "show_numbers.yml" in command:
                recap(done)
                assert chosen in done.output, done
            # The secret: typed or vaulted, never shown.
            assert emulator.api_secret not in done.output, done

    assert chosen and applied == 2
    assert emulator.admin.health()["numbers_held"] == 3
    vault = os.path.join(terminal.cwd, vault_files[0].marker("vault-file"))
    if variant == "vault":
        # Encrypted on disk, and it was what the runs used: no LIVEKIT_* variable was set.
        with open(vault) as handle:
            text = handle.read()
        assert text.startswith("$ANSIBLE_VAULT;") and emulator.api_secret not in text
        assert not [name for name in terminal.env if name.startswith("LIVEKIT_")]
    else:
        assert not os.path.exists(vault)
        assert terminal.env["LIVEKIT_API_SECRET"] == emulator.api_secret
