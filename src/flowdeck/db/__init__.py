"""Storage: SQLAlchemy models, the database handle, repositories and migrations."""
