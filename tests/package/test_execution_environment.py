"""Execution environments: the collection's metadata for ansible-builder, and the example definition.

No image is built (that needs a container engine): ansible-builder's own introspection reads the
installed collection as the image build would, and the guide's commands (build the artifact,
then `ansible-builder create`) write the build context of docs/execution-environment.yml in a
fresh clone, whose contents are checked.
"""

from __future__ import annotations

import filecmp
import os
import tarfile

import yaml
from packaging.specifiers import SpecifierSet

from tests.package.helpers import ROOT, blocks, fresh_clone, run, tool
from tests.package.terminal import Terminal


def load(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def requirements():
    with open(os.path.join(ROOT, "requirements.txt")) as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


def test_metadata_points_at_the_python_requirements(installed):
    meta = load(installed.file("meta", "execution-environment.yml"))
    assert meta == {"version": 1, "dependencies": {"python": "requirements.txt"}}
    assert os.path.isfile(installed.file("requirements.txt"))
    # No system requirements: the file would be named in the metadata, and does not exist.
    assert not os.path.exists(installed.file("bindep.txt"))


def test_builder_introspection_finds_the_requirements(installed, ansible_env, tmp_path):
    """What the image build's introspect step would install for this collection."""
    pip = tmp_path / "pip.txt"
    done = run(
        [tool("ansible-builder"), "introspect", "--write-pip", str(pip), installed.path],
        ansible_env(),
        ROOT,
    )
    assert done.returncode == 0, done
    found = [
        line.split("#")[0].strip()
        for line in pip.read_text().splitlines()
        if "from collection livekit.sip" in line
    ]
    assert found == requirements()
    assert (
        found
        and any(line.startswith("PyJWT") for line in found)
        and any(line.startswith("requests") for line in found)
    )


def context_problems(context, artifact):
    """What the build context written for docs/execution-environment.yml lacks for an image build.

    ansible-builder exits 0 whether or not the artifact it should copy exists, so the context
    itself is what tells.
    """
    definition = load(os.path.join(ROOT, "docs", "execution-environment.yml"))
    name = os.path.basename(artifact)
    copied = os.path.join(context, "_build", "collections", name)
    if not os.path.isfile(copied):
        return [
            f"the context has no {name}: was it built first, and is the definition's version current?"
        ]
    problems = []
    if not filecmp.cmp(copied, artifact, shallow=False):
        problems.append(f"the context's {name} is not the artifact built")
    with tarfile.open(copied) as archive:
        if "plugins/modules/phone_number.py" not in archive.getnames():
            problems.append(f"{name} holds no modules")
    galaxy = load(os.path.join(context, "_build", "requirements.yml"))
    if galaxy != {"collections": [{"name": "collections/" + name, "type": "file"}]}:
        problems.append(f"the galaxy requirements do not name {name}: {galaxy}")
    with open(os.path.join(context, "Containerfile")) as handle:
        containerfile = handle.read()
    expected = [
        'ARG EE_BASE_IMAGE="{}"'.format(definition["images"]["base_image"]["name"]),
        "COPY _build /build",
        "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml",
        # The step that reads meta/execution-environment.yml and installs requirements.txt.
        "introspect.py introspect",
        "ansible-core",
        "ansible-runner",
    ]
    problems += [
        f"the Containerfile lacks {text!r}" for text in expected if text not in containerfile
    ]
    if not os.path.isfile(os.path.join(context, "_build", "scripts", "introspect.py")):
        problems.append("the context has no introspect.py")
    return problems


def guide_commands():
    """The commands docs/execution-environment.md has a reader type, in order."""
    return [
        command
        for block in blocks("execution-environment")
        if block.has("shell")
        for command in block.commands()
    ]


def test_guide_steps_build_the_artifact_then_the_context(artifact, ansible_env, tmp_path):
    """The guide's commands, typed in a fresh clone, give a context ready for an image build."""
    clone = fresh_clone(str(tmp_path / "clone"))
    terminal = Terminal(clone, ansible_env(), tmp_path / "terminal")
    commands = guide_commands()
    assert [command.split()[:2] for command in commands] == [
        ["ansible-galaxy", "collection"],
        ["ansible-builder", "create"],
    ]
    for command in commands:
        done = terminal.type(command)
        assert done.returncode == 0, done
    built = os.path.join(clone, os.path.basename(artifact))
    # The artifact the reader built is the one the session built from the same files.
    with tarfile.open(built) as mine, tarfile.open(artifact) as session:
        assert sorted(mine.getnames()) == sorted(session.getnames())
    assert context_problems(os.path.join(clone, "context"), built) == []


def test_create_without_the_artifact_exits_0_and_the_check_catches_it(
    artifact, ansible_env, tmp_path
):
    """Why the guide builds first: ansible-builder alone does not notice the missing artifact."""
    clone = fresh_clone(str(tmp_path / "clone"))
    terminal = Terminal(clone, ansible_env(), tmp_path / "terminal")
    create = [command for command in guide_commands() if command.startswith("ansible-builder")]
    done = terminal.type(create[0])
    assert done.returncode == 0, done
    problems = context_problems(os.path.join(clone, "context"), artifact)
    assert len(problems) == 1 and "has no livekit-sip-" in problems[0], problems


def test_example_ansible_core_satisfies_requires_ansible():
    definition = load(os.path.join(ROOT, "docs", "execution-environment.yml"))
    runtime = load(os.path.join(ROOT, "meta", "runtime.yml"))
    spec = SpecifierSet(
        definition["dependencies"]["ansible_core"]["package_pip"].split("ansible-core", 1)[1]
    )
    required = SpecifierSet(runtime["requires_ansible"])
    candidates = ["2.16.0", "2.17.5", "2.18.9", "2.19.0", "2.19.14", "2.20.1", "2.21.0"]
    allowed = list(spec.filter(candidates))
    assert allowed and all(version in required for version in allowed), allowed


def test_guide_shows_the_metadata_as_it_is():
    meta = load(os.path.join(ROOT, "meta", "execution-environment.yml"))
    shown = [
        yaml.safe_load(block.text)
        for block in blocks("execution-environment")
        if block.lang == "yaml"
    ]
    assert meta in shown
