"""Injected faults: latency, a seeded rate of failures, and scripted sequences per method."""

from __future__ import annotations

import collections
import random
import threading

from .config import ALL_METHODS, FAULT_KINDS, check_fault_settings

OK = "ok"


class FaultInjector:
    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        self.configure()

    def configure(
        self,
        rate=0.0,
        seed=0,
        kinds=FAULT_KINDS,
        methods=(),
        latency_ms=0.0,
        retry_after=1.0,
        script=None,
    ):
        """Replace the whole fault plan; values left out take their defaults (no faults)."""
        rate, kinds, methods, latency_ms, retry_after = check_fault_settings(
            rate, kinds, methods, latency_ms, retry_after
        )
        queues = {}
        for method, steps in (script or {}).items():
            if method not in ALL_METHODS:
                raise ValueError(f"script: unknown method {method!r}")
            if not isinstance(steps, list):
                raise ValueError(f"script: {method} must map to a list of steps")
            for step in steps:
                if step != OK and step not in FAULT_KINDS:
                    raise ValueError(
                        "script: unknown step {!r} (use {} or ok)".format(
                            step, ", ".join(FAULT_KINDS)
                        )
                    )
            queues[method] = collections.deque(steps)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError("seed must be an integer")
        with self.lock:
            self.rate = rate
            self.seed = seed
            self.kinds = kinds
            self.methods = methods
            self.latency_ms = latency_ms
            self.retry_after = retry_after
            self.script = queues
            self.rng = random.Random(seed)

    def decide(self, method):
        """The fault for this call, or None; the scripted steps come first, then the rate."""
        with self.lock:
            queue = self.script.get(method)
            if queue:
                step = queue.popleft()
                return None if step == OK else step
            if self.rate <= 0 or (self.methods and method not in self.methods):
                return None
            # One draw per call in scope, so a seed gives the same faults for the same sequence of calls.
            if self.rng.random() < self.rate:
                return self.kinds[self.rng.randrange(len(self.kinds))]
            return None

    def describe(self):
        with self.lock:
            return {
                "rate": self.rate,
                "seed": self.seed,
                "kinds": list(self.kinds),
                "methods": list(self.methods),
                "latency_ms": self.latency_ms,
                "retry_after": self.retry_after,
                "script": {method: list(queue) for method, queue in self.script.items() if queue},
            }
