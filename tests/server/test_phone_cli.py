"""`manage.py phone`: simulated phones on a faulty network end with no differences."""

from tests.conftest import PASSWORD


def test_phones_with_a_fifth_of_requests_and_responses_lost_end_with_no_differences(
        runner, make, live_server):
    make.site(name="纺织东路道路改造工程")
    accounts = [f"{make.user(role).username}:{PASSWORD}" for role in ("inspector",
                                                                      "supervisor")]
    result = runner.invoke(args=[
        "phone", "--url", live_server, "--phones", "2", "--checks", "3",
        "--drop-requests", "0.2", "--drop-responses", "0.2", "--seed", "7",
        *[arg for account in accounts for arg in ("--account", account)]])
    assert result.exit_code == 0, result.output
    assert "differences: none" in result.output
    assert "6 checks" in result.output


def test_a_wrong_password_is_a_clear_error_not_a_trace(runner, make, live_server):
    make.site()
    user = make.user("inspector").username
    result = runner.invoke(args=["phone", "--url", live_server, "--phones", "1",
                                 "--account", f"{user}:wrong-password"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: 401") and "Traceback" not in result.output
