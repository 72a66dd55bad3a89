# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Extract the message and enum definitions of a protobuf-es generated file as JSON data.

The protocol is published as generated code (the npm package ``@livekit/protocol``, files
``src/gen/*_pb.js``). This reads such a file as text and writes, per message, its fields
(proto name, JSON name, number, kind, repeated, optional) and, per enum, its values. The
output is test data: the emulator's table of request fields is checked against it.

    npm pack @livekit/protocol@1.52.1 && tar xzf livekit-protocol-1.52.1.tgz
    python scripts/protocol_fields.py package/src/gen/livekit_phone_number_pb.js \\
        --version 1.52.1 > tests/data/protocol/livekit_phone_number.json
    python scripts/protocol_fields.py package/src/gen/livekit_models_pb.js --version 1.52.1 \\
        --message livekit.TokenPagination > tests/data/protocol/livekit_models.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys

_MESSAGE = re.compile(
    r'makeMessageType\(\s*"(?P<name>[\w.]+)"\s*,\s*(?:\(\)\s*=>\s*)?\[(?P<body>.*?)\]\s*,?\s*\)',
    re.S,
)
_ENUM = re.compile(r'makeEnum\(\s*"(?P<name>[\w.]+)"\s*,\s*\[(?P<body>.*?)\]\s*,?\s*\)', re.S)
_FIELD = re.compile(r"\{(?P<body>[^{}]*\bno:\s*\d+[^{}]*)\}")
_ENUM_VALUE = re.compile(r'\{\s*no:\s*(?P<no>\d+)\s*,\s*name:\s*"(?P<name>\w+)"')


def _attr(body, key):
    match = re.search(r"\b%s:\s*(\"[^\"]*\"|[\w.]+)" % key, body)
    if not match:
        return None
    value = match.group(1)
    return value[1:-1] if value.startswith('"') else value


def _json_name(name):
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def _type_name(kind, body):
    if kind == "scalar":
        match = re.search(r"ScalarType\.(\w+)", body)
        return match.group(1).lower() if match else _attr(body, "T")
    if kind == "enum":
        match = re.search(r"getEnumType\((\w+)\)", body)
        return match.group(1) if match else None
    return _attr(body, "T")


def extract(text):
    messages = {}
    for match in _MESSAGE.finditer(text):
        fields = []
        for field in _FIELD.finditer(match.group("body")):
            body = field.group("body")
            name = _attr(body, "name")
            kind = _attr(body, "kind")
            fields.append(
                {
                    "name": name,
                    "json_name": _attr(body, "jsonName") or _json_name(name),
                    "number": int(_attr(body, "no")),
                    "kind": kind,
                    "type": _type_name(kind, body),
                    "repeated": _attr(body, "repeated") == "true",
                    "optional": _attr(body, "opt") == "true",
                    "oneof": _attr(body, "oneof"),
                }
            )
        messages[match.group("name")] = fields
    enums = {}
    for match in _ENUM.finditer(text):
        enums[match.group("name")] = {
            value.group("name"): int(value.group("no"))
            for value in _ENUM_VALUE.finditer(match.group("body"))
        }
    return {"messages": messages, "enums": enums}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("source", help="a protobuf-es generated *_pb.js file")
    parser.add_argument("--version", required=True, help="the package version it comes from")
    parser.add_argument(
        "--message",
        action="append",
        help="keep only this message (repeatable); enums are kept when a kept field uses them",
    )
    args = parser.parse_args(argv)
    with open(args.source, "rb") as handle:
        raw = handle.read()
    data = extract(raw.decode("utf-8"))
    if args.message:
        missing = sorted(set(args.message) - set(data["messages"]))
        if missing:
            parser.error("not defined in %s: %s" % (args.source, ", ".join(missing)))
        data["messages"] = {n: f for n, f in data["messages"].items() if n in args.message}
        used = {f["type"] for fields in data["messages"].values() for f in fields}
        data["enums"] = {n: v for n, v in data["enums"].items() if n.rsplit(".", 1)[-1] in used}
    if not data["messages"]:
        parser.error("no message definitions found in %s" % args.source)
    header = {
        "package": "@livekit/protocol",
        "version": args.version,
        "file": "src/gen/" + args.source.replace("\\", "/").rsplit("/", 1)[-1],
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    header.update(data)
    json.dump(header, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
