"""Chinese first, English second: which language each request is answered in."""

import os

from flask import has_request_context, request, session
from flask_login import current_user

from . import labels
from .extensions import babel

LANGUAGES = ("zh_CN", "en")


def select_locale() -> str:
    if not has_request_context():  # the command line
        chosen = os.environ.get("MINGCHA_LOCALE", "zh_CN")
        return chosen if chosen in LANGUAGES else "zh_CN"
    chosen = session.get("lang") if not request.path.startswith("/api/") else None
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(LANGUAGES) or "zh_CN"


def init_app(app):
    # zh_CN is Babel's zh_Hans_CN; gettext finds its catalog under translations/zh.
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    labels.init_app(app)
