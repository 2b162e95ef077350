"""Reset links: signed, expiring, single-use; the clock is passed in, so expiry is tested without waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.clock import utcnow
from portal.services import accounts, password_reset
from portal.services.password_reset import InvalidResetToken, ResetTokens


@pytest.fixture
def tokens() -> ResetTokens:
    return ResetTokens("test-secret-key", max_age=3600)


def test_a_fresh_link_finds_its_user(db, alice, tokens):
    assert tokens.user_for(db, tokens.make(alice), now=utcnow()) == alice


def test_a_link_expires_after_max_age(db, alice, tokens):
    token = tokens.make(alice)
    assert tokens.user_for(db, token, now=utcnow() + timedelta(seconds=3590)) == alice
    with pytest.raises(InvalidResetToken, match="expired"):
        tokens.user_for(db, token, now=utcnow() + timedelta(seconds=3610))


def test_a_link_works_once(db, alice, tokens):
    token = tokens.make(alice)
    older = tokens.make(alice)
    password_reset.reset_password(db, tokens, token, "a fresh new password", now=utcnow())
    for spent in (token, older):
        with pytest.raises(InvalidResetToken, match="already been used"):
            tokens.user_for(db, spent, now=utcnow())
    assert accounts.authenticate(db, alice.email, "a fresh new password") == alice


def test_a_link_signed_with_another_key_or_salt_is_refused(db, alice, tokens):
    for forged in (ResetTokens("another-key", 3600).make(alice), "not.a.token", ""):
        with pytest.raises(InvalidResetToken):
            tokens.user_for(db, forged, now=utcnow())


def test_a_deactivated_account_cannot_use_its_link(db, alice, tokens):
    token = tokens.make(alice)
    alice.active = False
    db.commit()
    with pytest.raises(InvalidResetToken):
        tokens.user_for(db, token, now=utcnow())


def test_the_new_password_follows_the_rules(db, alice, tokens):
    from portal.errors import Invalid

    with pytest.raises(Invalid):
        password_reset.reset_password(db, tokens, tokens.make(alice), "short", now=utcnow())


def test_an_account_made_from_an_email_is_claimed_by_a_reset(db, make, tokens):
    """Mail from an unknown address makes an unverified account without a password; the reset link proves the
    address and sets the first password."""
    carol = make.user(email="carol@example.net", name="Carol")
    carol.verified, carol.password_hash = False, None
    db.commit()
    assert accounts.authenticate(db, carol.email, "carols own password") is None
    password_reset.reset_password(db, tokens, tokens.make(carol), "carols own password", now=utcnow())
    assert carol.verified is True
    assert accounts.authenticate(db, carol.email, "carols own password") == carol
