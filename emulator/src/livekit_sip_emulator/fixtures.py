"""pytest plugin: `emulator` (one server per session, reset before each test) and `emulator_factory`."""

from __future__ import annotations

import pytest

from .config import EmulatorConfig
from .emulator import Emulator


@pytest.fixture(scope="session")
def emulator_session():
    """The session's shared emulator, on a free port; prefer the `emulator` fixture, which resets it."""
    emulator = Emulator(EmulatorConfig(port=0)).start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def emulator(emulator_session):
    """A running emulator with an empty project, default settings and no faults."""
    emulator_session.admin.reset()
    yield emulator_session


@pytest.fixture
def emulator_factory():
    """Start emulators with custom settings: factory(quota=3, skip_defaults=True, ...); stopped at teardown."""
    started = []

    def factory(config=None, **settings):
        if config is None:
            settings.setdefault("port", 0)
        emulator = Emulator(config, **settings).start()
        started.append(emulator)
        return emulator

    yield factory
    for emulator in started:
        emulator.stop()
