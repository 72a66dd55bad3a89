"""Bad input, table-driven: every case fails with one line naming the problem, and writes nothing.

Each case runs a module in-process as Ansible would, against the emulator or against a server
that misbehaves the way real networks do (a proxy's HTML page, a cut-off body, a certificate
nobody signed). The assertions are the same for every row: the task failed, its message is one
line without a traceback and contains the words that name the problem, and the emulator's
counters show no write call at all.
"""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.livekit.sip.plugins.module_utils import _auth
from tests.integration.helpers import WRITE_METHODS, run_module
from tests.integration.playbooks import RolePlay

pytest_plugins = ["livekit_sip_emulator.fixtures"]

N = "+14155550100"
POOL = {"country_code": "US", "count": 1}

# (case id, module, options, words the message must contain). Options without url, api_key or
# api_secret get the emulator's; the value None removes one. Special urls name the server that
# answers: see ``SERVERS``.
CASES = [
    # Numbers: malformed, ambiguous, or of the wrong type.
    (
        "national-format",
        "phone_number",
        {"phone_numbers": ["(415) 555-0100"]},
        ["'(415) 555-0100'", "must start with '+'"],
    ),
    (
        "letters",
        "phone_number",
        {"phone_numbers": ["+1-800-FLOWERS"]},
        ["'+1-800-FLOWERS'", "only digits"],
    ),
    (
        "00-prefix",
        "phone_number",
        {"phone_numbers": ["0014155550100"]},
        ["'0014155550100'", "'+', not '00'"],
    ),
    (
        "country-code-0",
        "phone_number",
        {"phone_numbers": ["+04155550100"]},
        ["'+04155550100'", "cannot start with 0"],
    ),
    ("too-short", "phone_number", {"phone_numbers": ["+1415555"]}, ["'+1415555'", "at least 8"]),
    (
        "too-long",
        "phone_number",
        {"phone_numbers": ["+1415555010012345"]},
        ["'+1415555010012345'", "at most 15"],
    ),
    (
        "two-in-one-string",
        "phone_number",
        {"phone_numbers": [N + ", +14155550101"]},
        ["'+14155550100, +14155550101'", "only digits"],
    ),
    ("extension", "phone_number", {"phone_numbers": [N + " ext. 12"]}, ["ext. 12", "only digits"]),
    (
        "unquoted-integer",
        "phone_number",
        {"phone_numbers": [14155550100]},
        ["'14155550100'", "must start with '+'"],
    ),
    (
        "fleet-integer-number",
        "phone_number_fleet",
        {"entries": [{"phone_number": 14155550100}]},
        ["entries[0]", "quoted string"],
    ),
    (
        "fleet-entry-not-a-mapping",
        "phone_number_fleet",
        {"entries": [N]},
        ["'entries'", "convert to dict"],
    ),
    (
        "info-malformed-number",
        "phone_number_info",
        {"phone_number": "+1 415 555 01OO"},
        ["'+1 415 555 01OO'", "only digits"],
    ),
    # Contradictions and unknown values.
    (
        "id-and-phone-number",
        "phone_number_info",
        {"id": "PN_1", "phone_number": N},
        ["mutually exclusive", "id|phone_number"],
    ),
    (
        "numbers-and-ids",
        "phone_number",
        {"phone_numbers": [N], "ids": ["PN_1"]},
        ["mutually exclusive", "phone_numbers|ids"],
    ),
    ("unknown-status", "phone_number_info", {"statuses": ["activ"]}, ["statuses", "activ"]),
    ("unknown-state", "phone_number", {"phone_numbers": [N], "state": "gone"}, ["state", "gone"]),
    (
        "fleet-unknown-state",
        "phone_number_fleet",
        {"entries": [{"phone_number": N, "state": "gone"}]},
        ["entries[0]", "state", "'gone'"],
    ),
    (
        "fleet-number-and-pool",
        "phone_number_fleet",
        {"entries": [{"phone_number": N, "country_code": "US"}]},
        ["entries[0] mixes"],
    ),
    (
        "fleet-entries-disagree",
        "phone_number_fleet",
        {"entries": [{"phone_number": N}, {"phone_number": N, "state": "absent"}]},
        ["entries[0] and entries[1]", N, "disagree"],
    ),
    (
        "fleet-count-not-a-number",
        "phone_number_fleet",
        {"entries": [dict(POOL, count="many")]},
        ["entries[0]", "count", "'many'"],
    ),
    (
        "fleet-empty-rule",
        "phone_number_fleet",
        {"entries": [{"phone_number": N, "sip_dispatch_rule_id": ""}]},
        ["sip_dispatch_rule_id must not be empty"],
    ),
    # Empty lists.
    ("no-numbers", "phone_number", {"phone_numbers": []}, ["at least one number"]),
    ("no-ids", "phone_number", {"ids": [], "state": "absent"}, ["at least one number"]),
    (
        "release-all-with-no-entries",
        "phone_number_fleet",
        {"entries": [], "release_unlisted": True},
        ["release_unlisted=true with no entries"],
    ),
    # Country and area codes: lower case is accepted (see the test below), alpha-3 is not.
    ("search-alpha-3", "phone_number_search", {"country_code": "USA"}, ["'USA'", "alpha-2"]),
    (
        "search-lowercase-alpha-3",
        "phone_number_search",
        {"country_code": "gbr"},
        ["'gbr'", "alpha-2"],
    ),
    (
        "fleet-alpha-3",
        "phone_number_fleet",
        {"entries": [dict(POOL, country_code="USA")]},
        ["entries[0]", "'USA'", "alpha-2"],
    ),
    (
        "fleet-area-letters",
        "phone_number_fleet",
        {"entries": [dict(POOL, area_code="4l5")]},
        ["entries[0]", "area_code", "'4l5'"],
    ),
    # Very large lists: the spend guard stops them before anything is bought.
    (
        "20000-numbers",
        "phone_number",
        {"phone_numbers": ["+1415%07d" % n for n in range(20000)], "purchase_limit": 10},
        ["20000 numbers", "+14150000009 and 19990 more", "purchase_limit=10"],
    ),
    (
        "5000-entries",
        "phone_number_fleet",
        {"entries": [{"phone_number": "+1415%07d" % n} for n in range(5000)]},
        ["5000 numbers", "max_purchase=10"],
    ),
    (
        "pool-of-a-million",
        "phone_number_fleet",
        {"entries": [dict(POOL, count=1000000)]},
        ["1000000 numbers", "max_purchase=10"],
    ),
    # Connection options.
    ("missing-url", "phone_number_info", {"url": None}, ["url is missing", "LIVEKIT_URL"]),
    (
        "missing-api-key",
        "phone_number_info",
        {"api_key": None},
        ["api_key is missing", "LIVEKIT_API_KEY"],
    ),
    (
        "empty-api-secret",
        "phone_number_info",
        {"api_secret": ""},
        ["api_secret is missing", "LIVEKIT_API_SECRET"],
    ),
    (
        "wrong-secret",
        "phone_number_fleet",
        {"entries": [POOL], "api_secret": "not-the-secret-at-all"},
        ["unauthenticated", "api_secret"],
    ),
    (
        "token-without-sip-grant",
        "phone_number_fleet",
        {"entries": [POOL], "url": "no-grant"},
        ["permission_denied", "SIP admin grant"],
    ),
    (
        "url-without-scheme",
        "phone_number_info",
        {"url": "127.0.0.1:7880"},
        ["'127.0.0.1:7880'", "must start with https://"],
    ),
    (
        "url-with-path",
        "phone_number_info",
        {"url": "wss://my-project.livekit.cloud/rooms"},
        ["/rooms", "without a path"],
    ),
    (
        "url-with-query",
        "phone_number_info",
        {"url": "https://my-project.livekit.cloud?region=eu"},
        ["region=eu", "without a path, query"],
    ),
    ("timeout-zero", "phone_number_info", {"timeout": 0}, ["timeout must be a positive number"]),
    ("retries-negative", "phone_number_info", {"retries": -1}, ["retries must be 0 or more"]),
    # Servers that cannot be reached or answer something else than the API.
    (
        "unreachable-host",
        "phone_number_info",
        {"url": "https://livekit.invalid", "retries": 0},
        ["cannot reach", "livekit.invalid"],
    ),
    (
        "self-signed-certificate",
        "phone_number_info",
        {"url": "tls"},
        ["TLS error", "certificate", "validate_certs"],
    ),
    (
        "proxy-html-502",
        "phone_number_fleet",
        {"entries": [POOL], "url": "proxy-502", "retries": 1},
        ["HTTP 502", "not a Twirp error", "gave up after 2 attempts", "retries"],
    ),
    ("website-html-404", "phone_number_info", {"url": "website-404"}, ["HTTP 404", "check url"]),
    ("truncated-json", "phone_number_info", {"url": "truncated"}, ["not JSON", "truncated"]),
    (
        "200-not-json",
        "phone_number_search",
        {"country_code": "US", "url": "not-json"},
        ["not JSON"],
    ),
    ("200-json-array", "phone_number_info", {"url": "json-array"}, ["not an object"]),
]

