#!/usr/bin/env bash
# `make demo`: the phone_numbers role against the bundled emulator, from a fresh clone.
#
# Builds the collection and installs the artifact into a collections path of its own, so that
# the demo runs what `ansible-galaxy collection install` would give a user, not the checkout.
# Nothing reaches LiveKit Cloud: the credentials are forced to the emulator's.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin="${VENV_BIN:-$root/.venv/bin}"
port="${EMULATOR_PORT:-7880}"
work="$root/.build/demo"
collections="$root/.build/demo-collections"
pid_file="$work/emulator.pid"

if [ ! -x "$bin/ansible-playbook" ]; then
    echo "error: $bin/ansible-playbook is missing; run 'make demo' (it creates the virtualenv)" >&2
    exit 1
fi
export PATH="$bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }

step "Building the collection and installing it into .build/demo-collections"
rm -rf "$work" "$collections"
mkdir -p "$work"
ansible-galaxy collection build --force --output-path "$work" . >/dev/null
artifact=$(ls "$work"/livekit-sip-*.tar.gz)
# From here on, ansible finds the collection only there (not the checkout's .build/collections).
export ANSIBLE_COLLECTIONS_PATH="$collections"
ansible-galaxy collection install --force --collections-path "$collections" "$artifact" >/dev/null
test -f "$collections/ansible_collections/livekit/sip/MANIFEST.json"
echo "installed $(basename "$artifact")"

step "Starting the emulator on port $port"
# The emulator takes its credentials from these variables; so do the modules.
export LIVEKIT_URL="http://127.0.0.1:$port" LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret
trap '"$bin/livekit-sip-emulator" stop --pid-file "$pid_file" >/dev/null || true' EXIT
# `start` returns once the emulator answers its health check (or fails, naming why).
"$bin/livekit-sip-emulator" start --pid-file "$pid_file" --port "$port" >/dev/null
"$bin/livekit-sip-emulator" wait --url "$LIVEKIT_URL" --timeout 5

counter() {
    "$bin/python" - "$LIVEKIT_URL" "$1" <<'PY'
import json, sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(sys.argv[1] + "/_emulator/counters") as answer:
    calls = json.load(answer)["calls"]
names = ("PurchasePhoneNumber", "UpdatePhoneNumber", "ReleasePhoneNumbers") if sys.argv[2] == "writes" else calls
print(sum(calls[name] for name in names))
PY
}

playbook() { ansible-playbook -i examples/inventory "$@"; }

step "First run: examples/provision.yml buys and routes what examples/inventory describes"
playbook examples/provision.yml

step "The project's numbers (examples/show_numbers.yml)"
ANSIBLE_CALLBACK_RESULT_FORMAT=yaml playbook examples/show_numbers.yml

step "Second run: the same playbook again changes nothing"
writes_before=$(counter writes)
playbook examples/provision.yml | tee "$work/second-run.log"
writes_after=$(counter writes)
if ! grep -Eq 'localhost +: ok=[0-9]+ +changed=0 ' "$work/second-run.log"; then
    echo "error: the second run reported changes" >&2
    exit 1
fi
if [ "$writes_after" != "$writes_before" ]; then
    echo "error: the second run made $((writes_after - writes_before)) write calls" >&2
    exit 1
fi
step "Done: the second run reported changed=0 and made no write call to the API"
