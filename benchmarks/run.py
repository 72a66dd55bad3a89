"""Measure both approaches against the emulator and write the results as JSON.

    python -m benchmarks.run [--sizes 100,1000,5000,20000] [--main-size 1000] [--repeat 3] ...

Each measured step is one ``ansible-playbook`` run, timed from start to exit, with the
emulator's counters reset before it. At the main size every repetition runs steps a to d from
an empty project; at the other sizes the role runs the first run (a) and the no-op re-run (b)
once per server page cap (``--page-caps``), the loop step a only. The floor (an empty one-task
playbook, the same inventory) is measured at every size in the same run, and the module's peak
memory at the largest size. ``--check`` exits 1 when a target of benchmarks.targets is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import re
import subprocess
import sys
import time

from benchmarks import memory, scenario, startup, targets
from livekit_sip_emulator.client import AdminClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLAYBOOKS = {
    "fleet": ROOT / "benchmarks" / "playbooks" / "fleet.yml",
    "loop": ROOT / "benchmarks" / "playbooks" / "loop.yml",
    "floor": ROOT / "benchmarks" / "playbooks" / "floor.yml",
}
# The module defaults the role leaves alone, needed to state the call bounds.
FLEET_PAGE_SIZE = 1000
FLEET_BATCH_SIZE = 500
# The emulator's own credentials; they are forced so that nothing can reach a real project.
API_KEY, API_SECRET = "devkey", "secret"


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--sizes", default="100,1000,5000,20000", help="fleet sizes, comma-separated"
    )
    parser.add_argument(
        "--page-caps",
        default="1000,100",
        help="server page caps (the emulator's max_page_size) at which the role's first run and "
        "no-op re-run are measured at every size; the first one is also the main size's",
    )
    parser.add_argument(
        "--floor-runs",
        type=int,
        default=3,
        help="runs of the empty playbook per size, for the floor (0: no floor)",
    )
    parser.add_argument(
        "--memory-size",
        type=int,
        default=-1,
        help="fleet size at which the module's peak memory is measured alone (-1: the largest "
        "size, 0: not measured)",
    )
    parser.add_argument(
        "--main-size",
        type=int,
        default=1000,
        help="size at which steps a-d all run (0: step a only, at every size)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the role's runs")
    # The loop takes about 25 minutes per repetition at the default sizes, hence one by default.
    parser.add_argument("--loop-repeat", type=int, default=1, help="repetitions of the loop's runs")
    parser.add_argument(
        "--loop-max-size",
        type=int,
        default=1000,
        help="the loop is not run above this size (the plot extrapolates it)",
    )
    parser.add_argument("--approaches", default="fleet,loop", help="fleet, loop or both")
    parser.add_argument("--latency-ms", type=int, default=50, help="emulator delay per API request")
    parser.add_argument(
        "--workers", type=int, default=8, help="the role's concurrent routing updates"
    )
    parser.add_argument(
        "--rules", type=int, default=5, help="dispatch rules the numbers are spread over"
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=0.1,
        help="share of requests answered 429 in the extra rate-limited run of the role (0: no such run)",
    )
    parser.add_argument(
        "--retry-after", type=int, default=1, help="Retry-After of those answers, in seconds"
    )
    parser.add_argument(
        "--startup-runs",
        type=int,
        default=10,
        help="fresh interpreters for the start-up cost (0: skip)",
    )
    parser.add_argument(
        "--out", default=str(ROOT / ".build" / "bench" / "results.json"), help="results file (JSON)"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    args.sizes = sorted(
        {int(s) for s in args.sizes.split(",") if s.strip()} | ({args.main_size} - {0})
    )
    args.page_caps = [int(c) for c in args.page_caps.split(",") if c.strip()]
    if args.memory_size < 0:
        args.memory_size = max(args.sizes)
    args.approaches = [a for a in args.approaches.split(",") if a]
    unknown = set(args.approaches) - set(PLAYBOOKS)
    if unknown:
        parser.error("unknown approach {}".format(", ".join(sorted(unknown))))
    return args


def machine():
    """Where the figures come from: they mean little without it."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                "",
            )
    except OSError:
        pass
    ansible = subprocess.run(
        ["ansible-playbook", "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "ansible": ansible[0] if ansible else "",
        "platform": platform.platform(),
    }


def load():
    return list(os.getloadavg())


class Emulator:
    """The emulator as a background process of its own, so that its work is not the client's."""

    def __init__(self, workdir, latency_ms, inventory_size, env):
        self.pid_file = str(workdir / "emulator.pid")
        self.env = env
        command = [
            sys.executable,
            "-m",
            "livekit_sip_emulator",
            "start",
            "--pid-file",
            self.pid_file,
            "--port",
            "0",
            "--latency-ms",
            str(latency_ms),
            "--inventory-size",
            str(inventory_size),
            "--quota",
            "1000000",
        ]
        started = subprocess.run(
            command, cwd=str(ROOT), env=env, capture_output=True, text=True, check=False
        )
        if started.returncode:
            raise SystemExit(f"the emulator did not start:\n{started.stdout}{started.stderr}")
        self.url = re.search(r"^LIVEKIT_URL=(\S+)$", started.stdout, re.M).group(1)
        self.admin = AdminClient(self.url)

    def stop(self):
        subprocess.run(
            [sys.executable, "-m", "livekit_sip_emulator", "stop", "--pid-file", self.pid_file],
            cwd=str(ROOT),
            env=self.env,
            capture_output=True,
            check=False,
        )


def fault_plan(latency_ms, faults=None):
    """The emulator's fault plan for a step: the benchmark's latency, and the step's faults."""
    plan = {"latency_ms": latency_ms}
    plan.update(faults or {})
    return plan


class Bench:
    def __init__(self, args, workdir, env):
        self.args = args
        self.workdir = workdir
        self.env = env
        self.steps = []
        self.floors = []
        self.emulator = None

    def settings(self):
        return {
            "latency_ms": self.args.latency_ms,
            "workers": self.args.workers,
            "rules": self.args.rules,
            "page_size": FLEET_PAGE_SIZE,
            "batch_size": FLEET_BATCH_SIZE,
            "page_caps": self.args.page_caps,
            "loop_page_size": 1000,
            "pipelining": True,
            "entries_in": "group_vars (JSON)",
        }

    def playbook(self, approach, size, step, label, entries=True):
        """One timed ansible-playbook run; returns (seconds, exit status, log file)."""
        desired = scenario.desired(step, self.numbers[size], self.args.rules) if entries else None
        inventory = scenario.write_inventory(
            self.workdir / ("inventory-%d-%s" % (size, step if entries else "bare")),
            size,
            self.args.workers,
            desired,
        )
        log = self.workdir / "logs" / ("%s-%d-%s-%s.log" % (approach, size, label, step))
        log.parent.mkdir(parents=True, exist_ok=True)
        command = ["ansible-playbook", "-i", str(inventory), str(PLAYBOOKS[approach])]
        with open(log, "w", encoding="utf-8") as output:
            began = time.monotonic()
            rc = subprocess.run(
                command,
                cwd=str(ROOT),
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
            ).returncode
            seconds = time.monotonic() - began
        return seconds, rc, log

    def floor(self, size):
        """The empty one-task playbook: bare, and with the same inventory as the role's runs."""
        record = {"size": size, "load1": load()[0]}
        for kind, entries in (("bare", False), ("inventory", True)):
            runs = []
            for rep in range(self.args.floor_runs):
                seconds, rc, log = self.playbook("floor", size, "b", "%s%d" % (kind, rep), entries)
                if rc:
                    raise SystemExit(f"the floor's playbook failed; see {log}")
                runs.append(round(seconds, 3))
            record[kind] = runs
        self.floors.append(record)
        print(
            "floor %5d bare %s s, with the inventory %s s"
            % (size, record["bare"], record["inventory"]),
            flush=True,
        )
        self.save()

    def measure(self, approach, size, steps, rep, variant="clean", faults=None, page_cap=None):
        page_cap = page_cap or self.args.page_caps[0]
        self.emulator.admin.reset(max_page_size=page_cap)
        # A reset clears the fault plan, the start-up latency with it: every step needs it back.
        self.emulator.admin.set_faults(**fault_plan(self.args.latency_ms, faults))
        for step in steps:
            self.emulator.admin.reset_counters()
            before = load()[0]
            seconds, rc, log = self.playbook(approach, size, step, "%s%d" % (variant, rep))
            counters = self.emulator.admin.counters()
            record = {
                "approach": approach,
                "size": size,
                "step": step,
                "rep": rep,
                "variant": variant,
                "page_cap": page_cap,
                "seconds": round(seconds, 3),
                "rc": rc,
                "calls": counters["calls"],
                "writes": counters["writes"],
                "load1": before,
                "faults": {k: v for k, v in counters["faults"].items() if v} if faults else {},
            }
            self.steps.append(record)
            print(
                "%-5s %5d %s rep %d %-7s pages of %4d %8.2f s  rc %d  calls %d  load %.1f"
                % (
                    approach,
                    size,
                    step,
                    rep,
                    variant,
                    page_cap,
                    seconds,
                    rc,
                    targets.total_calls(record),
                    before,
                ),
                flush=True,
            )
            self.save()
            if rc:
                print(f"  failed; see {log}", flush=True)
                return

    def save(self):
        out = pathlib.Path(self.args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        self.result["steps"] = self.steps
        self.result["floors"] = self.floors
        self.result["load_end"] = load()
        out.write_text(json.dumps(self.result, indent=1) + "\n", encoding="utf-8")

    def run(self, argv):
        args = self.args
        self.result = {
            "command": "python -m benchmarks.run " + " ".join(argv),
            "machine": machine(),
            "load_start": load(),
            "settings": self.settings(),
            "startup": None,
            "memory": None,
        }
        pool = scenario.inventory_size(max(args.sizes))
        self.numbers = {size: scenario.pick_numbers(size, pool_size=pool) for size in args.sizes}
        self.emulator = Emulator(self.workdir, args.latency_ms, pool, self.env)
        self.env["LIVEKIT_URL"] = self.emulator.url
        try:
            for size in args.sizes:
                if args.floor_runs:
                    self.floor(size)
                for approach in args.approaches:
                    if approach == "loop" and size > args.loop_max_size:
                        continue
                    reps = args.repeat if approach == "fleet" else args.loop_repeat
                    for rep in range(reps):
                        for position, cap in enumerate(args.page_caps):
                            if size == args.main_size and position == 0:
                                steps = scenario.STEPS
                            elif approach == "fleet":
                                steps = ("a", "b")
                            elif position == 0:
                                steps = ("a",)
                            else:
                                continue  # the loop runs at the first page cap only
                            self.measure(approach, size, steps, rep, page_cap=cap)
            if args.rate_limit > 0 and args.main_size and "fleet" in args.approaches:
                faults = {
                    "rate": args.rate_limit,
                    "kinds": ["rate_limited"],
                    "retry_after": args.retry_after,
                    "seed": 1,
                }
                self.measure("fleet", args.main_size, scenario.STEPS, 0, "rate_limited", faults)
        finally:
            self.emulator.stop()
        if args.startup_runs:
            self.result["startup"] = startup.measure(args.startup_runs, self.env)
        if args.memory_size and "fleet" in args.approaches:
            self.result["memory"] = memory.measure(
                args.memory_size, args.page_caps[0], args.latency_ms, self.workdir, self.env
            )
            print("memory: %s" % self.result["memory"], flush=True)
        self.save()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    env = dict(
        os.environ,
        LIVEKIT_API_KEY=API_KEY,
        LIVEKIT_API_SECRET=API_SECRET,
        ANSIBLE_NOCOLOR="1",
        # The recommended setting, for both approaches: modules are piped, not copied to a file.
        ANSIBLE_PIPELINING="1",
    )
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
    # Next to the results, so that the logs of a failed step can be read afterwards.
    workdir = pathlib.Path(args.out).with_suffix(".work")
    workdir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, workdir, env)
    bench.run(argv)
    print(f"results: {args.out}")
    if args.check:
        failed = targets.failures(
            bench.steps, bench.settings(), bench.floors, bench.result.get("memory")
        )
        for line in failed:
            print(f"target missed: {line}", file=sys.stderr)
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
