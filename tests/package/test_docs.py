"""ansible-doc renders every module and the role of the installed collection, and the guides' links hold."""

from __future__ import annotations

import ast
import os
import re

import pytest
import yaml

from tests.package.helpers import ROOT, run, tool

MODULES = sorted(
    name[:-3]
    for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
    if name.endswith(".py") and not name.startswith("_")
)
GUIDES = ["authentication", "provisioning", "check-mode", "awx", "execution-environment"]


def documentation(module):
    """The module's DOCUMENTATION, read without importing it."""
    with open(os.path.join(ROOT, "plugins", "modules", module + ".py")) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            getattr(target, "id", None) == "DOCUMENTATION" for target in node.targets
        ):
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError(f"{module} has no DOCUMENTATION")


def test_modules_are_found():
    assert {"phone_number", "phone_number_info", "phone_number_search"} <= set(MODULES)


ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders_the_module(installed, ansible_env, module):
    done = run([tool("ansible-doc"), "-t", "module", "livekit.sip." + module], ansible_env(), ROOT)
    assert done.returncode == 0, done
    assert "[WARNING]" not in done.output and "[ERROR]" not in done.output, done
    text = ANSI.sub("", done.output)
    # The installed copy, not another one on the machine.
    assert text.startswith(f"> MODULE livekit.sip.{module} ({installed.root}"), text[:300]
    doc = documentation(module)
    # Every option, the module's own and its documentation fragment's, has its entry: "- name"
    # ("= name" when required) without colours, indented (and bold when required) with them.
    for option in list(doc["options"]) + [
        "url",
        "api_key",
        "api_secret",
        "validate_certs",
        "timeout",
        "retries",
    ]:
        assert re.search(rf"^(?:[-=] | {{3}}){re.escape(option)}  ", text, re.M), option


def test_ansible_doc_lists_every_module(ansible_env):
    done = run(
        [tool("ansible-doc"), "-t", "module", "--list", "livekit.sip", "--json"],
        ansible_env(),
        ROOT,
    )
    assert done.returncode == 0, done
    listed = yaml.safe_load(done.output[done.output.index("{") :])
    assert listed == {
        "livekit.sip." + module: documentation(module)["short_description"] for module in MODULES
    }


def test_ansible_doc_renders_the_role(installed, ansible_env):
    done = run(
        [tool("ansible-doc"), "-t", "role", "livekit.sip.phone_numbers"], ansible_env(), ROOT
    )
    assert done.returncode == 0, done
    assert "[WARNING]" not in done.output and "[ERROR]" not in done.output, done
    with open(installed.file("roles", "phone_numbers", "meta", "argument_specs.yml")) as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    for option in options:
        assert option in done.output, option


@pytest.mark.parametrize("guide", GUIDES)
def test_guide_links_resolve(guide):
    """Relative links of a guide point at files of the repository (anchors and URLs aside)."""
    with open(os.path.join(ROOT, "docs", guide + ".md")) as handle:
        text = handle.read()
    targets = [
        target.split("#")[0]
        for target in re.findall(r"\]\(([^)\s]+)\)", text)
        if "://" not in target and not target.startswith("#")
    ]
    missing = [
        target for target in targets if not os.path.exists(os.path.join(ROOT, "docs", target))
    ]
    assert not missing, missing


def test_provisioning_guide_lists_every_role_variable(installed):
    """The variables table of docs/provisioning.md against the role's argument spec."""
    with open(installed.file("roles", "phone_numbers", "meta", "argument_specs.yml")) as handle:
        options = set(yaml.safe_load(handle)["argument_specs"]["main"]["options"])
    with open(os.path.join(ROOT, "docs", "provisioning.md")) as handle:
        section = handle.read().split("\n## Variables\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    listed = {name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])}
    # The entries are described by the entry point, not declared an option (see its comment).
    assert listed == options | {"livekit_phone_numbers"}
