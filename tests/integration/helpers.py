"""Running modules in-process against the emulator, and small helpers shared by the tests."""

from __future__ import annotations

import contextlib
import importlib
import io
import json

from ansible.module_utils.common.warnings import _global_warnings
from ansible.module_utils.testing import patch_module_args

MODULES = "ansible_collections.livekit.sip.plugins.modules."


def connection(emulator):
    return {"url": emulator.url, "api_key": emulator.api_key, "api_secret": emulator.api_secret}


def run_module(name, args, check_mode=False, diff=False):
    """Run a module's main() as Ansible would; returns its JSON result (with ``failed`` on failure)."""
    module = importlib.import_module(MODULES + name)
    # Warnings are collected process-wide; a module run by Ansible starts with none.
    _global_warnings.clear()
    args = dict(args)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff
    # As the action that runs a module names it (messages such as "Unsupported parameters").
    args.setdefault("_ansible_module_name", "livekit.sip." + name)
    out = io.StringIO()
    with patch_module_args(args), contextlib.redirect_stdout(out):
        try:
            module.main()
        except SystemExit:
            pass
        else:
            raise AssertionError(f"{name} returned without exit_json/fail_json")
    text = out.getvalue()
    try:
        return json.loads(text)
    except ValueError:
        raise AssertionError(f"{name} printed something that is not JSON: {text[:500]!r}") from None


def warning_texts(result):
    """The warnings of a module result as strings (ansible-core may return them as objects)."""
    texts = []
    for warning in result.get("warnings", []):
        if isinstance(warning, dict):
            warning = (warning.get("event") or {}).get("msg", warning.get("msg", ""))
        texts.append(str(warning))
    return texts


def run(emulator, module_name, check_mode=False, diff=False, **args):
    """run_module with the emulator's connection options (``name`` is a module option)."""
    merged = connection(emulator)
    merged.update(args)
    return run_module(module_name, merged, check_mode=check_mode, diff=diff)


WRITE_METHODS = ("PurchasePhoneNumber", "UpdatePhoneNumber", "ReleasePhoneNumbers")


def writes(counters):
    """Write calls made, from an emulator counters snapshot."""
    return sum(counters["calls"][m] for m in WRITE_METHODS)


def calls(counters, method):
    return counters["calls"][method]


def available(emulator, country="US", area_code="415", count=3):
    """Numbers the emulator offers, read straight from its inventory (no API call counted)."""
    found = []
    store = emulator.store
    for listing in store.inventory.candidates(country, area_code):
        if listing.e164_format not in store.held:
            found.append(listing.e164_format)
        if len(found) == count:
            break
    return found
