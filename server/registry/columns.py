"""Column headers of registry tables: the words accepted for each field, and the table kinds."""

import re
import unicodedata

# Each kind maps its fields to the headers people write, in English and Chinese. Headers
# are compared after `normalise`, so case, spaces, underscores and full-width brackets
# do not matter.
ALIASES = {
    "units": {
        "code": ("code", "unit_code", "编码", "单位编码", "科室编码", "代码", "单位代码"),
        "name": ("name", "unit_name", "名称", "单位名称", "科室名称", "单位", "科室"),
        "leader_name": ("leader_name", "leader", "包挂领导", "负责领导", "分管领导"),
    },
    "sites": {
        "code": ("code", "site_code", "编码", "对象编码", "检查对象编码", "项目编码", "代码"),
        "name": ("name", "site_name", "名称", "对象名称", "检查对象", "项目名称", "工地名称"),
        "kind": ("kind", "type", "site_kind", "类型", "类别", "对象类型"),
        "unit_code": ("unit_code", "unit", "责任单位编码", "单位编码", "责任科室编码",
                      "科室编码", "责任单位"),
        "lat": ("lat", "latitude", "纬度"),
        "lon": ("lon", "lng", "longitude", "经度"),
        "radius_m": ("radius_m", "radius", "半径", "围栏半径", "围栏半径(米)", "半径(米)",
                     "围栏半径(m)", "半径(m)"),
        "address": ("address", "地址", "详细地址"),
    },
    "people": {
        "username": ("username", "user", "login", "用户名", "账号", "帐号", "登录名"),
        "name": ("name", "full_name", "姓名", "名字"),
        "role": ("role", "角色"),
        "unit_code": ("unit_code", "unit", "单位编码", "科室编码", "所属单位编码"),
        "phone": ("phone", "mobile", "电话", "手机", "手机号", "联系电话"),
        "password": ("password", "密码", "初始密码"),
    },
}

REQUIRED = {
    "units": ("code", "name"),
    "sites": ("code", "name", "kind", "unit_code"),
    "people": ("username", "name", "role"),
}

KINDS = ("units", "sites", "people")  # the order they are applied in


def normalise(text: str) -> str:
    """Fold a header or word so that spelling variants compare equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    # A trailing "*" is how many templates mark a required column.
    return re.sub(r"[\s_\-*]+", "", text)


_LOOKUP = {kind: {normalise(alias): field for field, aliases in fields.items()
                  for alias in aliases}
           for kind, fields in ALIASES.items()}


def detect_kind(headers: list[str]) -> str | None:
    """Say which kind of table these headers start: people, sites, units, or None."""
    seen = {normalise(h) for h in headers if h}

    def has(kind: str, *fields: str) -> bool:
        return any(_LOOKUP[kind].get(h) in fields for h in seen)

    if has("people", "username"):
        return "people"
    if has("sites", "lat", "lon", "kind"):
        return "sites"
    if has("units", "code") and has("units", "name"):
        return "units"
    return None


def field_of(kind: str, header: str) -> str | None:
    """The field a header names in a table of this kind, or None for an unknown column."""
    return _LOOKUP[kind].get(normalise(header))


def accepted_headers(kind: str, field: str) -> str:
    """The headers accepted for a field, for messages: "角色 / role"."""
    english, chinese = [], []
    for alias in ALIASES[kind][field]:
        (english if alias.isascii() else chinese).append(alias)
    return " / ".join(chinese[:3] + english[:1])
