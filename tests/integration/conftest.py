"""The emulator listens on 127.0.0.1: keep any proxy configured in the environment out of the way.

Every test that talks to the shared emulator also checks, when it ends, that the collection sent
no request field the protocol does not define: the emulator ignores such fields as the real
server does, so a client relying on one would pass its tests and fail in production.
"""

from __future__ import annotations

import json
import os

import pytest

LOCAL = "127.0.0.1,localhost"
PROTOCOL = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    "data",
    "protocol",
    "livekit_phone_number.json",
)


def protocol_request_fields():
    """{method: field names (proto and JSON)} of the newest protocol's request messages."""
    with open(PROTOCOL, encoding="utf-8") as handle:
        messages = json.load(handle)["messages"]
    fields = {}
    for name, message in messages.items():
        if name.endswith("Request"):
            method = name[len("livekit.") : -len("Request")]
            fields[method] = {f["name"] for f in message} | {f["json_name"] for f in message}
    return fields


@pytest.fixture(autouse=True)
def _only_protocol_request_fields(request):
    if "emulator" not in request.fixturenames:
        yield
        return
    # Asked for here, so that the emulator is torn down after this check, not before.
    emulator = request.getfixturevalue("emulator")
    yield
    defined = protocol_request_fields()
    # An older server (--schema pre-1.52) ignores newer fields too; those are not the client's fault.
    unknown = {
        method: sorted(name for name in names if name not in defined.get(method, ()))
        for method, names in emulator.admin.counters().get("ignored_fields", {}).items()
    }
    unknown = {method: names for method, names in unknown.items() if names}
    assert not unknown, f"the collection sent request fields the protocol lacks: {unknown}"


@pytest.fixture(autouse=True)
def _no_proxy_for_the_emulator(monkeypatch):
    for name in ("NO_PROXY", "no_proxy"):
        current = os.environ.get(name)
        monkeypatch.setenv(name, f"{current},{LOCAL}" if current else LOCAL)
