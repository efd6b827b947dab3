"""The command line: create-user and init-db."""

from server.auth.passwords import verify_password
from server.extensions import db
from server.models import Category, User


def _users():
    return db.session.scalars(db.select(User.username)).all()


def test_create_user_with_unit(runner, make):
    unit = make.unit(code="XZSP", name="行政审批科")
    result = runner.invoke(args=["create-user", "wang", "--role", "unit", "--unit", "XZSP",
                                 "--name", "王芳", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.username == "wang"))
    assert (user.role, user.name, user.unit_id) == ("unit", "王芳", unit.id)
    assert verify_password(user.password_hash, "long-enough-1")


def test_create_user_prompts_for_the_password(runner):
    result = runner.invoke(args=["create-user", "li", "--role", "reviewer"],
                           input="long-enough-1\nlong-enough-1\n")
    assert result.exit_code == 0, result.output
    assert "li" in _users()


def test_create_user_refuses_bad_input_and_changes_nothing(runner, make):
    make.user(username="taken")
    before = sorted(_users())
    cases = [
        (["taken", "--role", "inspector"], "taken"),
        (["new1", "--role", "wizard"], "wizard"),
        (["new2", "--role", "unit"], "--unit"),
        (["new3", "--role", "inspector", "--unit", "NOPE"], "NOPE"),
    ]
    for args, mention in cases:
        result = runner.invoke(args=["create-user", *args, "--password", "long-enough-1"])
        assert result.exit_code == 2, args
        assert mention in result.output, result.output
    short = runner.invoke(args=["create-user", "new4", "--role", "inspector", "--password", "x"])
    assert short.exit_code == 2
    assert sorted(_users()) == before


def test_init_db_is_repeatable_and_seeds_categories_once(runner):
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0
    names = db.session.scalars(db.select(Category.name_zh)).all()
    assert len(names) == len(set(names)) == 11 and "脱岗离岗" in names
