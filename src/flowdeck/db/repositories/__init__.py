"""Repositories: the only code that talks SQL."""
