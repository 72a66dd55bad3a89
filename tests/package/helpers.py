"""Running ansible commands the way a user of the installed artifact would, and reading guides."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
WORK = os.path.join(ROOT, ".build", "package")
WRITE_METHODS = ("PurchasePhoneNumber", "UpdatePhoneNumber", "ReleasePhoneNumbers")
LOCAL = "127.0.0.1,localhost"


def tool(name):
    return os.path.join(BIN, name)


def clean_env(tmp_path, collections_path, **extra):
    """The environment of an ansible command: the collections path given and nothing else.

    The caller's LIVEKIT_*, ANSIBLE_* and CONTROLLER_* variables are dropped, so that a run has
    only the credentials a test hands it, and finds no collection but those of
    ``collections_path`` (not the checkout's link, not ~/.ansible/collections, not sys.path).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LIVEKIT_", "ANSIBLE_", "CONTROLLER_"))
    }
    # The emulator listens on 127.0.0.1; a proxy configured in the environment must not see it.
    for name in ("NO_PROXY", "no_proxy"):
        env[name] = f"{env[name]},{LOCAL}" if env.get(name) else LOCAL
    env.update(
        {
            "PATH": BIN + os.pathsep + env.get("PATH", ""),
            "ANSIBLE_COLLECTIONS_PATH": collections_path,
            "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
            "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
        }
    )
    env.update(extra)
    return env


def fresh_clone(target):
    """The files of the checkout a `git clone` would give (and the edits not yet committed)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source):
            destination = os.path.join(target, name)
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            shutil.copy2(source, destination)
    return target


# The example credentials of the README and the guides, and what stands for them in the tests.
EXAMPLE_URL = "wss://my-project.livekit.cloud"
EXAMPLE_KEY = re.compile(r"\bAPIx{4,}\b")
EXAMPLE_SECRET = "<the API secret>"


def example_values(text, emulator):
    """The text with the example credentials replaced by the emulator's."""
    text = text.replace(EXAMPLE_URL, emulator.url).replace(EXAMPLE_SECRET, emulator.api_secret)
    return EXAMPLE_KEY.sub(emulator.api_key, text)


def livekit_env(emulator):
    return {
        "LIVEKIT_URL": emulator.url,
        "LIVEKIT_API_KEY": emulator.api_key,
        "LIVEKIT_API_SECRET": emulator.api_secret,
    }


def recap(output, host="localhost"):
    """The last play recap line of the host, as {"ok": 3, "changed": 0, ...}."""
    lines = [line for line in output.splitlines() if line.startswith(host + " ") and "ok=" in line]
    assert lines, f"no play recap for {host} in:\n{output}"
    return {
        key: int(value)
        for key, value in (item.split("=") for item in lines[-1].split(":", 1)[1].split())
    }


class Run:
    """The outcome of a command: return code and output, with the play recap parsed."""

    def __init__(self, argv, done):
        self.argv = argv
        self.returncode = done.returncode
        self.output = done.stdout + done.stderr

    def recap(self, host="localhost"):
        return recap(self.output, host)

    def module_files(self):
        """Module files ansible-playbook used, from its -vvv output: "Using module file ...", or
        the fleet action's "... runs in the worker, on the controller, from ..."."""
        return re.findall(r"Using module file (\S+)", self.output) + re.findall(
            r"runs in the worker, on the controller, from (\S+)", self.output
        )

    def __str__(self):
        return "$ %s\n(exit %d)\n%s" % (" ".join(self.argv), self.returncode, self.output)

    __repr__ = __str__


def run(argv, env, cwd, timeout=300):
    done = subprocess.run(
        argv, env=env, cwd=str(cwd), capture_output=True, text=True, timeout=timeout, check=False
    )
    return Run(argv, done)


def playbook(path, env, cwd, inventory, *args):
    return run([tool("ansible-playbook"), "-i", str(inventory), str(path)] + list(args), env, cwd)


def writes(counters):
    return sum(counters["calls"][name] for name in WRITE_METHODS)


# A fenced block of a Markdown guide, with the HTML comments right above it:
#   <!-- file: NAME -->   the block is the file NAME of the guide's project directory;
#   <!-- run: ARGS -->    run the playbook with these ansible-playbook arguments (repeatable);
#   <!-- shell: [VARIANT...] -->  a console block whose commands the tests type in a terminal
#                         (tests/package/terminal.py), in every variant or only those named.
FENCE = re.compile(r"((?:^<!-- [a-z-]+:[^\n]*-->\n)*)^```(\w+)\n(.*?)^```$", re.M | re.S)
MARKER = re.compile(r"^<!-- ([a-z-]+):([^\n]*)-->$", re.M)


class Block:
    def __init__(self, guide, line, lang, text, markers):
        self.guide = guide
        self.line = line
        self.lang = lang
        self.text = text
        self.markers = markers

    def marker(self, name):
        values = [value for key, value in self.markers if key == name]
        return values[0] if values else None

    def has(self, name):
        return any(pair[0] == name for pair in self.markers)

    def runs(self):
        return [value.split() for key, value in self.markers if key == "run"]

    def commands(self):
        """The commands of a console block: `$ ` prompts (when the block has them) dropped,
        continuation lines joined, blank and comment-only lines skipped."""
        lines = self.text.splitlines()
        prompted = any(line.startswith("$ ") for line in lines)
        found, current = [], None
        for line in lines:
            if current is not None:
                current += "\n" + line
            elif prompted and not line.startswith("$ "):
                continue
            else:
                current = line[2:] if prompted else line
            if current.endswith("\\"):
                continue
            if current.strip() and not current.lstrip().startswith("#"):
                found.append(current)
            current = None
        assert current is None, f"{self!r}: the last command ends with a backslash"
        return found

    def __repr__(self):
        return "%s:%d" % (self.guide, self.line)


def blocks(guide):
    """The fenced blocks of docs/<guide>.md, in order."""
    return blocks_of(os.path.join("docs", guide + ".md"))


def blocks_of(document):
    """The fenced blocks of a Markdown file of the repository (a path relative to it), in order."""
    with open(os.path.join(ROOT, document)) as handle:
        text = handle.read()
    name = os.path.splitext(os.path.basename(document))[0]
    found = []
    for match in FENCE.finditer(text):
        markers = [(key, value.strip()) for key, value in MARKER.findall(match.group(1))]
        line = text.count("\n", 0, match.start(2)) + 1
        found.append(Block(name, line, match.group(2), match.group(3), markers))
    return found
