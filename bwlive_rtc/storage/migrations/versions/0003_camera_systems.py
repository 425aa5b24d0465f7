"""A camera belongs to one system and docks with that system's key (issue 10, hole 3).

``cameras`` gets ``system_id`` (its system), ``key_id`` (the key it took at its last dock)
and ``confirmed_key_id`` (a change to that key an admin has confirmed).

Existing cameras go to their organisation's *oldest* system: the one registered when the
organisation was set up (the local system of ``bwlive admin bootstrap``), whose key the
operators' links were made for. The newest system is what docking used to take, and is
exactly what a system joining with a leaked code would be, so it is not trusted. A camera
that has docked is recorded as holding that newest key (what its last dock gave it): where
its own system's key differs, its next dock shows both thumbprints and waits for an
admin's confirmation instead of changing keys silently.
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        for column in ("system_id", "key_id", "confirmed_key_id"):
            batch.add_column(sa.Column(column, sa.Text))
    cameras = sa.table("cameras", sa.column("organisation_id"), sa.column("system_id"), sa.column("key_id"),
                       sa.column("last_docked_at"))
    systems = sa.table("systems", sa.column("id"), sa.column("organisation_id"), sa.column("key_id"),
                       sa.column("joined_at"))

    def of_its_organisation(column: sa.ColumnClause, order: sa.ColumnElement) -> sa.ScalarSelect:
        return (sa.select(column).where(systems.c.organisation_id == cameras.c.organisation_id)
                .order_by(order, systems.c.id).limit(1).scalar_subquery())

    op.execute(cameras.update().values(system_id=of_its_organisation(systems.c.id, systems.c.joined_at.asc())))
    op.execute(cameras.update().where(cameras.c.last_docked_at.is_not(None))
               .values(key_id=of_its_organisation(systems.c.key_id, systems.c.joined_at.desc())))
