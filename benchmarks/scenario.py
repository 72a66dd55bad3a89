"""The four steps of a run, as desired states, and the inventory that applies them.

A run provisions N explicit numbers over RULES dispatch rules into an empty project (a), applies
the same state again (b), moves a fifth of them to another rule (c), then releases half (d).
Both approaches get exactly these states; only the playbook differs.
"""

from __future__ import annotations

import json
import math
import pathlib

from livekit_sip_emulator.inventory import inventory

STEPS = ("a", "b", "c", "d")
STEP_NAMES = {
    "a": "provision into an empty project",
    "b": "same state again",
    "c": "re-route a fifth",
    "d": "release half",
}
MOVED_RULE = "SDR_bench_moved"


def inventory_size(max_size):
    """Room for the largest fleet, with other numbers in between (the emulator builds 20,000 in ~30 ms)."""
    return max(3000, 4 * max_size)


def pick_numbers(size, seed=0, pool_size=None):
    """``size`` numbers spread evenly over the emulator's inventory (every country and area)."""
    pool = sorted(inventory(pool_size or inventory_size(size), seed).by_number)
    step = len(pool) // size
    return pool[::step][:size]


def rules(count):
    return ["SDR_bench_%d" % index for index in range(count)]


def moved(size):
    return size // 5


def released(size):
    return size // 2


def desired(step, numbers, rule_count):
    """The entries of ``step`` (a list of phone_number_fleet entries)."""
    names = rules(rule_count)
    entries = [
        {"phone_number": n, "sip_dispatch_rule_id": names[i % rule_count]}
        for i, n in enumerate(numbers)
    ]
    if step in ("c", "d"):
        for entry in entries[: moved(len(numbers))]:
            entry["sip_dispatch_rule_id"] = MOVED_RULE
    if step == "d":
        # The released half is the end of the list, so the re-routed numbers stay held.
        for entry in entries[len(numbers) - released(len(numbers)) :]:
            entry.pop("sip_dispatch_rule_id")
            entry["state"] = "absent"
    return entries


def expected_writes(step, size):
    """What the emulator's write counters must show after ``step``, for either approach."""
    return {
        "a": {"purchased": size, "routed": 0, "released": 0},
        "b": {"purchased": 0, "routed": 0, "released": 0},
        "c": {"purchased": 0, "routed": moved(size), "released": 0},
        "d": {"purchased": 0, "routed": 0, "released": released(size)},
    }[step]


def held_before(step, size):
    return 0 if step == "a" else size


def batches(count, batch_size):
    return int(math.ceil(count / float(batch_size))) if count else 0


def write_inventory(directory, size, workers, entries=None):
    """An inventory for the controller alone; the spend guard is raised deliberately to the fleet's size.

    The desired state (``entries``, a list) goes into the group's variables as JSON, the way an
    inventory holds a fleet: Ansible loads a JSON file there at a fraction of the cost of the same
    data given as extra vars (``-e @file``), which it parses twice and copies. Without
    ``entries`` the inventory has no desired state at all (the floor's bare playbook).
    """
    directory = pathlib.Path(directory)
    group = directory / "group_vars" / "livekit_projects"
    group.mkdir(parents=True, exist_ok=True)
    # The interpreter is the controller's own: discovery could pick another python3 on the machine.
    (directory / "hosts.yml").write_text(
        "livekit_projects:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n',
        encoding="utf-8",
    )
    (group / "settings.yml").write_text(
        "livekit_phone_numbers_max_purchase: %d\nlivekit_phone_numbers_workers: %d\n"
        % (size, workers),
        encoding="utf-8",
    )
    state = group / "entries.json"
    if entries is None:
        if state.exists():
            state.unlink()
    else:
        state.write_text(json.dumps({"livekit_phone_numbers": entries}), encoding="utf-8")
    return directory


def write_state(path, entries):
    """Extra vars for ``ansible-playbook -e @path``."""
    path = pathlib.Path(path)
    path.write_text(json.dumps({"livekit_phone_numbers": entries}), encoding="utf-8")
    return path
