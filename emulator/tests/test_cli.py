"""The command line, run as a subprocess outside any checkout, like a user or a playbook would."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import requests

from livekit_sip_emulator.process import running

from .helpers import PREFIX, token

# Not the checkout: the installed package must not need the repository around it.
WORKDIR = tempfile.gettempdir()


def cli(*args, env=None, timeout=30):
    environment = dict(os.environ, **(env or {}))
    for name in ("EMULATOR_PORT", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "LIVEKIT_URL"):
        if env is None or name not in env:
            environment.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "livekit_sip_emulator"] + list(args),
        cwd=WORKDIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def announced(stdout):
    lines = stdout.splitlines()
    assert lines[0].startswith("LIVEKIT_URL=http") and lines[1].startswith("LIVEKIT_API_KEY=")
    assert lines[2].startswith("LIVEKIT_API_SECRET=") and lines[3]
    return dict(line.split("=", 1) for line in lines[:3])


def local_session():
    session = requests.Session()
    session.trust_env = False
    return session


def call(values, method="ListPhoneNumbers", body=None):
    session = local_session()
    bearer = token(values["LIVEKIT_API_KEY"], values["LIVEKIT_API_SECRET"])
    return session.post(
        values["LIVEKIT_URL"] + PREFIX + method,
        json=body or {},
        timeout=5,
        headers={"Authorization": "Bearer " + bearer},
    )


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_start_and_stop_in_the_background(tmp_path):
    pid_file = tmp_path / "run" / "emulator.pid"
    started = cli(
        "start", "--pid-file", str(pid_file), "--port", "0", "--seed", "3", "--quota", "1"
    )
    assert started.returncode == 0, started.stderr
    values = announced(started.stdout)
    assert (values["LIVEKIT_API_KEY"], values["LIVEKIT_API_SECRET"]) == ("devkey", "secret")
    pid = int(pid_file.read_text())
    try:
        assert running(pid)
        assert call(values).json()["total_count"] == 0
        assert cli("start", "--pid-file", str(pid_file), "--port", "0").returncode == 1
        assert cli("wait", "--url", values["LIVEKIT_URL"], "--timeout", "2").returncode == 0
    finally:
        stopped = cli("stop", "--pid-file", str(pid_file))
    assert stopped.returncode == 0, stopped.stderr
    assert not pid_file.exists() and not running(pid)
    assert "LIVEKIT_URL=" in (tmp_path / "run" / "emulator.pid.log").read_text()
    again = cli("stop", "--pid-file", str(pid_file))
    assert again.returncode == 0 and "not running" in again.stdout
    assert cli("wait", "--url", values["LIVEKIT_URL"], "--timeout", "0.3").returncode == 1


def test_start_reports_a_server_that_cannot_start(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        pid_file = tmp_path / "emulator.pid"
        result = cli(
            "start",
            "--pid-file",
            str(pid_file),
            "--port",
            str(port),
            "--log-file",
            str(tmp_path / "out.log"),
        )
    assert result.returncode == 1
    assert "cannot start" in result.stderr and str(port) in result.stderr
    assert not pid_file.exists()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_in_the_foreground_stops_cleanly_on_a_signal(signum):
    port = free_port()
    env = dict(
        os.environ,
        EMULATOR_PORT=str(port),
        LIVEKIT_API_KEY="envkey",
        LIVEKIT_API_SECRET="envsecret-0123456789abcdef0123456",
    )
    child = subprocess.Popen(
        [sys.executable, "-m", "livekit_sip_emulator"],
        cwd=WORKDIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [child.stdout.readline() for _index in range(4)]
        values = announced("".join(lines))
        assert values == {
            "LIVEKIT_URL": "http://127.0.0.1:%d" % port,
            "LIVEKIT_API_KEY": "envkey",
            "LIVEKIT_API_SECRET": "envsecret-0123456789abcdef0123456",
        }
        assert call(values).status_code == 200
        child.send_signal(signum)
        assert child.wait(10) == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()


def test_options_reach_the_server(tmp_path):
    port = free_port()
    pid_file = tmp_path / "e.pid"
    started = cli(
        "start",
        "--pid-file",
        str(pid_file),
        "--port",
        str(port),
        "--api-key",
        "k1",
        "--api-secret",
        "s1",
        "--extra-key",
        "k2=s2",
        "--json-names",
        "camel",
        "--skip-defaults",
        "--inventory-size",
        "20000",
        "--max-page-size",
        "5",
        "--page-tokens",
        "cursor",
        "--quota",
        "2",
        "--provisioning-delay",
        "60",
        "--fault-rate",
        "1",
        "--fault-kinds",
        "unavailable",
        "--fault-methods",
        "GetPhoneNumber",
        "--log-requests",
    )
    assert started.returncode == 0, started.stderr
    try:
        values = announced(started.stdout)
        assert (
            values["LIVEKIT_URL"] == "http://127.0.0.1:%d" % port
            and values["LIVEKIT_API_KEY"] == "k1"
        )
        search = call(values, "SearchPhoneNumbers", {"country_code": "US", "limit": 50}).json()
        assert len(search["items"]) == 5 and "e164Format" in search["items"][0]
        assert search["nextPageToken"]["token"].startswith("cur_")
        bought = call(
            dict(values, LIVEKIT_API_KEY="k2", LIVEKIT_API_SECRET="s2"),
            "PurchasePhoneNumber",
            {"phone_numbers": [search["items"][0]["e164Format"]]},
        ).json()
        assert bought["phoneNumbers"][0]["status"] == "PHONE_NUMBER_STATUS_PENDING"
        assert (
            call(
                values, "GetPhoneNumber", {"phone_number": search["items"][0]["e164Format"]}
            ).status_code
            == 503
        )
        config = local_session().get(values["LIVEKIT_URL"] + "/_emulator/config", timeout=5).json()
        assert (config["inventory_size"], config["quota"], config["skip_defaults"]) == (
            20000,
            2,
            True,
        )
    finally:
        assert cli("stop", "--pid-file", str(pid_file)).returncode == 0
    assert (
        "POST /twirp/livekit.PhoneNumberService/SearchPhoneNumbers 200"
        in (tmp_path / "e.pid.log").read_text()
    )


def test_bad_options_are_usage_errors(tmp_path):
    for args in (
        ["--extra-key", "nosecret"],
        ["--json-names", "snake"],
        ["--quota", "-1"],
        ["--state", str(tmp_path / "none.json")],
        ["--tls-cert", "cert.pem"],
    ):
        result = cli(*args, timeout=10)
        assert result.returncode == 2, (args, result.stderr)
        assert "error" in result.stderr


def test_serve_with_tls_announces_https(tmp_path, tls_files):
    cert, key = tls_files
    pid_file = tmp_path / "tls.pid"
    started = cli(
        "start", "--pid-file", str(pid_file), "--port", "0", "--tls-cert", cert, "--tls-key", key
    )
    assert started.returncode == 0, started.stderr
    try:
        values = announced(started.stdout)
        assert values["LIVEKIT_URL"].startswith("https://127.0.0.1:")
        assert (
            cli(
                "wait", "--url", values["LIVEKIT_URL"], "--cafile", cert, "--timeout", "3"
            ).returncode
            == 0
        )
        session = local_session()
        session.verify = cert
        assert (
            session.get(values["LIVEKIT_URL"] + "/_emulator/health", timeout=5).json()["status"]
            == "ok"
        )
    finally:
        assert cli("stop", "--pid-file", str(pid_file)).returncode == 0
    started_at = time.monotonic()
    assert (
        cli("wait", "--url", values["LIVEKIT_URL"], "--insecure", "--timeout", "0.2").returncode
        == 1
    )
    assert time.monotonic() - started_at < 5


def console_script():
    """The `livekit-sip-emulator` command that pip installed beside this interpreter."""
    found = shutil.which("livekit-sip-emulator", path=os.path.dirname(sys.executable))
    assert found, "livekit-sip-emulator is not installed beside " + sys.executable
    return found


def test_console_script_has_the_same_commands(tmp_path):
    command = console_script()
    usage = subprocess.run(
        [command, "--help"], cwd=WORKDIR, capture_output=True, text=True, timeout=30, check=False
    )
    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith("usage: livekit-sip-emulator")
    assert "{serve,start,stop,wait}" in usage.stdout
    pid_file = tmp_path / "script.pid"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("LIVEKIT_", "EMU"))
    }
    started = subprocess.run(
        [command, "start", "--pid-file", str(pid_file), "--port", "0", "--quota", "2"],
        cwd=WORKDIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    values = announced(started.stdout)
    pid = int(pid_file.read_text())
    try:
        assert call(values).status_code == 200
    finally:
        stopped = subprocess.run(
            [command, "stop", "--pid-file", str(pid_file)],
            cwd=WORKDIR,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert stopped.returncode == 0 and "emulator stopped (pid %d)" % pid in stopped.stdout
    assert not running(pid)
