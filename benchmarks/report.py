"""Turn results files of benchmarks.run into a Markdown report and a plot.

    python -m benchmarks.report RESULTS.json [MORE.json ...] [--markdown FILE] [--plot FILE.png]

Several files may be given (for example the loop measured in one run, the role in another);
their steps are pooled and the medians taken over all repetitions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys

from benchmarks import scenario, targets


def load(paths):
    results = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            results.append(json.load(handle))
    steps = [step for result in results for step in result["steps"]]
    return results, steps


# Results written before page caps were measured ran at the emulator's default cap of 1,000.
DEFAULT_CAP = 1000


def group(steps, approach, size, step, variant="clean", cap=DEFAULT_CAP):
    return [
        s
        for s in steps
        if (s["approach"], s["size"], s["step"], s["variant"]) == (approach, size, step, variant)
        and s.get("page_cap", DEFAULT_CAP) == cap
        and s["rc"] == 0
    ]


def median(runs, key="seconds"):
    return statistics.median(r[key] for r in runs) if runs else None


def calls_text(runs):
    """Median API calls, with the methods of the first run."""
    if not runs:
        return "-"
    total = statistics.median(targets.total_calls(r) for r in runs)
    methods = ", ".join(
        "%s %d" % (m.replace("PhoneNumbers", "").replace("PhoneNumber", ""), n)
        for m, n in sorted(runs[0]["calls"].items())
        if n
    )
    return "{:g} ({})".format(total, methods or "none")


def seconds_text(runs):
    if not runs:
        return "not run"
    return "%.2f s (%d run%s)" % (median(runs), len(runs), "" if len(runs) == 1 else "s")


def loop_fit(steps):
    """Seconds per number of the loop's step a (least squares through the origin), or None."""
    points = [
        (s["size"], s["seconds"])
        for s in steps
        if s["approach"] == "loop" and s["step"] == "a" and s["rc"] == 0
    ]
    if not points:
        return None
    return sum(n * t for n, t in points) / float(sum(n * n for n, t in points))


def main_table(steps, size):
    lines = [
        "| Step | Role (median) | Loop (median) | Ratio | Role: API calls | Loop: API calls |",
        "|---|---|---|---|---|---|",
    ]
    for step in scenario.STEPS:
        fleet, loop = group(steps, "fleet", size, step), group(steps, "loop", size, step)
        ratio = "%.0fx" % (median(loop) / median(fleet)) if fleet and loop else "-"
        lines.append(
            f"| ({step}) {scenario.STEP_NAMES[step]} | {seconds_text(fleet)} | {seconds_text(loop)} | {ratio} | {calls_text(fleet)} | {calls_text(loop)} |"
        )
    return lines


def size_table(steps, sizes):
    fit = loop_fit(steps)
    lines = ["| Numbers | Role, step (a) | Loop, step (a) | Ratio |", "|---|---|---|---|"]
    for size in sizes:
        fleet, loop = group(steps, "fleet", size, "a"), group(steps, "loop", size, "a")
        if loop:
            loop_text, loop_s = seconds_text(loop), median(loop)
        elif fit:
            loop_s = fit * size
            loop_text = f"about {loop_s:.0f} s (extrapolated)"
        else:
            loop_text, loop_s = "not run", None
        ratio = "%.0fx" % (loop_s / median(fleet)) if fleet and loop_s else "-"
        lines.append("| %d | %s | %s | %s |" % (size, seconds_text(fleet), loop_text, ratio))
    return lines


def target_lines(steps, settings, size):
    lines = []
    for step in scenario.STEPS:
        runs = group(steps, "fleet", size, step)
        for target, ok, detail in targets.check_step(runs[0], settings) if runs else []:
            if target.startswith("under"):
                # The time target is judged on the median, not on the first run.
                ok, detail = (
                    median(runs) < targets.TIME_LIMITS[step],
                    f"median {median(runs):.2f} s",
                )
            lines.append(
                "| ({}) | {} | {} | {} |".format(
                    step, target, detail, "met" if ok else "**missed**"
                )
            )
    fleet, loop = group(steps, "fleet", size, "a"), group(steps, "loop", size, "a")
    if fleet and loop and size == targets.TIMED_SIZE:
        target, ok, detail = targets.check_ratio(median(fleet), median(loop))
        lines.append("| (a) | {} | {} | {} |".format(target, detail, "met" if ok else "**missed**"))
    return ["| Step | Target | Measured | |", "|---|---|---|---|"] + lines


def caps_of(steps):
    return sorted({s.get("page_cap", DEFAULT_CAP) for s in steps if s["approach"] == "fleet"})[::-1]


