"""Examples shipped with the package: :mod:`emulator.examples.shop`, the system under test the
scenarios in ``scenarios/`` replay against, and ``sms-emulator example-sut``, which serves it."""
