"""HTTP/1.1 front end: Twirp routing, faults, auth, and the introspection routes."""

from __future__ import annotations

import http.server
import logging
import math
import socket
import ssl
import threading
import time

from . import admin
from .config import ADMIN_PREFIX, API_PREFIX, METHODS, SIP_METHODS, SIP_PREFIX
from .quirks import WRITE_METHODS
from .wire import TwirpError

LOG = logging.getLogger("livekit_sip_emulator")
# Large enough for an inline state of a 100,000-number project.
MAX_BODY = 128 * 1024 * 1024


def _method(path):
    """The method a Twirp path names on one of the two services, or None."""
    for prefix, methods in ((API_PREFIX, METHODS), (SIP_PREFIX, SIP_METHODS)):
        if path.startswith(prefix) and path[len(prefix) :] in methods:
            return path[len(prefix) :]
    return None


class _Dropped(Exception):
    """The connection is to be closed without an answer."""


class EmulatorHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, emulator, ssl_context=None):
        self.emulator = emulator
        self.connections = set()
        self.connections_lock = threading.Lock()
        self.connections_total = 0
        super().__init__(address, Handler)
        if ssl_context is not None:
            # The handshake happens in the connection's own thread, so a slow client cannot stall accept().
            self.socket = ssl_context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def process_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
            self.connections_total += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        """Unblock threads still waiting on kept-alive connections after the server stopped."""
        with self.connections_lock:
            open_connections = list(self.connections)
        for connection in open_connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        LOG.debug("connection from %s ended with an error", client_address, exc_info=True)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "livekit-sip-emulator"
    sys_version = ""
    # Headers and body go out in separate writes; without this, Nagle plus delayed ACK costs 40 ms a call.
    disable_nagle_algorithm = True
    timeout = 300

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.settimeout(10)
            self.connection.do_handshake()
            self.connection.settimeout(self.timeout)

    def date_time_string(self, timestamp=None):
        # The Date header follows the emulator's clock, which clock_offset may set apart.
        if timestamp is None:
            timestamp = time.time() + self.server.emulator.store.config.clock_offset
        return super().date_time_string(timestamp)

    def log_request(self, code="-", size="-"):
        # One line per call is written by _dispatch, with the outcome and the time taken.
        pass

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        if self.server.emulator.config.log_requests:
            LOG.info("%s %s", self.address_string(), format % args)

    # Every verb lands in one dispatcher: Twirp answers bad_route, not 501, for the ones it does not serve.
    def do_POST(self):
        self._dispatch()

    do_GET = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_POST

    def _dispatch(self):
        started = time.monotonic()
        self.answered = "-"
        try:
            body = self._read_body()
        except _Dropped:
            return
        # The request line as sent: http.server collapses a leading "//", which the real service would not serve.
        target = self.requestline.split(" ")[1] if self.requestline.count(" ") >= 2 else self.path
        path = target.split("?", 1)[0]
        try:
            if path.startswith(ADMIN_PREFIX) or path == ADMIN_PREFIX.rstrip("/"):
                status, payload = admin.handle(self.server.emulator, self.command, path, body)
                self._send(status, payload)
            else:
                self._api(path, body)
        except _Dropped:
            self.close_connection = True
        if self.server.emulator.config.log_requests:
            LOG.info(
                "%s %s %s %s %.1f ms",
                self.address_string(),
                self.command,
                path,
                self.answered,
                (time.monotonic() - started) * 1000,
            )

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = self._read_chunks()
            if body is not None:
                return body
        else:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if 0 <= length <= MAX_BODY:
                return self.rfile.read(length) if length else b""
        self._send_error(
            TwirpError(
                "malformed",
                "request body missing a valid length or larger than %d bytes" % MAX_BODY,
            )
        )
        self.close_connection = True
        raise _Dropped()

    def _read_chunks(self):
        chunks, total = [], 0
        while total <= MAX_BODY:
            try:
                size = int(self.rfile.readline(100).split(b";")[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                while self.rfile.readline(1000).strip():
                    pass  # trailers carry nothing the emulator needs
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            total += size
            self.rfile.readline(10)
        return None

    def _api(self, path, body):
        emulator = self.server.emulator
        method = _method(path)
        if method is not None:
            emulator.store.count_call(method)
        route = {"twirp_invalid_route": f"{self.command} {path}"}
        if self.command != "POST":
            return self._send_error(
                TwirpError(
                    "bad_route",
                    f'unsupported method "{self.command}" (only POST is allowed)',
                    route,
                )
            )
        if method is None:
            return self._send_error(TwirpError("bad_route", f'no handler for path "{path}"', route))
        content_type = self.headers.get("Content-Type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            return self._send_error(
                TwirpError(
                    "bad_route",
                    f'unexpected Content-Type: "{content_type}" (the emulator speaks JSON only)',
                    route,
                )
            )
        fault = self._fault(method)
        if fault == "unavailable":
            return self._send_error(
                TwirpError("unavailable", "service unavailable (injected fault)")
            )
        if fault == "rate_limited":
            seconds = int(math.ceil(emulator.faults.retry_after))
            return self._send_error(
                TwirpError(
                    "resource_exhausted",
                    "rate limit exceeded (injected fault)",
                    {"retry_after": seconds},
                ),
                {"Retry-After": str(seconds)},
            )
        try:
            emulator.auth.check(self.headers.get("Authorization"))
        except TwirpError as err:
            if fault == "lost_response":
                raise _Dropped() from err
            return self._send_error(err)
        delay = emulator.store.config.write_delay
        if delay and method in WRITE_METHODS:
            # Outside the store's lock: the write happens late, whether or not anyone still waits.
            time.sleep(delay)
        try:
            status, payload, code = emulator.store.execute(
                method, body, self.headers.get("X-Livekit-Request-Id", "").strip()
            )
        except Exception:  # a bug in the emulator must still produce a Twirp answer
            LOG.exception("internal error in %s", method)
            return self._send_error(TwirpError("internal", f"internal emulator error in {method}"))
        if fault == "lost_response":
            # The write is committed and remembered under its request id; only the answer goes missing.
            raise _Dropped()
        if code:
            emulator.store.count_error(code)
        return self._send(status, payload)

    def _fault(self, method):
        """Sleep the configured latency (outside any lock), then draw this call's fault."""
        faults = self.server.emulator.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000.0)
        fault = faults.decide(method)
        if fault is not None:
            self.server.emulator.store.count_fault(fault)
        if fault == "drop":
            raise _Dropped()
        return fault

    def _send_error(self, err, headers=None):
        self.server.emulator.store.count_error(err.code)
        self._send(err.status, err.body(), headers)

    def _send(self, status, payload, headers=None):
        if not isinstance(payload, bytes):
            payload = admin.encode(payload)
        self.answered = status
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
