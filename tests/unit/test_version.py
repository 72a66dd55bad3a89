"""The version modules report (User-Agent) is galaxy.yml's, the one place it is decided."""

from __future__ import annotations

import os
import re

import yaml

from ansible_collections.livekit.sip.plugins.module_utils._twirp import USER_AGENT
from ansible_collections.livekit.sip.plugins.module_utils._version import COLLECTION_VERSION

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def galaxy_version():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        return str(yaml.safe_load(handle)["version"])


def test_module_utils_carry_galaxy_version():
    assert COLLECTION_VERSION == galaxy_version()


def test_user_agent_names_the_version():
    assert USER_AGENT == "livekit.sip-ansible/" + galaxy_version()


def test_no_other_python_file_spells_the_version():
    """A release changes galaxy.yml and _version.py; nothing else may hard-code the number."""
    pattern = re.compile(r"[\"']" + re.escape(galaxy_version()) + r"[\"']")
    offenders = []
    # The emulator is a product of its own, with a version of its own.
    for folder in ("plugins", "tests/unit", "tests/integration", "tests/package"):
        for base, dirs, files in os.walk(os.path.join(ROOT, folder)):
            dirs[:] = [d for d in dirs if d not in ("output", "__pycache__")]
            for name in files:
                path = os.path.join(base, name)
                if not name.endswith(".py") or path.endswith(
                    os.path.join("module_utils", "_version.py")
                ):
                    continue
                with open(path, encoding="utf-8") as handle:
                    if pattern.search(handle.read()):
                        offenders.append(os.path.relpath(path, ROOT))
    assert offenders == []
