"""Allows `python -m emulator ...`, the same as the `sms-emulator` console script."""

from emulator.cli import main

raise SystemExit(main())
