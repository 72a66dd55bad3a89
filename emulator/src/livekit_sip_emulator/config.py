"""Settings of the emulator: start-up configuration and the subset that can change at run time."""

from __future__ import annotations

import dataclasses
import math

SERVICE = "livekit.PhoneNumberService"
API_PREFIX = f"/twirp/{SERVICE}/"
ADMIN_PREFIX = "/_emulator/"

METHODS = (
    "SearchPhoneNumbers",
    "PurchasePhoneNumber",
    "ListPhoneNumbers",
    "GetPhoneNumber",
    "UpdatePhoneNumber",
    "ReleasePhoneNumbers",
)

SIP_SERVICE = "livekit.SIP"
SIP_PREFIX = f"/twirp/{SIP_SERVICE}/"
SIP_METHODS = (
    "CreateSIPDispatchRule",
    "UpdateSIPDispatchRule",
    "ListSIPDispatchRule",
    "DeleteSIPDispatchRule",
)
# Every method of both services, as counters and faults name them.
ALL_METHODS = METHODS + SIP_METHODS

FAULT_KINDS = ("unavailable", "rate_limited", "drop", "lost_response")
JSON_NAMES = ("proto", "camel")
# The PhoneNumber schema served: protocol 1.52 (labels, call statuses) or a server before it.
SCHEMA_CHOICES = ("1.52", "pre-1.52")

# offset: the protocol library's base64url JSON {"offset", "limit"}; cursor: opaque tokens that
# only the server can resolve (a client cannot build or predict them).
PAGE_TOKENS = ("offset", "cursor")

# Ways a real server plausibly misbehaves, off by default; see quirks.py. Each is a start-up flag
# and a setting of POST /_emulator/config.
QUIRK_KEYS = (
    "shuffle_search",
    "shift_pages",
    "status_override",
    "omit_fields",
    "short_purchase_answers",
    "short_purchases",
    "noop_releases",
    "endless_tokens",
    "write_delay",
    "clock_offset",
)
# Settings that shape the API's behaviour; reset and state files may override them.
BEHAVIOUR_KEYS = (
    "inventory_size",
    "seed",
    "quota",
    "provisioning_delay",
    "json_names",
    "skip_defaults",
    "max_page_size",
    "max_rule_page_size",
    "check_rule_ids",
    "schema",
    "page_tokens",
) + QUIRK_KEYS
# The subset that may change while numbers are held (the inventory stays as it is).
RUNTIME_KEYS = (
    "quota",
    "provisioning_delay",
    "json_names",
    "skip_defaults",
    "max_page_size",
    "max_rule_page_size",
    "schema",
    "page_tokens",
) + QUIRK_KEYS
# What omit_fields may leave out: record fields, and the listing's items and counters.
RECORD_FIELD_NAMES = (
    "id",
    "name",
    "e164_format",
    "country_code",
    "area_code",
    "number_type",
    "locality",
    "region",
    "spam_score",
    "created_at",
    "updated_at",
    "capabilities",
    "status",
    "inbound_status",
    "outbound_status",
    "assigned_at",
    "released_at",
    "sip_dispatch_rule_id",
    "sip_dispatch_rule_ids",
)
OMITTABLE_FIELDS = RECORD_FIELD_NAMES + ("items", "total_count", "offline_count")


@dataclasses.dataclass(frozen=True)
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 7880
    api_key: str = "devkey"
    api_secret: str = "secret"
    extra_keys: dict = dataclasses.field(default_factory=dict)
    json_names: str = "proto"
    skip_defaults: bool = False
    schema: str = "1.52"
    inventory_size: int = 3000
    seed: int = 0
    provisioning_delay: float = 0.0
    quota: int = 10000
    max_page_size: int = 1000
    max_rule_page_size: int = 1000
    check_rule_ids: bool = False
    page_tokens: str = "offset"
    shuffle_search: bool = False
    shift_pages: int = 0
    status_override: str = ""
    omit_fields: tuple = ()
    short_purchase_answers: int = 0
    short_purchases: int = 0
    noop_releases: bool = False
    endless_tokens: bool = False
    write_delay: float = 0.0
    clock_offset: float = 0.0
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    fault_seed: int = 0
    fault_kinds: tuple = FAULT_KINDS
    fault_methods: tuple = ()
    retry_after: float = 1.0
    state_file: str = None
    tls_cert: str = None
    tls_key: str = None
    log_requests: bool = False
    request_cache_size: int = 10000

    def __post_init__(self):
        for name in BEHAVIOUR_KEYS:
            object.__setattr__(self, name, coerce(name, getattr(self, name)))
        object.__setattr__(self, "port", _integer("port", self.port, 0, 65535))
        object.__setattr__(self, "extra_keys", dict(self.extra_keys or {}))
        object.__setattr__(self, "fault_kinds", tuple(self.fault_kinds))
        object.__setattr__(self, "fault_methods", tuple(self.fault_methods or ()))
        object.__setattr__(
            self,
            "request_cache_size",
            _integer("request_cache_size", self.request_cache_size, 1, None),
        )
        if not self.api_key or not self.api_secret:
            raise ValueError("api_key and api_secret must not be empty")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("tls_cert and tls_key must be given together")

    @property
    def tls(self):
        return bool(self.tls_cert)

    def keys(self):
        keys = dict(self.extra_keys)
        keys[self.api_key] = self.api_secret
        return keys

    def behaviour(self):
        return {name: getattr(self, name) for name in BEHAVIOUR_KEYS}

    def with_settings(self, settings, allowed=BEHAVIOUR_KEYS):
        unknown = sorted(set(settings) - set(allowed))
        if unknown:
            raise ValueError(
                "unknown or read-only settings: {} (allowed: {})".format(
                    ", ".join(unknown), ", ".join(allowed)
                )
            )
        return dataclasses.replace(self, **settings)


