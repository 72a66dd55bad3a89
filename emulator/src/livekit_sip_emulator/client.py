"""A client of the introspection API, standard library only."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request


class AdminError(Exception):
    def __init__(self, status, payload):
        super().__init__(f"emulator admin API answered {status}: {payload}")
        self.status = status
        self.payload = payload


class AdminClient:
    def __init__(self, url, timeout=10.0, ssl_context=None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        handlers = [
            urllib.request.ProxyHandler({})
        ]  # a local emulator is never behind the environment's proxy
        if ssl_context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
        self.opener = urllib.request.build_opener(*handlers)

    def _call(self, verb, route, payload=None):
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.url + "/_emulator/" + route,
            data=data,
            method=verb,
            headers={"Content-Type": "application/json"},
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as err:
            body = err.read()
            try:
                detail = json.loads(body)
            except ValueError:
                detail = body.decode("utf-8", "replace")
            raise AdminError(err.code, detail) from err

    def health(self):
        return self._call("GET", "health")

    def wait_ready(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.health()
            except (OSError, AdminError):
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def reset(self, **overrides):
        return self._call("POST", "reset", overrides)

    def dump(self):
        return self._call("GET", "state")

    def load(self, state=None, path=None):
        if (state is None) == (path is None):
            raise ValueError("give either state or path")
        return self._call("POST", "state", state if path is None else {"path": str(path)})

    def counters(self):
        return self._call("GET", "counters")

    def reset_counters(self):
        return self._call("POST", "counters/reset", {})

    def faults(self):
        return self._call("GET", "faults")

    def set_faults(self, **settings):
        return self._call("POST", "faults", settings)

    def clear_faults(self):
        return self._call("POST", "faults", {})

    def config(self):
        return self._call("GET", "config")

    def configure(self, **settings):
        return self._call("POST", "config", settings)
