"""The modules' own start-up cost: importing phone_number_fleet and signing the first token.

Each sample is a fresh interpreter, as Ansible starts one per module run; the time is taken
inside it, from before the first import of the module to after its first token, so the
interpreter's own start (the same for any module) is left out and reported separately.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

PROBE = """
import time
began = time.perf_counter()
from ansible_collections.livekit.sip.plugins.modules import phone_number_fleet  # noqa: F401
from ansible_collections.livekit.sip.plugins.module_utils._auth import TokenSource
TokenSource("devkey", "secret").token()
print((time.perf_counter() - began) * 1000.0)
"""
LIMIT_MS = 150.0


def _run(code, env):
    """(stdout, wall milliseconds) of a fresh interpreter running ``code``."""
    began = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    return out, (time.perf_counter() - began) * 1000.0


def measure(runs, env):
    """Medians in milliseconds over ``runs`` fresh interpreters."""
    # Plain Python finds the collection where ansible-core does (the first collections path).
    paths = env.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)
    env = dict(env, PYTHONPATH=paths[0])
    own = [float(_run(PROBE, env)[0]) for dummy in range(runs)]
    bare = [_run("pass", env)[1] for dummy in range(runs)]
    return {
        "runs": runs,
        "imports_and_token_ms": round(statistics.median(own), 1),
        "imports_and_token_max_ms": round(max(own), 1),
        "interpreter_ms": round(statistics.median(bare), 1),
        "limit_ms": LIMIT_MS,
    }


if __name__ == "__main__":
    print(
        measure(
            10,
            dict(
                os.environ,
                ANSIBLE_COLLECTIONS_PATH=os.environ.get(
                    "ANSIBLE_COLLECTIONS_PATH", os.path.join(os.getcwd(), ".build", "collections")
                ),
            ),
        )
    )
