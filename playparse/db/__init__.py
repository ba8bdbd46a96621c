"""Persistence: SQLAlchemy models, the engine, repository functions and Alembic migrations."""
