"""Agents' reply addresses: what makes an agent's e-mail a public reply, rather than a From line anyone can
write.

An agent's notification mail about a ticket carries `Reply-To: support+a<agent id>-<ref>-<mac>@domain`, where
the mac is an HMAC of the app's secret key over the agent and the ticket. Answering that mail sends the reply to
that address, so a mail whose recipients include the right address for its From agent and its ticket was
written by someone who received the agent's notification. Someone who merely knows the agent's address and the
ticket's reference cannot make one. The address works as long as the secret key is kept; an agent who leaves
is deactivated, which ends it.

Local parts are compared without regard to case (MTAs and mail clients change it), so the mac is base32.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

from portal.services.refs import REF_ALPHABET, REF_PREFIX

SALT = b"mesa.agent-reply-address"
_TAG = re.compile(
    rf"\+a(?P<agent>\d{{1,12}})-(?P<ref>{REF_PREFIX}-[{REF_ALPHABET}]{{4}}-[{REF_ALPHABET}]{{4}})"
    r"-(?P<mac>[a-z2-7]{16})@", re.I)


class ReplyAddresses:
    def __init__(self, secret_key: str, support_address: str) -> None:
        self._key = hmac.new(str(secret_key).encode(), SALT, hashlib.sha256).digest()
        local, _, domain = support_address.rpartition("@")
        self.local, self.domain = local.partition("+")[0], domain

    def for_agent(self, agent_id: int, ref: str) -> str:
        return f"{self.local}+a{agent_id}-{ref.lower()}-{self._mac(agent_id, ref)}@{self.domain}"

    def verifies(self, texts: Iterable[str], *, agent_id: int, ref: str) -> bool:
        """One of these recipient addresses (or header values holding them) is the agent's reply address for
        this ticket."""
        expected = self._mac(agent_id, ref)
        for text in texts:
            for found in _TAG.finditer(text):
                if (int(found.group("agent")) == agent_id and found.group("ref").upper() == ref.upper()
                        and hmac.compare_digest(found.group("mac").lower(), expected)):
                    return True
        return False

    def _mac(self, agent_id: int, ref: str) -> str:
        digest = hmac.new(self._key, f"{agent_id}:{ref.upper()}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:10]).decode().lower()
