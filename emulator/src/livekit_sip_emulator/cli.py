"""Command line: serve in the foreground, start/stop in the background, wait for readiness."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import ssl
import sys
import threading

from . import process
from .config import FAULT_KINDS, JSON_NAMES, PAGE_TOKENS, SCHEMA_CHOICES, EmulatorConfig
from .emulator import Emulator

DEFAULTS = EmulatorConfig()
COMMANDS = ("serve", "start", "stop", "wait")

# (flag, EmulatorConfig field, type, help); each is forwarded as is from `start` to the background `serve`.
OPTIONS = (
    ("--host", "host", str, "address to listen on (default %(default)s)"),
    ("--port", "port", int, "port; 0 picks a free one (env EMULATOR_PORT, default 7880)"),
    (
        "--json-names",
        "json_names",
        str,
        "output field names: proto (e164_format) or camel (e164Format); default %(default)s",
    ),
    (
        "--schema",
        "schema",
        str,
        "PhoneNumber schema: 1.52 (labels, call statuses) or pre-1.52, a server that predates "
        "them; default %(default)s",
    ),
    (
        "--inventory-size",
        "inventory_size",
        int,
        "numbers in the seeded inventory (default %(default)s)",
    ),
    ("--seed", "seed", int, "seed of the inventory and of the ids (default %(default)s)"),
    (
        "--provisioning-delay",
        "provisioning_delay",
        float,
        "seconds a bought number stays PENDING (default %(default)s)",
    ),
    ("--quota", "quota", int, "most numbers the project may hold (default %(default)s)"),
    (
        "--max-page-size",
        "max_page_size",
        int,
        "cap on the limit of list and search pages (default %(default)s)",
    ),
    (
        "--max-rule-page-size",
        "max_rule_page_size",
        int,
        "cap on the limit of ListSIPDispatchRule pages (default %(default)s)",
    ),
    (
        "--page-tokens",
        "page_tokens",
        str,
        "page tokens: offset (base64url JSON, as the protocol library writes them) or cursor "
        "(opaque); default %(default)s",
    ),
    ("--latency-ms", "latency_ms", float, "delay added to every API call (default %(default)s)"),
    (
        "--fault-rate",
        "fault_rate",
        float,
        "share of API calls that fail, 0 to 1 (default %(default)s)",
    ),
    ("--fault-seed", "fault_seed", int, "seed of the fault draws (default %(default)s)"),
    (
        "--retry-after",
        "retry_after",
        float,
        "Retry-After seconds of rate_limited answers (default %(default)s)",
    ),
    (
        "--shift-pages",
        "shift_pages",
        int,
        "quirk: list pages after the first start N records later (negative: earlier) than "
        "their token says, as when numbers are released (bought) during a listing",
    ),
    (
        "--status-override",
        "status_override",
        str,
        "quirk: show held numbers with this status (a name such as "
        "PHONE_NUMBER_STATUS_SUSPENDED, or a number)",
    ),
    (
        "--omit-fields",
        "omit_fields",
        str,
        "quirk: comma-separated record fields (and items, total_count, offline_count of listings) to leave out",
    ),
    (
        "--short-purchase-answers",
        "short_purchase_answers",
        int,
        "quirk: purchase answers leave out their last N numbers, which are still bought",
    ),
    (
        "--short-purchases",
        "short_purchases",
        int,
        "quirk: the last N numbers of each purchase are neither bought nor answered",
    ),
    (
        "--write-delay",
        "write_delay",
        float,
        "quirk: seconds purchases, updates and releases wait before they are carried out",
    ),
    (
        "--clock-offset",
        "clock_offset",
        float,
        "quirk: seconds the emulator's clock (token checks, Date header) is ahead",
    ),
    ("--state", "state_file", str, "state file (a dump) to load at start"),
    ("--tls-cert", "tls_cert", str, "serve HTTPS with this PEM certificate (needs --tls-key)"),
    ("--tls-key", "tls_key", str, "PEM private key of --tls-cert"),
)
PATH_FIELDS = ("state_file", "tls_cert", "tls_key")
CHOICES = {"json_names": JSON_NAMES, "page_tokens": PAGE_TOKENS, "schema": SCHEMA_CHOICES}
FLAGS = (
    (
        "--skip-defaults",
        "skip_defaults",
        "leave zero values out of responses, like a server set to skip defaults",
    ),
    ("--log-requests", "log_requests", "log one line per request to stderr"),
    (
        "--check-rule-ids",
        "check_rule_ids",
        "refuse PurchasePhoneNumber and UpdatePhoneNumber with a dispatch rule id that does not exist",
    ),
    ("--shuffle-search", "shuffle_search", "quirk: answer each search page in a random order"),
    ("--noop-releases", "noop_releases", "quirk: releases answer as usual and release nothing"),
    (
        "--endless-tokens",
        "endless_tokens",
        "quirk: every page carries a fresh token; the last one's starts over at the first page",
    ),
)


def _env_port():
    value = os.environ.get("EMULATOR_PORT")
    try:
        return int(value) if value else DEFAULTS.port
    except ValueError:
        raise SystemExit(f"EMULATOR_PORT must be a port number, got {value!r}") from None


def _server_options():
    parser = argparse.ArgumentParser(add_help=False)
    group = parser.add_argument_group("server options")
    for flag, field, kind, text in OPTIONS:
        default = _env_port() if field == "port" else getattr(DEFAULTS, field)
        if isinstance(default, tuple):
            default = ",".join(default)  # omit_fields: given as a comma-separated list
        group.add_argument(
            flag,
            dest=field,
            type=kind,
            default=default,
            help=text,
            choices=CHOICES.get(field),
        )
    for flag, field, text in FLAGS:
        group.add_argument(flag, dest=field, action="store_true", help=text)
    group.add_argument(
        "--api-key",
        default=os.environ.get("LIVEKIT_API_KEY") or DEFAULTS.api_key,
        help="API key (env LIVEKIT_API_KEY, default devkey)",
    )
    group.add_argument(
        "--api-secret",
        default=os.environ.get("LIVEKIT_API_SECRET") or DEFAULTS.api_secret,
        help="API secret (env LIVEKIT_API_SECRET, default secret)",
    )
    group.add_argument(
        "--extra-key",
        dest="extra_keys",
        action="append",
        default=[],
        metavar="KEY=SECRET",
        help="accept tokens signed with another key (repeatable)",
    )
    group.add_argument(
        "--fault-kinds", default=",".join(FAULT_KINDS), help="comma-separated subset of %(default)s"
    )
    group.add_argument(
        "--fault-methods",
        default="",
        help="comma-separated API methods the rate applies to (default: all)",
    )
    return parser


def build_parser():
    parser = argparse.ArgumentParser(
        prog="livekit-sip-emulator", description="Emulator of the LiveKit Phone Number service."
    )
    commands = parser.add_subparsers(dest="command")
    options = _server_options()
    commands.add_parser("serve", parents=[options], help="run in the foreground (default)")
    start = commands.add_parser(
        "start", parents=[options], help="run in the background and wait until ready"
    )
    start.add_argument("--pid-file", required=True)
    start.add_argument("--log-file", help="output of the background server (default: PID_FILE.log)")
    start.add_argument("--timeout", type=float, default=15.0, help="seconds to wait for readiness")
    stop = commands.add_parser("stop", help="stop a background server")
    stop.add_argument("--pid-file", required=True)
    stop.add_argument("--timeout", type=float, default=10.0)
    wait = commands.add_parser("wait", help="wait until an emulator answers its health check")
    wait.add_argument(
        "--url", default=os.environ.get("LIVEKIT_URL"), required=not os.environ.get("LIVEKIT_URL")
    )
    wait.add_argument("--timeout", type=float, default=15.0)
    wait.add_argument("--cafile", help="CA bundle to verify an https emulator with")
    wait.add_argument(
        "--insecure", action="store_true", help="do not verify an https emulator's certificate"
    )
    return parser


def config_from_args(args):
    settings = {option[1]: getattr(args, option[1]) for option in OPTIONS}
    settings.update({flag[1]: getattr(args, flag[1]) for flag in FLAGS})
    extra = {}
    for item in args.extra_keys:
        key, sep, secret = item.partition("=")
        if not sep or not key or not secret:
            raise ValueError(f"--extra-key expects KEY=SECRET, got {item!r}")
        extra[key] = secret
    return EmulatorConfig(
        api_key=args.api_key,
        api_secret=args.api_secret,
        extra_keys=extra,
        fault_kinds=[kind for kind in args.fault_kinds.split(",") if kind],
        fault_methods=[method for method in args.fault_methods.split(",") if method],
        **settings,
    )


def serve_argv(args):
    """The `serve` arguments equivalent to these options; credentials travel in the environment instead."""
    argv = []
    for flag, field, _kind, _text in OPTIONS:
        value = getattr(args, field)
        if value is not None:
            # Absolute, so that the background server does not depend on the directory it runs in.
            argv += [flag, os.path.abspath(value) if field in PATH_FIELDS else str(value)]
    argv += [flag for flag, field, _text in FLAGS if getattr(args, field)]
    for item in args.extra_keys:
        argv += ["--extra-key", item]
    return argv + ["--fault-kinds", args.fault_kinds, "--fault-methods", args.fault_methods]


def announce(url, config, out=sys.stdout):
    out.write(
        f"LIVEKIT_URL={url}\nLIVEKIT_API_KEY={config.api_key}\nLIVEKIT_API_SECRET={config.api_secret}\n"
    )
    out.flush()


def serve(config):
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_args: stop.set())
    if config.log_requests:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(message)s")
    try:
        emulator = Emulator(config).start()
    except OSError as exc:
        print(
            f"error: cannot start the emulator on {config.host}:{config.port}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    announce(emulator.url, config)
    print(
        "LiveKit Phone Number emulator listening on %s (%d numbers in inventory, seed %d; introspection at %s/_emulator/);"
        " stop with Ctrl-C or SIGTERM"
        % (emulator.url, config.inventory_size, config.seed, emulator.url),
        flush=True,
    )
    while not stop.wait(0.5):
        pass
    emulator.stop()
    print("emulator stopped", flush=True)
    return 0


def wait(url, timeout, cafile=None, insecure=False):
    url = url.replace("wss://", "https://", 1).replace("ws://", "http://", 1).rstrip("/")
    context = None
    if url.startswith("https://"):
        context = ssl.create_default_context(cafile=cafile)
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    if process.healthy(url, context, timeout):
        print(f"emulator ready at {url}")
        return 0
    print(
        f"error: no emulator answered at {url}/_emulator/health within {timeout:g} s",
        file=sys.stderr,
    )
    return 1


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS + ("-h", "--help"):
        argv.insert(0, "serve")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "stop":
        return process.stop(args.pid_file, args.timeout)
    if args.command == "wait":
        return wait(args.url, args.timeout, args.cafile, args.insecure)
    try:
        config = config_from_args(args)
        if config.state_file and not os.path.isfile(config.state_file):
            raise ValueError(f"state file not found: {config.state_file}")
    except (ValueError, TypeError) as exc:
        parser.error(str(exc))
    if args.command == "start":
        env = dict(os.environ, LIVEKIT_API_KEY=config.api_key, LIVEKIT_API_SECRET=config.api_secret)
        return process.start(
            serve_argv(args),
            env,
            args.pid_file,
            args.log_file,
            args.timeout,
            on_ready=lambda url: announce(url, config),
        )
    return serve(config)
