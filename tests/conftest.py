"""Make the collection importable under its Galaxy name for plain pytest runs.

ansible-core imports collection code as ``ansible_collections.<namespace>.<name>``.
A symlinked tree under ``.build/collections`` gives the source checkout that name,
so tests exercise the files being edited, with no copy to keep in sync.
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "livekit", "sip")


def _ensure_link():
    if os.path.islink(LINK) and os.path.realpath(LINK) == ROOT:
        return
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    if os.path.lexists(LINK):
        os.unlink(LINK)
    os.symlink(ROOT, LINK)


_ensure_link()
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
