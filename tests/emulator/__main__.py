from __future__ import annotations

import sys

from livekit_sip_emulator.cli import main

# stderr, so that scripts reading the LIVEKIT_* lines on stdout read the same lines as before.
print(
    "warning: `python -m tests.emulator` is deprecated; run `livekit-sip-emulator` "
    "(or `python -m livekit_sip_emulator`) with the same arguments",
    file=sys.stderr,
)
sys.exit(main())
