"""How every JSON answer is written: with orjson, as the app's JSON provider.

Views return dicts (or lists); Flask hands them to this provider, and so do ``jsonify``
and the problem documents. orjson writes UUIDs, times (RFC 3339 with offset) and dates
itself, and passes pre-encoded JSON (``orjson.Fragment``, the feed's stored records)
through untouched; the standard library is several times slower at a pull's size.
"""

import json
from datetime import date

import orjson
from flask.json.provider import JSONProvider


def _plain(value):
    return value.isoformat() if isinstance(value, date) else str(value)


class OrjsonProvider(JSONProvider):
    def dumps(self, obj, **kwargs) -> str:
        try:
            return orjson.dumps(obj).decode()
        except TypeError:  # an integer beyond 64 bits, which only the standard library writes
            return json.dumps(obj, default=_plain, ensure_ascii=False)

    def loads(self, s, **kwargs):
        return orjson.loads(s)

    def response(self, *args, **kwargs):
        body = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(orjson.dumps(body), mimetype="application/json")


def init_app(app):
    app.json = OrjsonProvider(app)
