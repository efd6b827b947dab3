"""The words people read for the codes the data uses, in their language."""

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

ROLE = {"inspector": _l("inspector"), "supervisor": _l("conduct supervisor"),
        "reviewer": _l("reviewer"), "compiler": _l("supervision group lead"),
        "unit": _l("unit contact"), "admin": _l("administrator")}
MODE = {"open": _l("open check"), "covert": _l("unannounced check")}
SEVERITY = {"general": _l("general"), "major": _l("major problem")}


def role_label(code: str) -> str:
    return str(ROLE.get(code, code))


def mode_label(code: str) -> str:
    return str(MODE.get(code, code))


def severity_label(code: str) -> str:
    return str(SEVERITY.get(code, code))


def category_label(category) -> str:
    return category.name_en if str(get_locale()) == "en" else category.name_zh


def init_app(app):
    app.jinja_env.globals.update(get_locale=get_locale, role_label=role_label,
                                 mode_label=mode_label, severity_label=severity_label,
                                 category_label=category_label)
