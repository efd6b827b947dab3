"""The words people read for the codes the data uses, in their language."""

from flask import g, has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

ROLE = {"inspector": _l("inspector"), "supervisor": _l("conduct supervisor"),
        "reviewer": _l("reviewer"), "compiler": _l("supervision group lead"),
        "unit": _l("unit contact"), "admin": _l("administrator")}
MODE = {"open": _l("open check"), "covert": _l("unannounced check")}
SEVERITY = {"general": _l("general"), "major": _l("major problem")}
CASE_STATUS = {"open": _l("opened"), "notified": _l("unit notified"),
               "rectifying": _l("rectifying"), "submitted": _l("report submitted"),
               "verified": _l("verified"), "closed": _l("closed"), "reopened": _l("reopened")}
# What the button of a move says, by where it takes the case.
MOVE = {"notified": _l("Notify the unit"), "rectifying": _l("Send back to rectify"),
        "submitted": _l("Submit the report"), "verified": _l("Verified by re-check"),
        "closed": _l("Close the case"), "reopened": _l("Reopen")}
REVIEW_STATE = {"pending": _l("awaiting review"), "accepted": _l("accepted"),
                "needs_info": _l("more needed"), "rejected": _l("rejected")}
EVIDENCE_STATE = {"awaiting_upload": _l("file not yet uploaded"),
                  "processing": _l("processing"), "ready": _l("ready"),
                  "failed": _l("file unreadable")}
GEOFENCE = {"inside": _l("inside the site"), "outside": _l("outside the site"),
            "unknown": _l("place unknown")}
FINDING_STATE = {"pending": _l("awaiting confirmation"), "confirmed": _l("confirmed"),
                 "dismissed": _l("dismissed")}
FLAG = {"outside_geofence": _l("outside the geofence"),
        "outside_check_time": _l("taken outside the check's time"),
        "captured_outside_check": _l("taken outside the check's time"),
        "near_duplicate": _l("near-duplicate"), "clock_off": _l("phone clock off")}
ACTION = {"sign_in": _l("signed in"), "sign_in_failed": _l("sign-in failed"),
          "device_signed_in": _l("phone signed in"), "device_revoked": _l("phone signed out"),
          "devices_revoked": _l("phones revoked"), "password_set": _l("password changed"),
          "unit_created": _l("unit created"), "unit_changed": _l("unit changed"),
          "unit_restored": _l("unit restored"), "unit_deleted": _l("unit deleted"),
          "site_created": _l("site created"), "site_changed": _l("site changed"),
          "site_restored": _l("site restored"), "category_created": _l("category created"),
          "category_changed": _l("category changed"),
          "category_restored": _l("category restored"),
          "registry_imported": _l("registry imported"),
          "user_created": _l("user created"), "user_disabled": _l("user disabled"),
          "user_enabled": _l("user enabled"), "user_changed": _l("user changed"),
          "evidence_reviewed": _l("evidence reviewed"),
          "finding_confirmed": _l("finding confirmed"),
          "finding_dismissed": _l("finding dismissed"), "case_opened": _l("case opened"),
          "finding_published": _l("finding published to the unit"),
          "case_moved": _l("case moved"), "case_overdue": _l("case overdue"),
          "rectification_reported": _l("rectification reported"),
          "original_viewed": _l("original viewed"), "case_packaged": _l("package exported")}


def _label(table):
    """The word for a code in the request's language. A page of fifty rows asks for the
    same few words hundreds of times: each is translated once per request."""
    def label(code) -> str:
        if code is None:
            return ""
        if not has_request_context():
            return str(table.get(code, code))
        said = g.setdefault("_labels", {})
        key = (id(table), code)
        if key not in said:
            said[key] = str(table.get(code, code))
        return said[key]

    return label


role_label, mode_label, severity_label = _label(ROLE), _label(MODE), _label(SEVERITY)
status_label, review_label, state_label = (_label(CASE_STATUS), _label(REVIEW_STATE),
                                           _label(EVIDENCE_STATE))
geofence_label, finding_state_label, flag_label, action_label, move_label = (
    _label(GEOFENCE), _label(FINDING_STATE), _label(FLAG), _label(ACTION), _label(MOVE))


def category_label(category) -> str:
    english = g.setdefault("_english", str(get_locale()) == "en") if has_request_context() \
        else str(get_locale()) == "en"
    return category.name_en if english else category.name_zh


def init_app(app):
    app.jinja_env.globals.update(get_locale=get_locale, role_label=role_label,
                                 mode_label=mode_label, severity_label=severity_label,
                                 category_label=category_label, status_label=status_label,
                                 review_label=review_label, state_label=state_label,
                                 geofence_label=geofence_label, flag_label=flag_label,
                                 finding_state_label=finding_state_label,
                                 action_label=action_label, move_label=move_label)
