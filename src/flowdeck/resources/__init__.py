"""The generic resource layer: a declaration gives a resource its routes and queries.

See docs/architecture.md ("How to add a resource").
"""
