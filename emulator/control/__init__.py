"""The ``/_emulator`` control API that tests, scenarios and people use to drive the emulator."""
