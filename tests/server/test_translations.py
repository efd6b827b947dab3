"""Chinese first: every string people read has a checked Chinese translation.

A string added to the sources without a translation fails here, by name. To fix: run
`make catalog`, translate the new entries in the .po, then `make translations`.
"""

import re
from functools import cache
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask_babel import gettext, ngettext

from server import create_app

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "server" / "translations"
PO = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
# The keywords of `pybabel extract -k _l -k lazy_gettext`: babel's defaults plus the lazy ones.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[sdifr]")


@cache
def catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="zh")


def _texts(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, list | tuple) else (value,)


def _name(message) -> str:
    return " / ".join(_texts(message.id))


def _placeholders(texts) -> set[str]:
    return {name for text in texts for name in PLACEHOLDER.findall(text)}


def _messages():
    return [m for m in catalog() if m.id]


def test_every_message_is_translated_and_checked():
    messages = _messages()
    assert messages, f"{PO} holds no messages"
    untranslated = [_name(m) for m in messages if not all(s.strip() for s in _texts(m.string))]
    fuzzy = [_name(m) for m in messages if m.fuzzy]
    problems = [f"not translated: {name}" for name in untranslated]
    problems += [f"fuzzy (check it, then drop the flag): {name}" for name in fuzzy]
    assert not problems, f"{PO.relative_to(ROOT)}:\n  " + "\n  ".join(problems)


def test_translations_keep_the_placeholders():
    wrong = []
    for m in _messages():
        expected = _placeholders(_texts(m.id))
        for text in _texts(m.string):
            if _placeholders([text]) != expected:
                wrong.append(f"{_name(m)!r} -> {text!r}")
    assert not wrong, "placeholders differ:\n  " + "\n  ".join(wrong)


def test_every_string_in_the_sources_is_in_the_catalog():
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")

    def only_server(dirpath: str) -> bool:
        # The mapping only matches server/**; skip walking the rest of the tree.
        rel = Path(dirpath).relative_to(ROOT).parts
        return not rel or (rel[0] == "server" and not any(p.startswith((".", "_")) for p in rel))

    cat = catalog()
    extracted, missing = 0, {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            directory_filter=only_server):
        msgid = _texts(message)[0]
        if not msgid:
            continue
        extracted += 1
        if cat.get(msgid, context) is None:
            missing.setdefault(msgid, f"{filename}:{lineno}")
    assert extracted, "no strings were extracted; does babel.cfg still match the sources?"
    listed = "\n  ".join(f"{text!r} ({where})" for text, where in sorted(missing.items()))
    assert not missing, f"strings missing from the Chinese catalog (extract, update, " \
        f"translate):\n  {listed}"


def test_the_compiled_catalog_is_current():
    assert MO.exists(), f"{MO} is missing; run `make translations`"
    with MO.open("rb") as f:
        compiled = read_mo(f)
    stale = [_name(m) for m in _messages()
             if compiled.get(_texts(m.id)[0], m.context) is None
             or _texts(compiled.get(_texts(m.id)[0], m.context).string) != _texts(m.string)]
    assert not stale, "messages.mo is out of date; run `make translations`:\n  " + \
        "\n  ".join(stale)


def test_the_app_answers_from_the_chinese_catalog(tmp_path, monkeypatch):
    """Babel calls zh_CN zh_Hans_CN, whose catalog gettext finds under translations/zh."""
    monkeypatch.delenv("MINGCHA_LOCALE", raising=False)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "REDIS_URL": None,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.db'}",
                      "INSTANCE_DIR": str(tmp_path), "MEDIA_ROOT": str(tmp_path / "media")})
    plural = ("Nothing was imported: %(num)d problem.", "Nothing was imported: %(num)d problems.")
    expected = catalog().get(plural[0]).string[0] % {"num": 3}
    with app.test_request_context("/"):
        assert gettext("Not found") == "未找到"
        assert ngettext(*plural, 3) == expected
    with app.app_context():  # the command line
        assert gettext("Sign out") == "退出"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert gettext("Not found") == "Not found"
