#!/usr/bin/env bash
# Run ansible-test on a fresh copy of the collection.
#
# ansible-test only works inside .../ansible_collections/<namespace>/<name>/, and it
# resolves symlinks, so the collection is copied (not linked) under .build/ each time.
# With --venv it bootstraps pip from a script it would download from a host that may be
# unreachable; it reads a cached copy first, so a stand-in that uses the interpreter's own
# ensurepip is written there when none is present.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv_bin="${VENV_BIN:-$root/.venv/bin}"
tree="$root/.build/ansible-test/ansible_collections/livekit/sip"

pip_version=$("$venv_bin/python" - <<'PY'
import inspect
from ansible_test._internal import python_requirements as pr
source = inspect.getsource(pr.get_venv_packages)
print(source.split("pip='", 1)[1].split("'", 1)[0])
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -f "$cache" ]; then
    mkdir -p "$(dirname "$cache")"
    cat > "$cache" <<'PY'
"""Stand-in for pip's get-pip.py: bootstrap pip from the interpreter's own wheel."""
import subprocess
import sys

# get-pip.py takes these switches; pip install does not.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args))
PY
fi

rm -rf "$tree"
mkdir -p "$tree"
# Copy what git would ship: tracked and untracked-but-not-ignored files that exist. The emulator
# (emulator/, and tests/emulator, its deprecated command) is a Python package of its own, not
# collection content: ruff and its own tests check it, and galaxy.yml leaves it out of the artifact.
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
    while IFS= read -r -d '' path; do
        [ -f "$root/$path" ] || continue
        case "$path" in emulator/* | tests/emulator/*) continue ;; esac
        mkdir -p "$tree/$(dirname "$path")"
        cp -p "$root/$path" "$tree/$path"
    done

cd "$tree"
# The copy lies inside the checkout's ignored .build/; without a repository of its own,
# ansible-test would ask the outer one which files exist, and find none.
git init -q .
exec "$venv_bin/ansible-test" "$@"
