"""Integrity flags: raising them, who may see them, and deciding them (docs/integrity.md)."""
