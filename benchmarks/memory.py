"""Peak memory and time of ``phone_number_fleet`` alone: one fresh process per run.

As a module: it reads its arguments from a file (as AnsiballZ hands them over), talks to an
emulator of its own, and reports the peak resident set size of its process at exit. In the
worker: the action plugin's way (ControllerModule, the entries handed over as Python data);
the process reports its resident set size once everything is imported and its peak at exit,
the difference being what the module's work adds to a worker. Two runs each way at ``size``
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
from livekit_sip_emulator.client import AdminClient

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
PROBE_WORKER = """
import atexit, json, resource, sys
from ansible_collections.livekit.sip.plugins.modules import phone_number_fleet
from ansible_collections.livekit.sip.plugins.plugin_utils._controller_module import run_in_worker
with open(sys.argv[1]) as handle:
    args = json.load(handle)["ANSIBLE_MODULE_ARGS"]
sys.stderr.write("base_kb=%d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
result = run_in_worker(phone_number_fleet, "livekit.sip.phone_number_fleet", args, False, False)
sys.stderr.write("maxrss_kb=%d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
print(json.dumps(result))
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


def _run(args_file, env, probe=PROBE):
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", probe, str(args_file)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - began
    peak = re.search(r"maxrss_kb=(\d+)", done.stderr)
    base = re.search(r"base_kb=(\d+)", done.stderr)
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = {"failed": True, "msg": done.stdout[-500:] + done.stderr[-500:]}
    measured = {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(int(peak.group(1)) / 1024.0, 1) if peak else None,
        "result_bytes": len(done.stdout),
        "changed": result.get("changed"),
        "failed": bool(result.get("failed")) or done.returncode != 0,
        "msg": result.get("msg", ""),
    }
    if base:
        measured["base_rss_mb"] = round(int(base.group(1)) / 1024.0, 1)
    return measured


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
        # The same two runs the worker's way, from an empty project again.
        admin = AdminClient(url)
        admin.reset()
        # A reset clears the fault plan, the start-up latency with it.
        admin.set_faults(latency_ms=latency_ms)
        worker_first = _run(args_file, env, PROBE_WORKER)
        worker_noop = _run(args_file, env, PROBE_WORKER)
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
        "worker_first": worker_first,
        "worker_noop": worker_noop,
        "limit_mb": LIMIT_MB,
    }
