"""SMPP 3.4, the second door into the same emulator: listener, sessions, PDU codec adapter."""
