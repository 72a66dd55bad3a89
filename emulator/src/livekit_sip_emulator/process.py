"""The emulator as a background process: start with a pid file, wait for health, stop with SIGTERM."""

from __future__ import annotations

import os
import pathlib
import signal
import ssl
import subprocess
import sys
import time
import urllib.request

URL_PREFIX = "LIVEKIT_URL="
COMMAND_NAMES = (b"livekit_sip_emulator", b"livekit-sip-emulator", b"tests.emulator")


def healthy(url, context=None, timeout=0.0):
    """Poll GET {url}/_emulator/health until it answers 200 or the timeout passes."""
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            with opener.open(url.rstrip("/") + "/_emulator/health", timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def read_pid(pid_file):
    try:
        return int(pathlib.Path(pid_file).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        # A zombie still answers kill(0); it has exited as far as we are concerned.
        return (
            pathlib.Path("/proc/%d/stat" % pid)
            .read_text(encoding="ascii")
            .rsplit(")", 1)[1]
            .split()[0]
            != "Z"
        )
    except (OSError, IndexError):
        return True


def is_emulator(pid):
    """Guards against a stale pid file whose pid now belongs to an unrelated process."""
    try:
        command = pathlib.Path("/proc/%d/cmdline" % pid).read_bytes()
    except OSError:
        return running(pid)
    # Pid files written by the emulator's earlier home, `python -m tests.emulator start`, still stop.
    return any(name in command for name in COMMAND_NAMES)


def _remove(pid_file):
    try:
        os.unlink(pid_file)
    except FileNotFoundError:
        pass


def _log_tail(log_file, offset):
    try:
        with open(log_file, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")[-2000:]
    except OSError:
        return ""


def _url_in_log(log_file, offset):
    for line in _log_tail(log_file, offset).splitlines():
        if line.startswith(URL_PREFIX):
            return line[len(URL_PREFIX) :].strip()
    return None


def _terminate(child):
    child.terminate()
    try:
        child.wait(5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(5)


def start(serve_argv, env, pid_file, log_file, timeout, on_ready):
    pid_file = os.path.abspath(pid_file)
    log_file = os.path.abspath(log_file or pid_file + ".log")
    pid = read_pid(pid_file)
    if pid is not None and running(pid) and is_emulator(pid):
        print(
            "error: an emulator is already running with pid %d (pid file %s)" % (pid, pid_file),
            file=sys.stderr,
        )
        return 1
    os.makedirs(os.path.dirname(log_file), exist_ok=True)
    os.makedirs(os.path.dirname(pid_file), exist_ok=True)
    offset = os.path.getsize(log_file) if os.path.exists(log_file) else 0
    env = dict(env, PYTHONUNBUFFERED="1")
    with open(log_file, "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "livekit_sip_emulator", "serve"] + serve_argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    with open(pid_file, "w", encoding="ascii") as handle:
        handle.write("%d\n" % child.pid)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    # Our own child, freshly started: its certificate is not what this probe is checking.
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            _remove(pid_file)
            print(
                f"error: the emulator exited with status {child.returncode} before it was ready; its output ({log_file}):\n{_log_tail(log_file, offset)}",
                file=sys.stderr,
            )
            return 1
        url = _url_in_log(log_file, offset)
        if url and healthy(url, context):
            on_ready(url)
            print(
                "emulator running in the background: pid %d, log %s" % (child.pid, log_file),
                flush=True,
            )
            return 0
        time.sleep(0.05)
    _terminate(child)
    _remove(pid_file)
    print(
        f"error: the emulator did not answer its health check within {timeout:g} s; its output ({log_file}):\n{_log_tail(log_file, offset)}",
        file=sys.stderr,
    )
    return 1


def stop(pid_file, timeout):
    pid = read_pid(pid_file)
    if pid is None:
        print(f"emulator not running (no pid file {pid_file})")
        return 0
    if not running(pid) or not is_emulator(pid):
        _remove(pid_file)
        print(f"emulator not running (stale pid file {pid_file} removed)")
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if running(pid):
        os.kill(pid, signal.SIGKILL)
        print(
            "warning: emulator pid %d ignored SIGTERM for %g s and was killed" % (pid, timeout),
            file=sys.stderr,
        )
    _remove(pid_file)
    print("emulator stopped (pid %d)" % pid)
    return 0
