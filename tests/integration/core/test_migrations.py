from sqlalchemy import Engine, inspect

from kefu import migrate


def test_models_match_migrations(isolated_database: Engine) -> None:
    migrate.check(isolated_database)  # raises if autogenerate would find a difference


def test_downgrade_to_base_and_up_again(isolated_database: Engine) -> None:
    migrate.downgrade(isolated_database, "base")
    assert set(inspect(isolated_database).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(isolated_database)
    assert "audit_event" in inspect(isolated_database).get_table_names()
    migrate.check(isolated_database)
