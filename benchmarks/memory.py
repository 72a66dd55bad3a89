"""Peak memory and time of ``phone_number_fleet`` alone, as Ansible runs it: one fresh process.

The module reads its arguments from a file (as AnsiballZ hands them over), talks to an emulator
of its own, and reports the peak resident set size of its process at exit. Two runs at ``size``
numbers: the first (buys them all) and the no-op re-run.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import time

from benchmarks import scenario

ROOT = pathlib.Path(__file__).resolve().parent.parent
LIMIT_MB = 150.0
# The module's main() ends in sys.exit; the peak is read at interpreter exit.
PROBE = """
import atexit, resource, sys
atexit.register(lambda: sys.stderr.write("maxrss_kb=%d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
sys.argv = ["phone_number_fleet", sys.argv[1]]
from ansible_collections.livekit.sip.plugins.modules import phone_number_fleet
phone_number_fleet.main()
"""


def _emulator(workdir, latency_ms, pool, page_cap, env):
    pid_file = str(workdir / "memory-emulator.pid")
    started = subprocess.run(
        [
            sys.executable,
            "-m",
            "livekit_sip_emulator",
            "start",
            "--pid-file",
            pid_file,
            "--port",
            "0",
        ]
        + ["--latency-ms", str(latency_ms), "--inventory-size", str(pool)]
        + ["--quota", "1000000", "--max-page-size", str(page_cap)],
        cwd=str(ROOT),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if started.returncode:
        raise SystemExit(f"the emulator did not start:\n{started.stdout}{started.stderr}")
    return re.search(r"^LIVEKIT_URL=(\S+)$", started.stdout, re.M).group(1), pid_file


def _run(args_file, env):
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(args_file)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - began
    peak = re.search(r"maxrss_kb=(\d+)", done.stderr)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = {"failed": True, "msg": done.stdout[-500:] + done.stderr[-500:]}
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(int(peak.group(1)) / 1024.0, 1) if peak else None,
        "result_bytes": len(done.stdout),
        "changed": result.get("changed"),
        "failed": bool(result.get("failed")) or done.returncode != 0,
        "msg": result.get("msg", ""),
    }


def measure(size, page_cap, latency_ms, workdir, env):
    """{"size", "first", "noop", "limit_mb"}: each run's peak RSS (MB), seconds, result bytes."""
    workdir = pathlib.Path(workdir)
    pool = scenario.inventory_size(size)
    env = dict(env)
    # Plain Python finds the collection where ansible-core does (the first collections path).
    env["PYTHONPATH"] = env.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep)[0]
    url, pid_file = _emulator(workdir, latency_ms, pool, page_cap, env)
    entries = scenario.desired("a", scenario.pick_numbers(size, pool_size=pool), 5)
    args_file = workdir / ("memory-args-%d.json" % size)
    args_file.write_text(
        json.dumps(
            {
                "ANSIBLE_MODULE_ARGS": {
                    "entries": entries,
                    "url": url,
                    "api_key": env["LIVEKIT_API_KEY"],
                    "api_secret": env["LIVEKIT_API_SECRET"],
                    "max_purchase": size,
                }
            }
        ),
        encoding="utf-8",
    )
    try:
        first = _run(args_file, env)
        noop = _run(args_file, env)
    finally:
        subprocess.run(
            [sys.executable, "-m", "livekit_sip_emulator", "stop", "--pid-file", pid_file],
            cwd=str(ROOT),
            env=env,
            capture_output=True,
            check=False,
        )
    return {
        "size": size,
        "page_cap": page_cap,
        "first": first,
        "noop": noop,
        "limit_mb": LIMIT_MB,
    }
