"""Templates' url_for remembers the URLs it built, and still answers exactly what Flask's url_for would: per
script root, per value, and external URLs always for the request's own host."""

from __future__ import annotations

from flask import url_for

from portal.extensions import remembered_url_for


def test_remembered_urls_are_flasks_urls(app):
    cases = [("agent.queue", {}), ("agent.queue", {"view": "mine", "sort": "sla"}), ("agent.queue", {"view": "open"}),
             ("agent.workspace", {"ref": "MESA-7Q2K"}), ("agent.workspace", {"ref": "MESA-8R3L"}),
             ("static", {"filename": "portal.css"})]
    for script_root in ("", "/mesa"):
        with app.test_request_context("/", base_url=f"http://localhost{script_root}"):
            for _ in range(2):
                for endpoint, values in cases:
                    assert remembered_url_for(endpoint, **values) == url_for(endpoint, **values)
            assert remembered_url_for("agent.queue").startswith(f"{script_root}/agent")
    for host in ("help.example.com", "support.example.org"):
        with app.test_request_context("/", base_url=f"https://{host}"):
            assert remembered_url_for("agent.queue", _external=True) == f"https://{host}/agent"
