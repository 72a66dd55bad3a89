"""Execution environments: the collection's metadata for ansible-builder, and the example definition.

No image is built (that needs a container engine): ansible-builder's own introspection reads the
installed collection as the image build would, and `ansible-builder create` writes the build
context of docs/execution-environment.yml, whose contents are checked.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import tarfile

import yaml
from packaging.specifiers import SpecifierSet

from tests.package.helpers import ROOT, WORK, blocks, run, tool


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


def test_example_definition_builds_a_context(artifact, ansible_env):
    """docs/execution-environment.yml, placed as in the repository: the artifact one level up."""
    definition = load(os.path.join(ROOT, "docs", "execution-environment.yml"))
    base = os.path.join(WORK, "ee")
    context = os.path.join(WORK, "ee-context")
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(context, ignore_errors=True)
    os.makedirs(os.path.join(base, "docs"))
    shutil.copy(os.path.join(ROOT, "docs", "execution-environment.yml"), os.path.join(base, "docs"))
    shutil.copy(artifact, base)

    done = run(
        [
            tool("ansible-builder"),
            "create",
            "-f",
            os.path.join(base, "docs", "execution-environment.yml"),
            "-c",
            context,
            "--output-filename",
            "Containerfile",
        ],
        ansible_env(),
        base,
    )
    assert done.returncode == 0, done

    name = os.path.basename(artifact)
    # The artifact copied into the context unchanged, and named by the galaxy requirements.
    copied = os.path.join(context, "_build", "collections", name)
    assert os.path.isfile(copied), f"the definition does not copy {name} (is its version current?)"
    assert filecmp.cmp(copied, artifact, shallow=False)
    with tarfile.open(copied) as archive:
        assert "plugins/modules/phone_number.py" in archive.getnames()
    galaxy = load(os.path.join(context, "_build", "requirements.yml"))
    assert galaxy == {"collections": [{"name": "collections/" + name, "type": "file"}]}

    with open(os.path.join(context, "Containerfile")) as handle:
        containerfile = handle.read()
    assert (
        'ARG EE_BASE_IMAGE="{}"'.format(definition["images"]["base_image"]["name"]) in containerfile
    )
    assert "COPY _build /build" in containerfile
    assert (
        "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml"
        in containerfile
    )
    # The step that reads meta/execution-environment.yml and installs requirements.txt.
    assert "introspect.py introspect" in containerfile
    assert os.path.isfile(os.path.join(context, "_build", "scripts", "introspect.py"))
    for package in ("ansible-core", "ansible-runner"):
        assert package in containerfile


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
