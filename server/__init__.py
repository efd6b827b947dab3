"""Mingcha (明察): the inspection evidence service."""

from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, with ``config`` overriding it (tests do)."""
    from . import config as settings

    app = Flask(__name__, instance_path=None, instance_relative_config=False)
    app.config.update(settings.load())
    app.config.update(config or {})
    register_proxy(app)
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_proxy(app):
    """Behind PROXY_COUNT reverse proxies, trust their X-Forwarded-* (client address)."""
    count = app.config["PROXY_COUNT"]
    if count:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def register_logging(app):
    from . import logs

    logs.init_app(app)


def register_extensions(app):
    from . import access, connections, headers, locale, sqlite
    from .api import encoding
    from .audit import chain
    from .auth import passwords
    from .extensions import csrf, db, login_manager, migrate
    from .sync import feed

    db.init_app(app)
    with app.app_context():
        sqlite.configure(db.engine)  # creating the engine connects to nothing
        connections.configure(db.engine)
    chain.init_app(db.session)  # before the feed: its lock is taken first
    feed.init_app(db.session)
    migrate.init_app(app, db, directory=str(app.config.get("MIGRATIONS_DIR") or _migrations()),
                     render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    csrf.init_app(app)
    locale.init_app(app)
    access.init_app(app)
    headers.init_app(app)
    encoding.init_app(app)
    passwords.configure(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_KIB"])


def register_blueprints(app):
    from . import access
    from .admin.views import bp as admin_bp
    from .api.views import bp as api_bp
    from .audit.views import bp as audit_bp
    from .auth.views import bp as auth_bp
    from .bulletins.views import bp as desk_bulletins_bp
    from .cases.actions import bp as cases_bp
    from .cases.views import bp as desk_cases_bp
    from .evidence.upload_views import bp as uploads_bp
    from .evidence.views import bp as evidence_bp
    from .extensions import csrf
    from .field.views import bp as field_bp
    from .health.views import bp as health_bp
    from .plans.actions import bp as plans_bp
    from .plans.views import bp as desk_plans_bp
    from .registry.import_views import bp as registry_import_bp
    from .registry.views import bp as registry_bp
    from .review.actions import bp as review_bp
    from .review.views import bp as desk_review_bp
    from .sync.views import bp as sync_bp
    from .web.views import bp as web_bp

    for bp in (api_bp, auth_bp, sync_bp, uploads_bp, evidence_bp, review_bp, cases_bp,
               plans_bp):
        # Bearer tokens, no cookies: nothing for a forged form to ride on. The desk's
        # actions also take a browser's session, and then check its CSRF token themselves
        # (server.access).
        csrf.exempt(bp)
        app.register_blueprint(bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(field_bp)
    for bp in (web_bp, desk_plans_bp, desk_review_bp, desk_cases_bp, desk_bulletins_bp, audit_bp,
               admin_bp, registry_bp, registry_import_bp):
        app.register_blueprint(bp)
    access.verify_routes(app)


def register_errorhandlers(app):
    from . import errors

    errors.init_app(app)


def register_commands(app):
    from .cli import commands

    commands.init_app(app)


def _migrations():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
