"""SMS matters shared by every provider: phone numbers, keywords (and later encodings)."""
