"""The month's bulletin: a draft compiled from the figures (its narrative and number kept
across recompilations), edited by the compiler, then published: frozen, its sha256 in the
audit chain. A published bulletin never changes; a correction is a new edition."""

import hashlib
from dataclasses import asdict

from flask import current_app
from flask_babel import gettext as _

from ..audit import chain
from ..errors import Problem
from ..extensions import db
from ..models import Bulletin, utcnow
from .figures import MonthFigures, compile_month
from .scores import unit_scores

SECTIONS = ("基本情况", "存在问题", "整改要求", "下一步工作")
SECTION_CHARS = 20_000
NUMBER_CHARS = 64


def title_of(month: str) -> str:
    year, number = month.split("-")
    return f"关于{year}年{int(number)}月份明察暗访情况的通报"


def opening(figures: MonthFigures) -> dict:
    """The sections as first drafted: the facts in the bulletin's words, for the compiler
    to edit."""
    h, p = figures.headline, figures.previous
    year, number = figures.month.split("-")
    basics = (f"{year}年{int(number)}月，督查组和政风行风监督员共开展明察暗访{h.checks}次"
              f"（明察{h.checks_open}次、暗访{h.checks_covert}次），覆盖单位{h.units_covered}个、"
              f"检查点位{h.sites_covered}处，发现问题{h.findings}个，其中重大问题"
              f"{h.findings_major}个；已整改到位{h.cases_rectified}个，整改率"
              f"{h.rectification_rate:g}%（上月{p.rectification_rate:g}%），逾期未整改"
              f"{h.cases_overdue}个。")
    units = len({row["unit"] for row in figures.problems})
    problems = (f"本月发现问题{h.findings}个，涉及{units}个单位，按责任单位列示如下。"
                if figures.problems else "本月未发现问题。")
    return {"基本情况": basics, "存在问题": problems,
            "整改要求": "各责任单位要对照问题清单，在整改时限内整改到位，并由包挂领导督促落实，"
                       "整改情况报督查组。",
            "下一步工作": "督查组将继续采取明察与暗访相结合的方式，对整改情况进行复查。"}


def latest(month: str) -> Bulletin | None:
    """The month's newest edition."""
    return db.session.scalar(db.select(Bulletin).where(Bulletin.month == month)
                             .order_by(Bulletin.edition.desc()).limit(1))


def default_number(month: str) -> str:
    """The next document number of the year, such as ``X住建督〔2026〕11号``."""
    year = month[:4]
    issued = db.session.scalar(db.select(db.func.count()).select_from(Bulletin).where(
        Bulletin.status == "published", Bulletin.month.like(f"{year}-%")))
    return f"{current_app.config['BULLETIN_NUMBER_PREFIX']}〔{year}〕{issued + 1}号"


def compile_draft(month: str, actor=None, correction: bool = False) -> Bulletin:
    """Make or refresh the month's draft: new figures, the compiler's sections and number
    kept. With ``correction``, a published month gets a new edition to correct it."""
    bulletin = latest(month)
    if bulletin is not None and bulletin.status == "published":
        if not correction:
            raise Problem(409, _("Already published"),
                          _("The bulletin of %(month)s is published and never changes; "
                            "a correction is a new bulletin.", month=month))
        sections = dict(bulletin.content.get("sections") or {})
        bulletin = Bulletin(month=month, edition=bulletin.edition + 1, corrects_id=bulletin.id,
                            title=f"{title_of(month)}（更正）", content={"sections": sections})
        db.session.add(bulletin)
    figures = compile_month(month)
    if bulletin is None:
        bulletin = Bulletin(month=month, title=title_of(month), content={})
        db.session.add(bulletin)
    kept = bulletin.content or {}
    bulletin.content = {"title": bulletin.title, "figures": figures.as_json(),
                        "scores": [asdict(row) for row in unit_scores(month)],
                        "sections": kept.get("sections") or opening(figures),
                        "number": kept.get("number") or default_number(month)}
    db.session.flush()
    chain.record("bulletin_compiled", actor=actor, subject=bulletin,
                 detail={"month": month, "edition": bulletin.edition,
                         "findings": figures.headline.findings})
    return bulletin


def _draft(bulletin: Bulletin):
    if bulletin.status != "draft":
        raise Problem(409, _("Already published"),
                      _("The bulletin of %(month)s is published and never changes; "
                        "a correction is a new bulletin.", month=bulletin.month))


def edit(bulletin: Bulletin, sections: dict, number: str, actor) -> Bulletin:
    """The compiler's words: the four sections and the document number."""
    _draft(bulletin)
    errors = [{"field": f"sections.{name}", "message": _("Unknown section.")}
              for name in sections if name not in SECTIONS]
    errors += [{"field": f"sections.{name}", "message": _("At most %(n)s characters.",
                                                          n=SECTION_CHARS)}
               for name, text in sections.items() if len(text) > SECTION_CHARS]
    if not number.strip() or len(number) > NUMBER_CHARS:
        errors.append({"field": "number", "message": _("A document number is required "
                                                       "(at most %(n)s characters).",
                                                       n=NUMBER_CHARS)})
    if errors:
        raise Problem(422, _("The bulletin was not saved"), _("Correct the fields named."),
                      errors=errors)
    content = dict(bulletin.content)
    content["sections"] = {**content.get("sections", {}), **sections}
    content["number"] = number.strip()
    bulletin.content = content
    chain.record("bulletin_edited", actor=actor, subject=bulletin,
                 detail={"month": bulletin.month, "edition": bulletin.edition,
                         "sections": sorted(sections), "number": content["number"]})
    return bulletin


def content_sha256(content: dict) -> str:
    return hashlib.sha256(chain.canonical(content)).hexdigest()


def publish(bulletin: Bulletin, actor) -> Bulletin:
    """Freeze the draft with the figures as they are now; its sha256 goes into the audit
    chain, so any later change to it shows."""
    _draft(bulletin)
    content = dict(bulletin.content)
    content["figures"] = compile_month(bulletin.month).as_json()
    content["scores"] = [asdict(row) for row in unit_scores(bulletin.month)]
    bulletin.content = content
    bulletin.status, bulletin.published_at = "published", utcnow()
    bulletin.published_by = getattr(actor, "id", None)
    bulletin.content_sha256 = content_sha256(content)
    chain.record("bulletin_published", actor=actor, subject=bulletin,
                 detail={"month": bulletin.month, "edition": bulletin.edition,
                         "number": content.get("number"), "sha256": bulletin.content_sha256})
    return bulletin
