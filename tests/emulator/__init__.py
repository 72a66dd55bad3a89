"""Deprecated home of the emulator: `python -m tests.emulator` forwards to livekit-sip-emulator.

The emulator is the package under emulator/ (`pip install ./emulator`); import
`livekit_sip_emulator` and run `livekit-sip-emulator`. This shim keeps old commands working from
the repository root and will be removed in a later release.
"""

from __future__ import annotations
