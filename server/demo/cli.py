"""`python manage.py demo`: load the demo bureau and print its accounts."""

import sys
import time
import unicodedata

import click
from flask.cli import with_appcontext
from flask_babel import force_locale

from ..extensions import db
from ..labels import role_label
from . import data, recordings, services
from .bulletin import make_files


@click.command("demo")
@click.option("--password", default=data.PASSWORD, show_default=True,
              help="the one password of every demo account (at least 8 characters)")
@with_appcontext
def demo(password):
    """Load the demo bureau, a month of checks, evidence and cases (run after init-db),
    and print the demo accounts."""
    if services.is_loaded():
        click.echo("演示数据已存在，未重复载入。(demo data already loaded)")
        _print_accounts(password if services.password_matches(password) else None)
        return
    taken = services.conflicts()
    if taken:
        click.echo("error: the database already holds records the demo would add: "
                   + ", ".join(taken) + "; load the demo into an empty database.", err=True)
        sys.exit(2)
    if len(password) < 8:
        click.echo("error: the password must have at least 8 characters", err=True)
        sys.exit(2)
    if not recordings.available():
        click.echo("未找到 ffmpeg，演示证据只有照片。(ffmpeg not found: photos only)")
    started = time.monotonic()
    counts = services.load_demo(password, media=True)
    db.session.commit()
    made = make_files(counts["bulletin"])  # the published bulletin's PDF, DOCX and XLSX
    click.echo(f"已载入演示单位（{time.monotonic() - started:.1f} 秒）："
               f"{counts['units']} 个单位、{counts['sites']} 个检查对象、{counts['users']} 个账号、"
               f"{counts['plans']} 项督查计划、{counts['checks']} 次检查、"
               f"{counts['findings']} 个问题（已通报 {counts['published']} 个，"
               f"整改事项 {counts['cases']} 件）、证据 {counts['evidence'].total()} 份"
               f"（照片 {counts['evidence']['photo']}、录音 {counts['evidence']['audio']}、"
               f"视频 {counts['evidence']['video']}，待审核 {counts['pending']}）")
    bulletin = counts["bulletin"]
    click.echo(f"已发布 {bulletin.month} 月末通报 {bulletin.content['number']}"
               f"（文件{'已生成' if made == 'ran' else '生成中'}），见 /bulletins")
    click.echo(f"暗访计划均由双随机抽取（{len(counts['draws'])} 次抽签，见 /plans），"
               "每次均可复核：")
    for drawn in counts["draws"]:
        click.echo(f"  {drawn.period:<8}  {len(drawn.result):>2} 项  "
                   f"manage.py plans redraw-check {drawn.id}")
    _print_accounts(password)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _print_accounts(password: str | None):
    units = {code: name for code, name, _leader in data.UNITS}
    rows = [("账号 username", "角色 role", "姓名 name", "单位/职务 unit")]
    with force_locale("zh_CN"):  # the table is bilingual: the code, then its Chinese name
        rows += [(username, f"{role} {role_label(role)}", name, units[unit] if unit else post)
                 for username, role, name, unit, post in data.accounts()]
    widths = [max(_width(row[i]) for row in rows) for i in range(3)]
    click.echo("\n演示账号 demo accounts")
    for row in rows:
        click.echo("  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=False))
                   + "  " + row[3])
    if password is None:
        click.echo("\n密码 password: 载入演示数据时设定的密码（与 --password 不符）"
                   "(the one given when the demo was loaded)")
    else:
        click.echo(f"\n统一密码 password (all accounts): {password}")