# Servers for the special urls: (status, content type, body).
SERVERS = {
    "proxy-502": (
        502,
        "text/html",
        b"<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>\n",
    ),
    "website-404": (
        404,
        "text/html",
        b"<!doctype html><title>Not Found</title><p>No such page</p>\n",
    ),
    "truncated": (200, "application/json", b'{"items": [{"id": "PN_1", "e164_format": "+1415'),
    "not-json": (200, "text/plain", b"OK\n"),
    "json-array": (200, "application/json", b"[]"),
}


class Canned(BaseHTTPRequestHandler):
    """Answers every request with the same status, content type and body."""

    answer = (500, "text/plain", b"")

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, content_type, body = self.answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def canned_server():
    servers = []

    def start(answer):
        handler = type("Handler", (Canned,), {"answer": answer})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return "http://127.0.0.1:%d" % server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def openssl_self_signed(directory):
    """A certificate for 127.0.0.1 that no authority signed, made with the openssl command."""
    cert, key = str(directory / "cert.pem"), str(directory / "key.pem")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def target(emulator, emulator_factory, canned_server, tmp_path, monkeypatch):
    """Turns a case's special url into a running server; returns the options to pass."""

    def resolve(options):
        args = {"url": emulator.url, "api_key": emulator.api_key, "api_secret": emulator.api_secret}
        args.update(options)
        url = args["url"]
        if url in SERVERS:
            args["url"] = canned_server(SERVERS[url])
        elif url == "tls":
            cert, key = openssl_self_signed(tmp_path)
            args["url"] = emulator_factory(tls_cert=cert, tls_key=key).url
        elif url == "no-grant":
            # A key whose tokens lack the SIP admin grant: the module signs its own tokens, so
            # the claims are changed where they are made.
            claims = _auth.token_claims
            monkeypatch.setattr(
                _auth, "token_claims", lambda *a, **k: dict(claims(*a, **k), sip={})
            )
            args["url"] = emulator.url
        return {name: value for name, value in args.items() if value is not None}

    return resolve