def _integer(name, value, low, high):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or isinstance(value, float)
        and not value.is_integer()
    ):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        raise ValueError("%s out of range: %d" % (name, value))
    return value


def _number(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return float(value)


def coerce(name, value):
    """Validate one behaviour setting, as given on the command line or in an admin request."""
    if name == "inventory_size":
        return _integer(name, value, 0, 5000000)
    if name == "seed":
        return _integer(name, value, -(2**63), 2**63)
    if name == "quota":
        return _integer(name, value, 0, None)
    if name in ("max_page_size", "max_rule_page_size"):
        return _integer(name, value, 1, None)
    if name == "provisioning_delay":
        return _number(name, value, 0)
    if name == "json_names":
        if value not in JSON_NAMES:
            raise ValueError(
                "json_names must be one of {}, got {!r}".format(", ".join(JSON_NAMES), value)
            )
        return value
    if name == "schema":
        if value not in SCHEMA_CHOICES:
            raise ValueError(
                "schema must be one of {}, got {!r}".format(", ".join(SCHEMA_CHOICES), value)
            )
        return value
    if name == "page_tokens":
        if value not in PAGE_TOKENS:
            raise ValueError(
                "page_tokens must be one of {}, got {!r}".format(", ".join(PAGE_TOKENS), value)
            )
        return value
    if name in (
        "skip_defaults",
        "check_rule_ids",
        "shuffle_search",
        "noop_releases",
        "endless_tokens",
    ):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, got {value!r}")
        return value
    if name == "shift_pages":
        return _integer(name, value, -1000, 1000)
    if name in ("short_purchase_answers", "short_purchases"):
        return _integer(name, value, 0, None)
    if name == "write_delay":
        return _number(name, value, 0)
    if name == "clock_offset":
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise ValueError(f"{name} must be a number of seconds, got {value!r}")
        return float(value)
    if name == "status_override":
        return _status_override(value)
    if name == "omit_fields":
        return _omit_fields(value)
    raise ValueError(f"unknown setting {name!r}")


def check_fault_settings(rate, kinds, methods, latency_ms, retry_after):
    """Validate fault settings; returns them normalised."""
    rate = _number("rate", rate, 0)
    if rate > 1:
        raise ValueError(f"rate must be between 0 and 1, got {rate!r}")
    kinds = tuple(kinds)
    if not kinds:
        raise ValueError("kinds must not be empty")
    for kind in kinds:
        if kind not in FAULT_KINDS:
            raise ValueError(
                "unknown fault kind {!r} (known: {})".format(kind, ", ".join(FAULT_KINDS))
            )
    methods = tuple(methods or ())
    for method in methods:
        if method not in ALL_METHODS:
            raise ValueError(f"unknown method {method!r}")
    return (
        rate,
        kinds,
        methods,
        _number("latency_ms", latency_ms, 0),
        _number("retry_after", retry_after, 0),
    )


def _status_override(value):
    """A status as the wire writes it: a name (any, known or not) or a number; "" for none."""
    if isinstance(value, bool):
        raise ValueError(f"status_override must be a status name or number, got {value!r}")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"status_override must be a status name or number, got {value!r}")
    text = value.strip()
    if text and not text.lstrip("-").isdigit() and not text.replace("_", "").isalnum():
        raise ValueError(f"status_override must be a status name or number, got {value!r}")
    return text


def _omit_fields(value):
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",") if item.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError("omit_fields must be a list of field names or a comma-separated string")
    unknown = [name for name in value if name not in OMITTABLE_FIELDS]
    if unknown:
        raise ValueError(
            "omit_fields: unknown fields {} (known: {})".format(
                ", ".join(unknown), ", ".join(OMITTABLE_FIELDS)
            )
        )
    return tuple(dict.fromkeys(value))
