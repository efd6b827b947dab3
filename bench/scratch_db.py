"""A fresh PostgreSQL database for one benchmark run, dropped afterwards, and the site
its records hang on."""

import uuid

import psycopg


def create_database(admin_url: str) -> tuple[str, str]:
    """(name, url) of a new empty database next to the one ``admin_url`` names."""
    name = f"mingcha_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, name: str):
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate_and_add_a_site():
    """Inside an app context on the scratch database: the schema, then a unit and one of
    its sites (flushed), which every benchmark's records hang on. Returns the site."""
    from flask_migrate import upgrade

    from server.extensions import db
    from server.models import Site, Unit

    upgrade()
    unit = Unit(code="B01", name="城市建设科", leader_name="李建国")
    db.session.add(unit)
    db.session.flush()
    site = Site(code="S01", name="纺织东路", kind="road", unit_id=unit.id, lat=34.26,
                lon=117.19, radius_m=300)
    db.session.add(site)
    db.session.flush()
    return site
