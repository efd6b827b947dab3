"""Unbound Flask extensions; ``create_app`` binds them."""

import orjson
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData

# Named constraints keep migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _json_text(value) -> str:
    return orjson.dumps(value).decode()


# JSON columns (records' locations, the feed's data) are written and read by orjson: the
# feed writes one document per change, and the standard library is several times slower.
db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING),
                engine_options={"json_serializer": _json_text, "json_deserializer": orjson.loads})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
