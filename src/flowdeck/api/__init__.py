"""The HTTP API: one router module per resource, and the seed dialects under dialects/."""
