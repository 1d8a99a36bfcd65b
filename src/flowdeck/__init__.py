"""flowdeck: a self-hosted flow server."""

__version__ = "0.1.0"
