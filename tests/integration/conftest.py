"""The emulator listens on 127.0.0.1: keep any proxy configured in the environment out of the way."""

from __future__ import annotations

import os

import pytest

LOCAL = "127.0.0.1,localhost"


@pytest.fixture(autouse=True)
def _no_proxy_for_the_emulator(monkeypatch):
    for name in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(name)
        monkeypatch.setenv(name, f"{current},{LOCAL}" if current else LOCAL)
