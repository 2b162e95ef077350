"""Forwarded headers are believed only from the proxies the operator declared (`PORTAL_TRUSTED_PROXIES`).

Served directly, a client that writes `X-Forwarded-For` itself must not get a fresh rate-limit bucket, and one
that writes `X-Forwarded-Proto: https` must not be treated as HTTPS. Behind one declared proxy, the client's own
address keys the limits (so one abuser behind the proxy does not lock everybody out) and HTTPS is recognised."""

from __future__ import annotations

import pytest

PROXY = "10.0.0.5"


def guess(client, n: int, forwarded_for: str, proto: str = "http"):
    return client.post(
        "/login",
        data={"email": f"victim{n}@example.com", "password": "wrong-password-1"},
        headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": proto},
        environ_base={"REMOTE_ADDR": PROXY},
    )


class TestServedDirectly:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "LOGIN_RATE_LIMIT": "5 per minute"}

    def test_a_forged_forwarded_for_does_not_escape_the_limit(self, app):
        client = app.test_client()
        answers = [guess(client, n, forwarded_for=f"198.51.100.{n}").status_code for n in range(6)]
        assert answers == [422] * 5 + [429]

    def test_a_forged_forwarded_proto_gets_no_https_treatment(self, app):
        answer = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in answer.headers
        assert "Secure" not in answer.headers.get("Set-Cookie", "")


class TestBehindOneProxy:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "LOGIN_RATE_LIMIT": "5 per minute", "TRUSTED_PROXIES": 1}

    def test_each_client_behind_the_proxy_has_its_own_limit(self, app):
        client = app.test_client()
        abuser = [guess(client, n, forwarded_for="203.0.113.66").status_code for n in range(6)]
        assert abuser == [422] * 5 + [429]
        # Another customer behind the same proxy is not locked out by the abuser.
        assert guess(client, 99, forwarded_for="203.0.113.77").status_code == 422

    def test_only_the_last_hop_is_believed(self, app):
        """A client can prepend any address to X-Forwarded-For; the proxy appends the real one, and only that
        one counts."""
        client = app.test_client()
        answers = [guess(client, n, forwarded_for=f"192.0.2.{n}, 203.0.113.66").status_code for n in range(6)]
        assert answers == [422] * 5 + [429]

    def test_https_at_the_proxy_is_https_to_mesa(self, app):
        answer = app.test_client().post(
            "/login",
            data={"email": "nobody@example.com", "password": "x"},
            headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
            environ_base={"REMOTE_ADDR": PROXY},
        )
        assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
        cookies = answer.headers.getlist("Set-Cookie")
        assert cookies and all("Secure" in cookie for cookie in cookies)
