"""The API secret and the tokens signed with it never show, not even with -vvvv or when a run fails.

The emulator runs as its own process with request logging on, and accepts one more key whose
secret is long, random and therefore unmistakable. The role then runs with -vvvv, the secret
given as a role variable (so a module option) or through the environment, in runs that succeed
(with --diff) and runs that fail after requests were made (a pool the inventory cannot fill,
a wrong secret). Everything ansible-playbook and the emulator printed is searched for the
secret and for anything shaped like a JWT, which is what a leaked bearer token looks like.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys

import pytest

from tests.integration.playbooks import ROOT, RolePlay

KEY = "APIreliability"
# base64url of '{"' starts every JWT: header and payload are JSON objects.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")


@pytest.fixture
def logging_emulator(tmp_path):
    """An emulator process logging every request, with the extra key; yields (url, secret, log path)."""
    secret = "distinctive-" + secrets.token_hex(24)
    log = tmp_path / "emulator.log"
    with open(log, "w", encoding="utf-8") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "livekit_sip_emulator",
                "serve",
                "--port",
                "0",
                "--log-requests",
                "--extra-key",
                f"{KEY}={secret}",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = None
        for _dummy in range(200):
            match = re.search(r"^LIVEKIT_URL=(\S+)$", log.read_text(encoding="utf-8"), re.M)
            if match:
                url = match.group(1)
                break
            if process.poll() is not None:
                break
            subprocess.run(["sleep", "0.05"], check=True)
        assert url, log.read_text(encoding="utf-8")
        yield url, secret, log
    finally:
        process.terminate()
        process.wait(timeout=10)


def leaks(text, secret):
    found = [secret] if secret in text else []
    return found + JWT.findall(text)


# (credentials, role variables, whether the run succeeds, extra ansible-playbook options)
RUNS = [
    (
        "vars",
        {"livekit_phone_numbers": [{"country_code": "US", "area_code": "415", "count": 1}]},
        True,
        ["--diff"],
    ),
    (
        "environment",
        {"livekit_phone_numbers": [{"country_code": "US", "area_code": "650", "count": 2}]},
        True,
        [],
    ),
    # Fails after listing and searching: the inventory holds 155 numbers in GB 20.
    (
        "vars",
        {
            "livekit_phone_numbers": [{"country_code": "GB", "area_code": "20", "count": 500}],
            "livekit_phone_numbers_max_purchase": 500,
        },
        False,
        [],
    ),
    ("environment", {"livekit_phone_numbers": []}, False, []),  # with a wrong secret, below
]


# The role's task runs in the worker by default (the inventory is local, the Python the
# controller's), and as a module with livekit_sip_run_in_worker=false: both must keep quiet.
@pytest.mark.parametrize("in_worker", [True, False], ids=["in-worker", "as-module"])
def test_no_secret_and_no_token_in_vvvv_output_or_emulator_log(
    logging_emulator, tmp_path, in_worker
):
    url, secret, log = logging_emulator
    outputs = []
    for index, (credentials, variables, succeeds, options) in enumerate(RUNS):
        # The last run signs with a wrong secret: it is still a secret the user typed.
        given = secret if succeeds or index < 3 else secret[::-1]
        play = RolePlay(tmp_path / str(index), url, KEY, given, credentials=credentials)
        done = play.run(
            verbosity=4, options=options, livekit_sip_run_in_worker=in_worker, **variables
        )
        assert (done.returncode == 0) is succeeds, done.failure_messages() or done.output[-2000:]
        if in_worker:
            assert "phone_number_fleet runs in the worker" in done.output  # -vvv and more
        else:
            assert "<localhost> EXEC" in done.output  # it really is -vvvv output
        assert not leaks(done.output, given), "run %d printed %s" % (
            index,
            leaks(done.output, given),
        )
        outputs.append(done)
    # The runs did what they say: the module got the secret both ways, and the failures came
    # from the server's answers, not from a missing credential.
    assert "Purchased (1)" in outputs[0].output and "Purchased (2)" in outputs[1].output
    assert "search offered only" in outputs[2].failure_messages()[0]
    assert "unauthenticated" in outputs[3].failure_messages()[0]
    assert (
        "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in outputs[0].output
    )  # masked where it was an option
    server_log = log.read_text(encoding="utf-8")
    assert "POST /twirp/livekit.PhoneNumberService/PurchasePhoneNumber" in server_log
    assert not leaks(server_log, secret) and secret[::-1] not in server_log
    assert os.path.getsize(log) > 0
