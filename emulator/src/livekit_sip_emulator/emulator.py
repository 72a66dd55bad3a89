"""The emulator as an object: start it in a thread of the current process, stop it, use it as a context manager."""

from __future__ import annotations

import json
import ssl
import threading
import time

from .auth import Authenticator, make_token
from .client import AdminClient
from .config import EmulatorConfig
from .faults import FaultInjector
from .server import EmulatorHTTPServer
from .store import Store


class Emulator:
    def __init__(self, config=None, **settings):
        self.config = (
            EmulatorConfig(**settings)
            if config is None
            else config.with_settings(settings, tuple(settings))
        )
        self.store = Store(self.config)
        self.faults = FaultInjector()
        self.faults.configure(
            rate=self.config.fault_rate,
            seed=self.config.fault_seed,
            kinds=self.config.fault_kinds,
            methods=self.config.fault_methods,
            latency_ms=self.config.latency_ms,
            retry_after=self.config.retry_after,
        )
        self.auth = Authenticator(
            self.config.keys(), clock=lambda: time.time() + self.store.config.clock_offset
        )
        if self.config.state_file:
            with open(self.config.state_file, encoding="utf-8") as handle:
                self.store.load(json.load(handle))
        self.server = None
        self.thread = None

    @property
    def api_key(self):
        return self.config.api_key

    @property
    def api_secret(self):
        return self.config.api_secret

    @property
    def port(self):
        return self.server.server_address[1] if self.server else self.config.port

    @property
    def url(self):
        host = self.config.host
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return "%s://%s:%d" % ("https" if self.config.tls else "http", host, self.port)

    @property
    def admin(self):
        context = None
        if self.config.tls:
            context = ssl.create_default_context(cafile=self.config.tls_cert)
            context.check_hostname = False
        return AdminClient(self.url, ssl_context=context)

    def token(self, ttl=600, sip_admin=True, **claims):
        return make_token(self.api_key, self.api_secret, ttl=ttl, sip_admin=sip_admin, **claims)

    def connections_total(self):
        return self.server.connections_total if self.server else 0

    def start(self):
        if self.server is not None:
            return self
        context = None
        if self.config.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.config.tls_cert, self.config.tls_key)
        self.server = EmulatorHTTPServer((self.config.host, self.config.port), self, context)
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="livekit-emulator",
            daemon=True,
        )
        self.thread.start()
        return self

    def stop(self):
        server, self.server = self.server, None
        if server is None:
            return
        # Keep the bound port visible in url/port after stopping, for messages.
        self.config = self.config.with_settings({"port": server.server_address[1]}, ("port",))
        server.shutdown()
        server.close_connections()
        server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