@pytest.fixture
def no_livekit_environment(monkeypatch):
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_livekit_environment")
@pytest.mark.parametrize(
    "module, options, words", [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_bad_input_fails_with_one_line_naming_the_problem_and_writes_nothing(
    emulator, target, module, options, words
):
    result = run_module(module, target(options))
    message = result.get("msg", "")
    assert result.get("failed") is True, result
    assert "\n" not in message and "Traceback" not in message
    assert "exception" not in result  # no Python traceback handed to Ansible either
    for word in words:
        assert word in message, (word, message[:500])
    assert len(message) < 1500, "a message should be read, not scrolled: %d characters" % len(
        message
    )
    counters = emulator.admin.counters()
    assert counters["writes"] == {"purchased": 0, "routed": 0, "released": 0}
    assert sum(counters["calls"][name] for name in WRITE_METHODS) == 0


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30 and len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    "module, options",
    [
        ("phone_number_search", {"country_code": "us", "area_code": "415", "limit": 3}),
        (
            "phone_number_fleet",
            {
                "entries": [{"country_code": "us", "area_code": "415", "count": 3}],
                # Every record held, so that both runs can be compared whatever each changed.
                "return_records": "all",
                "check_mode": True,
            },
        ),
    ],
)
def test_lower_case_country_codes_are_accepted(emulator, module, options):
    """Lower case is not a mistake: us means US. It must give the same numbers as US."""
    check_mode = options.pop("check_mode", False)
    lower = run_module(
        module,
        dict(
            options,
            url=emulator.url,
            api_key=emulator.api_key,
            api_secret=emulator.api_secret,
            _ansible_check_mode=check_mode,
        ),
    )
    upper_options = json.loads(json.dumps(options).replace('"us"', '"US"'))
    upper = run_module(
        module,
        dict(
            upper_options,
            url=emulator.url,
            api_key=emulator.api_key,
            api_secret=emulator.api_secret,
            _ansible_check_mode=check_mode,
        ),
    )
    assert "failed" not in lower, lower.get("msg")
    assert lower["phone_numbers"] == upper["phone_numbers"] and len(lower["phone_numbers"]) == 3


def test_the_role_refuses_malformed_variables_before_any_call(emulator, tmp_path):
    """What test_role.py does not cover yet: variables of the wrong shape, all reported by one run."""
    done = RolePlay(tmp_path, emulator.url, emulator.api_key, emulator.api_secret).run(
        livekit_phone_numbers=N,
        livekit_phone_numbers_max_purchase="ten",
        livekit_phone_numbers_wait="maybe",
        livekit_retries="a few",
    )
    assert done.returncode != 0 and "Traceback" not in done.output
    (message,) = done.failure_messages()
    assert message.startswith("Validation of arguments failed:")
    for name, kind in (
        ("livekit_phone_numbers_max_purchase", "int"),
        ("livekit_phone_numbers_wait", "bool"),
        ("livekit_retries", "int"),
    ):
        assert name in message and f"convert to {kind}" in message, (name, message)
    assert sum(emulator.admin.counters()["calls"].values()) == 0


@pytest.mark.parametrize("entries", [N, [N], {"phone_number": N}, 5])
def test_the_role_refuses_entries_that_are_not_a_list_of_mappings_before_any_call(
    emulator, tmp_path, entries
):
    # The argument spec leaves the entries to the module (thousands of them cost seconds there).
    done = RolePlay(tmp_path, emulator.url, emulator.api_key, emulator.api_secret).run(
        livekit_phone_numbers=entries
    )
    assert done.returncode != 0 and "Traceback" not in done.output
    (message,) = done.failure_messages()
    assert "entries" in message, message
    assert sum(emulator.admin.counters()["calls"].values()) == 0
