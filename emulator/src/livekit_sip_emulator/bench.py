"""Throughput of the emulator: N client threads on kept-alive connections calling one method.

python -m livekit_sip_emulator.bench [--threads 32] [--seconds 3] [--method ListPhoneNumbers] [--url URL]
Without --url it measures an in-process emulator (client and server then share one interpreter).

python -m livekit_sip_emulator.bench --page-time [--held 20000] [--limit 1000]
measures the emulator's own time to answer each page of a listing of --held numbers (no HTTP,
no latency): what it adds to every page a benchmark reads.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse

from .auth import make_token
from .config import EmulatorConfig
from .emulator import Emulator
from .store import Store

BODIES = {
    "ListPhoneNumbers": {"limit": 50},
    "SearchPhoneNumbers": {"country_code": "US", "area_code": "415", "limit": 50},
}


def measure(url, api_key, api_secret, threads=32, seconds=3.0, method="ListPhoneNumbers"):
    """Return {"requests": n, "errors": n, "seconds": s, "rps": r} for `threads` concurrent clients."""
    parts = urllib.parse.urlsplit(url)
    body = json.dumps(BODIES.get(method, {})).encode()
    path = "/twirp/livekit.PhoneNumberService/" + method
    headers = {
        "Authorization": "Bearer " + make_token(api_key, api_secret, ttl=3600),
        "Content-Type": "application/json",
    }
    counts = [[0, 0] for _index in range(threads)]
    start_line = threading.Barrier(threads + 1)
    stop_at = []

    def client(slot):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        start_line.wait()
        while time.monotonic() < stop_at[0]:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read()
            counts[slot][0 if response.status == 200 else 1] += 1
        connection.close()

    workers = [
        threading.Thread(target=client, args=(slot,), daemon=True) for slot in range(threads)
    ]
    for worker in workers:
        worker.start()
    stop_at.append(time.monotonic() + seconds)
    began = time.monotonic()
    start_line.wait()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - began
    done = sum(ok for ok, _failed in counts)
    return {
        "requests": done,
        "errors": sum(failed for _ok, failed in counts),
        "seconds": round(elapsed, 2),
        "rps": round(done / elapsed),
    }


def page_time(held=20000, limit=1000):
    """{"held", "limit", "pages", "median_ms", "max_ms"}: the emulator's own time per list page."""
    store = Store(EmulatorConfig(inventory_size=max(3000, 4 * held), quota=held))
    numbers = sorted(store.inventory.by_number)[::4][:held]
    for start in range(0, held, 1000):
        body = {"phone_numbers": numbers[start : start + 1000], "sip_dispatch_rule_id": "SDR_1"}
        store.execute("PurchasePhoneNumber", json.dumps(body).encode(), "")
    timings, token = [], None
    while True:
        body = {"limit": limit, "statuses": [1, 2, 4]}
        if token:
            body["page_token"] = token
        began = time.perf_counter()
        answer = store.execute("ListPhoneNumbers", json.dumps(body).encode(), "")[1]
        timings.append((time.perf_counter() - began) * 1000.0)
        token = json.loads(answer)["next_page_token"]
        if token is None:
            break
    timings.sort()
    return {
        "held": held,
        "limit": limit,
        "pages": len(timings),
        "median_ms": round(timings[len(timings) // 2], 2),
        "max_ms": round(timings[-1], 2),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m livekit_sip_emulator.bench")
    parser.add_argument(
        "--url", help="an emulator already running (http only); default: start one in-process"
    )
    parser.add_argument("--api-key", default="devkey")
    parser.add_argument("--api-secret", default="secret")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--method", default="ListPhoneNumbers", choices=sorted(BODIES))
    parser.add_argument(
        "--page-time", action="store_true", help="the emulator's own time per list page instead"
    )
    parser.add_argument("--held", type=int, default=20000, help="numbers held, with --page-time")
    parser.add_argument("--limit", type=int, default=1000, help="page size, with --page-time")
    args = parser.parse_args(argv)
    if args.page_time:
        print(json.dumps(page_time(args.held, args.limit)))
        return 0
    if args.url:
        result = measure(
            args.url, args.api_key, args.api_secret, args.threads, args.seconds, args.method
        )
    else:
        with Emulator(port=0) as emulator:
            result = measure(
                emulator.url,
                emulator.api_key,
                emulator.api_secret,
                args.threads,
                args.seconds,
                args.method,
            )
    print(json.dumps(result))
    return 0 if result["requests"] and not result["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
