"""A fresh PostgreSQL database for one benchmark run, dropped afterwards."""

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
