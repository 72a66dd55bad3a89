"""Introspection routes under /_emulator/: no auth, JSON in and out, never subject to faults."""

from __future__ import annotations

import json
import logging

from .config import ADMIN_PREFIX

LOG = logging.getLogger("livekit_sip_emulator")


class AdminRequestError(Exception):
    def __init__(self, status, code, msg):
        super().__init__(msg)
        self.status = status
        self.code = code
        self.msg = msg


def encode(payload):
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def _object(body):
    if not body or not body.strip():
        return {}
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise AdminRequestError(400, "malformed", f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise AdminRequestError(400, "malformed", "body must be a JSON object")
    return data


def _names(value, field):
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ValueError(f"{field} must be a list of names or a comma-separated string")


def _health(emulator, _body):
    return {
        "status": "ok",
        "url": emulator.url,
        "connections_total": emulator.connections_total(),
        "numbers_held": len(emulator.store.held),
        "sip_dispatch_rules": len(emulator.store.rules.rules),
    }


def _reset(emulator, body):
    config = emulator.store.reset(_object(body))
    emulator.faults.clear()
    return {"status": "ok", "config": config.behaviour()}


def _dump(emulator, _body):
    return emulator.store.dump()


def _load(emulator, body):
    data = _object(body)
    if set(data) == {"path"}:
        try:
            with open(data["path"], encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as exc:
            raise ValueError("cannot read state from {}: {}".format(data["path"], exc)) from exc
    return {"status": "ok", "numbers": emulator.store.load(data)}


def _counters(emulator, _body):
    return emulator.store.counters_snapshot()


def _reset_counters(emulator, _body):
    emulator.store.reset_counters()
    return {"status": "ok"}


def _faults(emulator, _body):
    return emulator.faults.describe()


def _set_faults(emulator, body):
    settings = _object(body)
    allowed = ("rate", "seed", "kinds", "methods", "latency_ms", "retry_after", "script")
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ValueError(
            "unknown fault settings: {} (allowed: {})".format(
                ", ".join(unknown), ", ".join(allowed)
            )
        )
    for field in ("kinds", "methods"):
        if field in settings:
            settings[field] = _names(settings[field], field)
    if settings.get("script") is not None and not isinstance(settings["script"], dict):
        raise ValueError("script must map method names to lists of steps")
    emulator.faults.configure(**settings)
    return emulator.faults.describe()


def _config(emulator, _body):
    settings = emulator.store.config.behaviour()
    settings["faults"] = emulator.faults.describe()
    return settings


def _configure(emulator, body):
    emulator.store.configure(_object(body))
    return _config(emulator, body)


ROUTES = {
    ("GET", "health"): _health,
    ("POST", "reset"): _reset,
    ("GET", "state"): _dump,
    ("POST", "state"): _load,
    ("GET", "counters"): _counters,
    ("POST", "counters/reset"): _reset_counters,
    ("GET", "faults"): _faults,
    ("POST", "faults"): _set_faults,
    ("GET", "config"): _config,
    ("POST", "config"): _configure,
}


def handle(emulator, verb, path, body):
    """Return (HTTP status, JSON-able payload) for an introspection request."""
    name = path[len(ADMIN_PREFIX) :].strip("/")
    route = ROUTES.get((verb, name))
    try:
        if route is None:
            if any(key[1] == name for key in ROUTES):
                raise AdminRequestError(405, "bad_route", f"{verb} is not allowed on {path}")
            raise AdminRequestError(404, "bad_route", f"no introspection route {path}")
        return 200, route(emulator, body)
    except AdminRequestError as err:
        return err.status, {"code": err.code, "msg": err.msg}
    except (ValueError, TypeError) as exc:
        return 400, {"code": "invalid_argument", "msg": str(exc)}
    except (
        Exception
    ) as exc:  # a bug in the emulator must still produce an answer the caller can read
        LOG.exception("introspection request %s %s failed", verb, path)
        return 500, {"code": "internal", "msg": f"{type(exc).__name__}: {exc}"}
