"""Helpers shared by every source system: decoding, dates, codes, pseudonyms, loading."""
