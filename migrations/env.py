import logging

from alembic import context
from flask import current_app

config = context.config
logger = logging.getLogger('alembic.env')


def handled(log):
    """Whether a handler other than a NullHandler (alembic adds one to its logger) sees
    ``log``'s records: pytest's capture on the root logger, say."""
    while log:
        if any(not isinstance(h, logging.NullHandler) for h in log.handlers):
            return True
        log = log.parent if log.propagate else None
    return False


def show_progress(name):
    """Print the ``name`` logger's records ("Running upgrade …") on stderr, as
    `manage.py db upgrade` and `init-db` do, unless something in this process already
    handles them. The handler goes on that logger alone, never on the root logger: there
    it would print every record of the app's own loggers, which have their own handler,
    a second time. A level the process has set is kept (the benchmarks quieten alembic)."""
    log = logging.getLogger(name)
    if handled(log):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter('%(levelname)-5.5s [%(name)s] %(message)s'))
    log.addHandler(handler)
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)


show_progress('alembic')
show_progress('flask_migrate')


def get_engine():
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    # set_main_option interpolates like ConfigParser: a '%' (an escaped password) is doubled.
    return get_engine().url.render_as_string(hide_password=False).replace('%', '%%')


config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """`db upgrade --sql`: the SQL is printed, not run."""
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    # `db migrate` on a schema that matches the models writes no empty revision.
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    # render_as_batch and compare_type, as the app passes them to Migrate.
    conf_args = current_app.extensions['migrate'].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            **conf_args
        )

        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
