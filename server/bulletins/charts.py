"""The bulletin's charts, drawn by matplotlib with a CJK font: findings by unit and by
category, general and major stacked. PNG bytes, to embed."""

import io
import shutil
import subprocess
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")  # no display: draw to files only

from matplotlib import pyplot  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402

GENERAL, MAJOR = "#9aa5b1", "#b3261e"


@lru_cache(maxsize=1)
def cjk_font() -> FontProperties | None:
    """Noto Sans CJK SC as fontconfig finds it (Debian's fonts-noto-cjk)."""
    tool = shutil.which("fc-match")
    if tool is None:
        return None
    try:
        # A fixed argument list, no shell, no input from anyone.
        found = subprocess.run([tool, "-f", "%{file}", "Noto Sans CJK SC:style=Regular"],  # noqa: S603
                               capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return FontProperties(fname=found) if "CJK" in found else None


def bar_chart(rows: list[dict], title: str) -> bytes:
    """Horizontal bars, one per row (``name``, ``general``, ``major``), largest on top."""
    rows = rows[:15][::-1]
    font = cjk_font()
    height = max(1.6, 0.42 * len(rows) + 0.9)
    figure, axes = pyplot.subplots(figsize=(6.2, height), dpi=150)
    names = [r["name"] for r in rows]
    general = [r["general"] for r in rows]
    axes.barh(names, general, color=GENERAL, label="一般问题")
    axes.barh(names, [r["major"] for r in rows], left=general, color=MAJOR, label="重大问题")
    axes.set_title(title, fontproperties=font, fontsize=12)
    for label in axes.get_yticklabels():
        label.set_fontproperties(font)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.legend(prop=font, loc="lower right", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    pyplot.close(figure)
    return out.getvalue()
