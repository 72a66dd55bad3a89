"""A local emulator of the LiveKit Phone Number service (Twirp/JSON over HTTP), for tests and demos."""

from __future__ import annotations

from .auth import make_token
from .client import AdminClient, AdminError
from .config import EmulatorConfig
from .emulator import Emulator

__all__ = ["AdminClient", "AdminError", "Emulator", "EmulatorConfig", "make_token"]
