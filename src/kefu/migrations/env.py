"""Alembic environment: takes the URL from Kefu's settings (or the caller's config) and
the metadata from every domain's models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from kefu.db import Base, get_engine
from kefu.models import import_all_models

import_all_models()
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with get_engine().connect() as conn:
        _run(conn)
        conn.commit()