def floor_text(floor, calls, settings):
    if floor is None:
        return "-", None
    seconds = targets.floor_seconds(floor, calls, settings)
    return "%.2f s (%d calls)" % (seconds, calls), seconds


def scale_table(steps, settings, floors):
    """The role's first run and no-op re-run at every size and page cap, against their floors."""
    by_size = {floor["size"]: floor for floor in floors}
    lines = [
        "| Numbers | Pages of | First run (a) | Its floor | Ratio | No-op re-run (b) | Its floor "
        "| Ratio | Calls (a) | Calls (b) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    sizes = sorted({s["size"] for s in steps if s["approach"] == "fleet"})
    for size in sizes:
        for cap in caps_of(steps):
            a, b = (
                group(steps, "fleet", size, "a", cap=cap),
                group(steps, "fleet", size, "b", cap=cap),
            )
            if not a and not b:
                continue
            page = min(cap, settings["page_size"])
            cells = [f"{size:,}", f"{cap:,}"]
            for name, runs in (("a", a), ("b", b)):
                text, floor = floor_text(
                    by_size.get(size), targets.floor_calls(name, size, settings, page), settings
                )
                ratio = "%.2fx" % (median(runs) / floor) if runs and floor else "-"
                cells += [seconds_text(runs), text, ratio]
            cells += [calls_text(a), calls_text(b)]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def floor_lines(floors):
    lines = [
        "| Numbers | Empty playbook, bare | The same, with the fleet in the inventory |",
        "|---|---|---|",
    ]
    for floor in sorted(floors, key=lambda f: f["size"]):
        lines.append(
            "| {:,} | {:.2f} s (median of {}) | {:.2f} s |".format(
                floor["size"],
                statistics.median(floor["bare"]),
                len(floor["bare"]),
                statistics.median(floor["inventory"]),
            )
        )
    return lines


def memory_lines(memory):
    if not memory:
        return ["Not measured in these results."]
    lines = [
        "| Run of phone_number_fleet alone, %s numbers | Peak RSS | Before the run | Time | Result |"
        % "{:,}".format(memory["size"]),
        "|---|---|---|---|---|",
    ]
    for run, name in targets.MEMORY_RUNS.items():
        if run not in memory:
            continue
        item = memory[run]
        lines.append(
            "| %s | %s MB | %s | %.2f s | %s bytes%s |"
            % (
                name,
                item["peak_rss_mb"],
                "%s MB" % item["base_rss_mb"] if "base_rss_mb" in item else "-",
                item["seconds"],
                "{:,}".format(item["result_bytes"]),
                " (failed: %s)" % item["msg"] if item["failed"] else "",
            )
        )
    return lines


def scale_target_lines(steps, settings, floors, memory):
    checks = targets.scale_checks(steps, settings, floors, memory)
    if not checks:
        return ["No run at %s numbers or more in these results." % f"{targets.SCALE_SIZE:,}"]
    lines = ["| Target | Measured | |", "|---|---|---|"]
    for target, ok, detail in checks:
        lines.append("| %s | %s | %s |" % (target, detail, "met" if ok else "**missed**"))
    return lines


def rate_limited_lines(steps, size):
    runs = [s for s in steps if s["variant"] == "rate_limited"]
    if not runs:
        return ["No rate-limited run in these results."]
    lines = [
        "| Step | Wall time | Exit status | 429 answers | API calls |",
        "|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            "| (%s) %s | %.2f s | %d | %d | %d |"
            % (
                run["step"],
                scenario.STEP_NAMES[run["step"]],
                run["seconds"],
                run["rc"],
                run["faults"].get("rate_limited", 0),
                targets.total_calls(run),
            )
        )
    return lines


def markdown(results, steps):
    first = results[0]
    sizes = sorted({s["size"] for s in steps})
    size = max({s["size"] for s in steps if s["step"] == "d"} or sizes)
    if "page_caps" not in first["settings"]:
        first["settings"]["page_caps"] = [DEFAULT_CAP]
    settings = first["settings"]
    startup = next((r["startup"] for r in results if r.get("startup")), None)
    memory = next((r["memory"] for r in results if r.get("memory")), None)
    floors = [floor for r in results for floor in r.get("floors", ())]
    out = [
        "# Benchmark results",
        "",
        "Commands: " + "; ".join("`{}`".format(r["command"]) for r in results),
        "",
        "Machine: {cpus} CPUs, {cpu_model}; Python {python}; {ansible}".format(**first["machine"]),
        "Load average (1 min) when the runs started: "
        + ", ".join("{:.2f}".format(r["load_start"][0]) for r in results),
        "Emulator latency %(latency_ms)d ms per request; role workers %(workers)d." % settings,
    ]
    out += ["", "## %d numbers" % size, ""] + main_table(steps, size)
    out += ["", "## Targets", ""] + target_lines(steps, settings, size)
    out += ["", "## Fleet size", ""] + size_table(steps, sizes)
    if floors:
        out += ["", "## Large fleets, against the floor", ""] + scale_table(steps, settings, floors)
        out += ["", "### The floor", ""] + floor_lines(floors)
        out += ["", "### Targets", ""] + scale_target_lines(steps, settings, floors, memory)
    out += ["", "## Memory", ""] + memory_lines(memory)
    out += ["", "## Rate limited", ""] + rate_limited_lines(steps, size)
    out += ["", "## Start-up cost", ""]
    if startup:
        out.append(
            "phone_number_fleet's imports and first token: median %.1f ms (max %.1f ms) over %d fresh "
            "interpreters; the interpreter alone: %.1f ms. Limit: %g ms."
            % (
                startup["imports_and_token_ms"],
                startup["imports_and_token_max_ms"],
                startup["runs"],
                startup["interpreter_ms"],
                startup["limit_ms"],
            )
        )
    else:
        out.append("Not measured in these results.")
    return "\n".join(out) + "\n"


def plot(steps, path, floors=(), settings=None):
    import matplotlib

    matplotlib.use("Agg")  # no display on CI machines
    import matplotlib.pyplot as plt

    sizes = sorted({s["size"] for s in steps if s["step"] == "a"})
    figure, axes = plt.subplots(figsize=(7.5, 5), dpi=110)
    caps = caps_of(steps)
    for position, cap in enumerate(caps):
        for name, label, marker in (("a", "first run", "o"), ("b", "no-op re-run", "^")):
            points = [
                (n, median(group(steps, "fleet", n, name, cap=cap)))
                for n in sizes
                if group(steps, "fleet", n, name, cap=cap)
            ]
            if points and (name == "a" or len(points) > 1 or position == 0):
                axes.plot(
                    *zip(*points),
                    marker=marker,
                    linestyle="-" if position == 0 else ":",
                    color="C0" if name == "a" else "C2",
                    label="role, %s, pages of %d" % (label, cap),
                )
    if floors and settings:
        page = min(caps[0], settings["page_size"]) if caps else settings["page_size"]
        points = [
            (
                f["size"],
                targets.floor_seconds(
                    f, targets.floor_calls("b", f["size"], settings, page), settings
                ),
            )
            for f in sorted(floors, key=lambda f: f["size"])
        ]
        axes.plot(
            *zip(*points),
            color="0.5",
            linestyle="--",
            label="floor of the no-op: empty playbook + pages x latency",
        )
    loop = [
        (n, median(group(steps, "loop", n, "a"))) for n in sizes if group(steps, "loop", n, "a")
    ]
    if loop:
        axes.plot(*zip(*loop), marker="s", color="C1", label="loop of phone_number, first run")
    fit = loop_fit(steps)
    unmeasured = [n for n in sizes if n not in dict(loop)]
    if fit and loop and unmeasured:
        line = [loop[-1]] + [(n, fit * n) for n in unmeasured if n > loop[-1][0]]
        axes.plot(
            *zip(*line),
            linestyle="--",
            marker="s",
            markerfacecolor="none",
            color="C1",
            label=f"loop, extrapolated ({fit:.2f} s per number)",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("numbers in the fleet")
    axes.set_ylabel("ansible-playbook wall time (s)")
    axes.set_xticks(sizes)
    axes.set_xticklabels([f"{n:,}" for n in sizes])
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize="small")
    axes.set_title(
        "Time against fleet size (emulator at %d ms per request)"
        % (settings or {}).get("latency_ms", 50)
    )
    figure.tight_layout()
    figure.savefig(path)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.report", description=__doc__.splitlines()[0]
    )
    parser.add_argument("results", nargs="+")
    parser.add_argument("--markdown", help="write the report here (default: standard output)")
    parser.add_argument("--plot", help="write the PNG plot here")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the report shows a missed target"
    )
    args = parser.parse_args(argv)
    results, steps = load(args.results)
    text = markdown(results, steps)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    if args.plot:
        floors = [floor for r in results for floor in r.get("floors", ())]
        plot(steps, args.plot, floors, results[0]["settings"])
    if args.check and "**missed**" in text:
        print("a target was missed; see the report's Targets table", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
