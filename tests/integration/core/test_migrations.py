from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, Engine, MetaData, Table, insert, inspect, text

from kefu import migrate


def test_models_match_migrations(isolated_database: Engine) -> None:
    migrate.check(isolated_database)  # raises if autogenerate would find a difference


def test_downgrade_to_base_and_up_again(isolated_database: Engine) -> None:
    migrate.downgrade(isolated_database, "base")
    assert set(inspect(isolated_database).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(isolated_database)
    assert "audit_event" in inspect(isolated_database).get_table_names()
    migrate.check(isolated_database)


def _fill(connection: Connection, table_name: str) -> None:
    """One row with a plain value in every required column; references point at id 1."""
    table = Table(table_name, MetaData(), autoload_with=connection)
    values: dict[str, object] = {}
    for column in table.columns:
        if column.nullable and not column.primary_key:
            continue
        python = column.type.python_type
        if column.primary_key or python is int:
            values[column.name] = 1
        elif python is bool:
            values[column.name] = True
        elif python is datetime:
            values[column.name] = datetime(2026, 11, 23, tzinfo=UTC)
        elif python is Decimal:
            values[column.name] = Decimal(0)
        else:
            values[column.name] = "x"
    connection.execute(insert(table).values(**values))


def test_upgrade_keeps_rows_that_other_tables_refer_to(isolated_database: Engine) -> None:
    """Batch migrations rebuild tables on SQLite: staff members, customers and cases with
    rows pointing at them must survive the upgrade from before the case workspace."""
    migrate.downgrade(isolated_database, "0016")
    with isolated_database.begin() as connection:
        for table_name in ("staff_user", "customer", "case", "case_event", "access_token"):
            _fill(connection, table_name)
    migrate.upgrade(isolated_database)
    with isolated_database.connect() as connection:
        assert connection.execute(text('SELECT count(*) FROM "case_event"')).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM access_token")).scalar() == 1
    migrate.check(isolated_database)
