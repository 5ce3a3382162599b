"""SMPP 3.4 server: sessions, the PDU codec and the text of messages."""
