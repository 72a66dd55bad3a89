"""Throughput of the emulator: N client threads on kept-alive connections calling one method.

python -m livekit_sip_emulator.bench [--threads 32] [--seconds 3] [--method ListPhoneNumbers] [--url URL]
Without --url it measures an in-process emulator (client and server then share one interpreter).
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
from .emulator import Emulator

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
    args = parser.parse_args(argv)
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
