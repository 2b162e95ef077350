"""`flask --app app users create`: how agents and admins get their first account."""

from __future__ import annotations

from tests.conftest import login


class Person:
    def __init__(self, email: str) -> None:
        self.email = email


def test_create_agent_prompts_for_the_password_twice(runner, client):
    result = runner.invoke(
        args=["users", "create", "--role", "agent", "--email", "Pilar@Example.com", "--name", "Pilar Agent"],
        input="pilars secret password\npilars secret password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created agent pilar@example.com." in result.output
    assert "pilars secret password" not in result.output  # the prompt hides the input
    login(client, Person("pilar@example.com"), "pilars secret password")
    assert "Pilar Agent" in client.get("/").text


def test_create_refuses_a_taken_email_and_a_short_password(runner, alice):
    taken = runner.invoke(args=["users", "create", "--email", "alice@example.com", "--name", "Other"],
                          input="long enough password\nlong enough password\n")
    assert taken.exit_code != 0 and "already exists" in taken.output
    short = runner.invoke(args=["users", "create", "--email", "new@example.com", "--name", "New"],
                          input="short\nshort\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.output


def test_mismatched_confirmation_asks_again(runner, client):
    result = runner.invoke(
        args=["users", "create", "--role", "admin", "--email", "root@example.com", "--name", "Root"],
        input="first attempt pw\nsecond attempt pw\nthe real password\nthe real password\n",
    )
    assert result.exit_code == 0, result.output
    login(client, Person("root@example.com"), "the real password")
    assert client.get("/admin/").status_code == 200
