"""Thin API dialects over the same services (one module per seed document)."""
