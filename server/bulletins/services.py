"""The month's draft bulletin: compiled from the figures, its narrative kept across
recompilations. A published bulletin never changes."""

from flask_babel import gettext as _

from ..audit import chain
from ..errors import Problem
from ..extensions import db
from ..models import Bulletin
from .figures import MonthFigures, compile_month

SECTIONS = ("基本情况", "存在问题", "整改要求", "下一步工作")


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
    problems = "\n".join(f"{i}. {row['unit']}（{row['site']}）：{row['description']}"
                         for i, row in enumerate(figures.problems, 1)) or "本月未发现问题。"
    return {"基本情况": basics, "存在问题": problems,
            "整改要求": "各责任单位要对照问题清单，在整改时限内整改到位，并由包挂领导督促落实，"
                       "整改情况报督查组。",
            "下一步工作": "督查组将继续采取明察与暗访相结合的方式，对整改情况进行复查。"}


def compile_draft(month: str, actor=None) -> Bulletin:
    """Make or refresh the month's draft: new figures, the compiler's sections kept."""
    bulletin = db.session.scalar(db.select(Bulletin).where(Bulletin.month == month))
    if bulletin is not None and bulletin.status == "published":
        raise Problem(409, _("Already published"),
                      _("The bulletin of %(month)s is published and never changes; "
                        "a correction is a new bulletin.", month=month))
    figures = compile_month(month)
    if bulletin is None:
        bulletin = Bulletin(month=month, title=title_of(month), content={})
        db.session.add(bulletin)
    sections = (bulletin.content or {}).get("sections") or opening(figures)
    bulletin.content = {"figures": figures.as_json(), "sections": sections,
                        "number": (bulletin.content or {}).get("number", "")}
    db.session.flush()
    chain.record("bulletin_compiled", actor=actor, subject=bulletin,
                 detail={"month": month, "findings": figures.headline.findings})
    return bulletin
