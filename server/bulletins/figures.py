"""A month's figures, as the bulletin states them, read from the database.

A month is counted in the bureau's time zone. Only confirmed findings count (a finding
waiting for review or dismissed is no problem yet). A check appears by its date and site
only: never its plan or its time of day, so an unannounced check's timing goes no further
than the bureau publishes.
"""

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..cases.states import is_overdue
from ..extensions import db
from ..models import Case, Check, Evidence, Finding
from ..zone import bureau_today, bureau_zone, month_bounds

RECTIFIED = ("verified", "closed")


@dataclass
class Headline:
    """The figures compared month on month."""

    checks_open: int = 0
    checks_covert: int = 0
    units_covered: int = 0
    sites_covered: int = 0
    findings: int = 0
    findings_major: int = 0
    cases_rectified: int = 0
    cases_open: int = 0
    cases_overdue: int = 0

    @property
    def checks(self) -> int:
        return self.checks_open + self.checks_covert

    @property
    def rectification_rate(self) -> float:
        """Rectified cases out of all the month's cases, in percent (one decimal)."""
        total = self.cases_rectified + self.cases_open
        return round(100 * self.cases_rectified / total, 1) if total else 0.0


@dataclass
class MonthFigures:
    month: str
    headline: Headline
    previous: Headline
    by_category: list[dict] = field(default_factory=list)  # code, name, general, major
    by_unit: list[dict] = field(default_factory=list)  # code, name, general, major
    problems: list[dict] = field(default_factory=list)
    ineligible: list[dict] = field(default_factory=list)  # unit, finding_id, why

    def as_json(self) -> dict:
        data = asdict(self)
        for key in ("headline", "previous"):
            figures = getattr(self, key)
            data[key] |= {"checks": figures.checks,
                          "rectification_rate": figures.rectification_rate}
        return data


def previous_month(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02}"


def _checks(month: str) -> list[Check]:
    first, after = month_bounds(month)
    return db.session.scalars(
        sa.select(Check).options(joinedload(Check.site))
        .where(Check.started_at >= first, Check.started_at < after,
               Check.deleted_at.is_(None))).all()


def _findings(month: str) -> list[Finding]:
    first, after = month_bounds(month)
    return db.session.scalars(
        sa.select(Finding).join(Check, Finding.check_id == Check.id)
        .options(joinedload(Finding.check).joinedload(Check.site),
                 joinedload(Finding.category), joinedload(Finding.unit))
        .where(Finding.state == "confirmed", Finding.deleted_at.is_(None),
               Check.deleted_at.is_(None), Check.started_at >= first,
               Check.started_at < after)
        .order_by(Check.started_at, Finding.created_at)).unique().all()


def _cases(findings: list[Finding]) -> dict:
    ids = [f.id for f in findings]
    if not ids:
        return {}
    return {c.finding_id: c for c in db.session.scalars(
        sa.select(Case).where(Case.finding_id.in_(ids), Case.deleted_at.is_(None)))}


def _headline(month: str, today: date) -> tuple[Headline, list[Finding], dict]:
    checks = _checks(month)
    findings = _findings(month)
    cases = _cases(findings)
    modes = Counter(c.mode for c in checks)
    figures = Headline(
        checks_open=modes["open"], checks_covert=modes["covert"],
        sites_covered=len({c.site_id for c in checks}),
        units_covered=len({c.site.unit_id for c in checks if c.site.unit_id}),
        findings=len(findings), findings_major=sum(f.severity == "major" for f in findings),
        cases_rectified=sum(c.status in RECTIFIED for c in cases.values()),
        cases_open=sum(c.status not in RECTIFIED for c in cases.values()),
        cases_overdue=sum(c.overdue or is_overdue(c, today) for c in cases.values()))
    return figures, findings, cases


def _photos(findings: list[Finding]) -> dict:
    """One accepted photo of each finding: the first taken."""
    ids = [f.id for f in findings]
    if not ids:
        return {}
    chosen = {}
    for evidence in db.session.scalars(
            sa.select(Evidence).where(Evidence.finding_id.in_(ids), Evidence.kind == "photo",
                                      Evidence.review_state == "accepted",
                                      Evidence.state == "ready", Evidence.deleted_at.is_(None))
            .order_by(Evidence.captured_at, Evidence.created_at)):
        chosen.setdefault(evidence.finding_id, evidence.id)
    return chosen


def _tally(findings: list[Finding], key) -> list[dict]:
    rows: dict = {}
    for f in findings:
        code, name = key(f)
        row = rows.setdefault(code, {"code": code, "name": name, "general": 0, "major": 0})
        row[f.severity] += 1
    return sorted(rows.values(), key=lambda r: (-(r["general"] + r["major"]), r["code"]))


def _problem(f: Finding, case: Case | None, photo, today: date) -> dict:
    day = f.check.started_at.astimezone(bureau_zone()).date()
    return {"finding_id": str(f.id), "date": day.isoformat(), "unit": f.unit.name,
            "unit_code": f.unit.code, "site": f.check.site.name,
            "category": f.category.name_zh, "category_code": f.category.code,
            "severity": f.severity, "description": f.description,
            "case_status": case.status if case else None,
            "overdue": bool(case and (case.overdue or is_overdue(case, today))),
            "deadline": case.deadline.isoformat() if case else None,
            "leader": case.leader_name if case else None,
            "photo_id": str(photo) if photo else None}


def _ineligible(month: str) -> list[dict]:
    """Units with a confirmed major problem this year up to the month's end: each with the
    first such finding, which cost it the year's awards."""
    year = month[:4]
    first, _after = month_bounds(f"{year}-01")
    _first, after = month_bounds(month)
    rows = db.session.execute(
        sa.select(Finding, Check.started_at).join(Check, Finding.check_id == Check.id)
        .options(joinedload(Finding.unit), joinedload(Finding.category))
        .where(Finding.state == "confirmed", Finding.severity == "major",
               Finding.deleted_at.is_(None), Check.deleted_at.is_(None),
               Check.started_at >= first, Check.started_at < after)
        .order_by(Check.started_at)).all()
    out: dict = {}
    for finding, started in rows:
        out.setdefault(finding.unit_id, {
            "unit": finding.unit.name, "unit_code": finding.unit.code,
            "finding_id": str(finding.id),
            "date": started.astimezone(bureau_zone()).date().isoformat(),
            "why": f"{finding.category.name_zh}：{finding.description}"})
    return sorted(out.values(), key=lambda r: r["date"])


def compile_month(month: str, today: date | None = None) -> MonthFigures:
    """Every figure of the month's bulletin, and the month before's headline."""
    today = today or bureau_today()
    headline, findings, cases = _headline(month, today)
    previous, _f, _c = _headline(previous_month(month), today)
    photos = _photos(findings)
    return MonthFigures(
        month=month, headline=headline, previous=previous,
        by_category=_tally(findings, lambda f: (f.category.code, f.category.name_zh)),
        by_unit=_tally(findings, lambda f: (f.unit.code, f.unit.name)),
        problems=[_problem(f, cases.get(f.id), photos.get(f.id), today) for f in findings],
        ineligible=_ineligible(month))
