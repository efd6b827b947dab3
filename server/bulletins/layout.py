"""What the PDF and the Word document say alike: the headings' numerals, the problems
grouped by unit, and the photos as numbered figures of an annex (附件) after the
signature, two to a row, each problem's line pointing at its figure."""

from dataclasses import dataclass

DIGITS = "一二三四五六七八九"


def chinese(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 35 → 三十五 (1 to 99)."""
    tens, ones = divmod(n, 10)
    head = ("" if tens == 1 else DIGITS[tens - 1]) + "十" if tens else ""
    return head + (DIGITS[ones - 1] if ones else "")


@dataclass(frozen=True)
class Problem:
    finding_id: str
    line: str  # as the body prints it
    figure: int | None  # its photo's number in the annex
    caption: str


def problems_by_unit(problems: list[dict], photos) -> list[tuple[str, list[Problem]]]:
    """The month's problems by unit, in the compiled order; ``photos`` holds the finding
    ids that have a photo, numbered 图1, 图2 … in the order they are read."""
    grouped: dict[str, list[dict]] = {}
    for p in problems:
        grouped.setdefault(p["unit"], []).append(p)
    units, count = [], 0
    for unit, rows in grouped.items():
        listed = []
        for p in rows:
            figure = None
            if p["finding_id"] in photos:
                count += 1
                figure = count
            line = f"{p['date']}，{p['site']}：{p['description']}"
            line += "（重大问题）" if p["severity"] == "major" else ""
            line += f"（见附件图{figure}）" if figure else ""
            caption = f"图{figure}　{unit}　{p['date']}　{p['site']}" if figure else ""
            listed.append(Problem(p["finding_id"], line, figure, caption))
        units.append((unit, listed))
    return units


def annex(units: list[tuple[str, list[Problem]]]) -> list[Problem]:
    """The annex's figures in their order."""
    return [p for _unit, problems in units for p in problems if p.figure]
