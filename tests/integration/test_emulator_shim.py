"""`python -m tests.emulator`, the emulator's command before it became a package, still works."""

from __future__ import annotations

import subprocess
import sys

from livekit_sip_emulator import AdminClient
from livekit_sip_emulator.process import running
from tests.integration.playbooks import ROOT


def shim(*args):
    return subprocess.run(
        [sys.executable, "-m", "tests.emulator", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_old_command_forwards_to_the_package_and_says_so(tmp_path):
    pid_file = tmp_path / "old.pid"
    started = shim("start", "--pid-file", str(pid_file), "--port", "0", "--quota", "4")
    assert started.returncode == 0, started.stderr
    assert "`python -m tests.emulator` is deprecated; run `livekit-sip-emulator`" in started.stderr
    # The same announcement on stdout as before, for the scripts that read it.
    lines = started.stdout.splitlines()
    assert lines[1:3] == ["LIVEKIT_API_KEY=devkey", "LIVEKIT_API_SECRET=secret"]
    url = lines[0].split("=", 1)[1]
    pid = int(pid_file.read_text())
    try:
        assert AdminClient(url).config()["quota"] == 4
    finally:
        stopped = shim("stop", "--pid-file", str(pid_file))
    assert stopped.returncode == 0 and "emulator stopped (pid %d)" % pid in stopped.stdout
    assert not running(pid)
