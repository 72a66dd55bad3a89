"""A reader's terminal, for the commands that README.md and the guides tell them to type.

Each command runs in its own bash, as it would in an interactive shell: output goes to a
pseudo-terminal (so `ansible-vault create` agrees to open an editor), and the working directory
and the exported variables carry over to the next command, so that `cd` and `export` lines work
as written. There is no controlling terminal: password prompts (the vault's) and `read` take
their answers from standard input, which the test supplies.
"""

from __future__ import annotations

import fcntl
import os
import select
import shlex
import signal
import struct
import subprocess
import termios
import time

# Variables bash maintains itself; they are not the reader's.
SHELL_OWN = ("_", "SHLVL", "PWD", "OLDPWD")


class Typed:
    def __init__(self, command, cwd, returncode, output):
        self.command = command
        self.cwd = cwd
        self.returncode = returncode
        self.output = output

    def __str__(self):
        return "%s$ %s\n(exit %s)\n%s" % (self.cwd, self.command, self.returncode, self.output)

    __repr__ = __str__


class Terminal:
    def __init__(self, cwd, env, state_dir):
        self.cwd = str(cwd)
        self.env = dict(env)
        self.state_dir = str(state_dir)
        os.makedirs(self.state_dir, exist_ok=True)
        self.typed = []

    def type(self, command, answers="", timeout=300):
        """Run one command line; `answers` is what the reader types when asked for input."""
        env_file = os.path.join(self.state_dir, "env")
        cwd_file = os.path.join(self.state_dir, "cwd")
        script = os.path.join(self.state_dir, "command.sh")
        with open(script, "w") as handle:
            handle.write(
                "set -o pipefail\n%s\n__status=$?\nenv -0 > %s\npwd > %s\nexit $__status\n"
                % (command, shlex.quote(env_file), shlex.quote(cwd_file))
            )
        for path in (env_file, cwd_file):
            if os.path.exists(path):
                os.unlink(path)
        started = time.monotonic()
        master, slave = os.openpty()
        # A wide terminal, so that nothing is wrapped or cut.
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        process = subprocess.Popen(
            ["bash", script],
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        process.stdin.write(answers.encode())
        process.stdin.close()
        chunks = []
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    os.killpg(process.pid, signal.SIGKILL)
                    raise AssertionError(
                        "%s$ %s\ntimed out after %ss:\n%s"
                        % (self.cwd, command, timeout, b"".join(chunks).decode(errors="replace"))
                    )
                ready = select.select([master], [], [], min(left, 1.0))[0]
                if not ready:
                    continue
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer of the terminal has gone
                    break
                if not data:
                    break
                chunks.append(data)
        finally:
            os.close(master)
        returncode = process.wait(timeout=30)
        output = b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")
        done = Typed(command, self.cwd, returncode, output)
        done.seconds = time.monotonic() - started
        self.typed.append(done)
        if os.path.exists(cwd_file):
            with open(cwd_file) as handle:
                self.cwd = handle.read().rstrip("\n")
        if os.path.exists(env_file):
            with open(env_file, "rb") as handle:
                pairs = [item.split(b"=", 1) for item in handle.read().split(b"\0") if item]
            self.env = {
                key.decode(): value.decode()
                for key, value in pairs
                if key.decode() not in SHELL_OWN
            }
        return done
