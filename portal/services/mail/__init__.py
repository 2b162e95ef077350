"""E-mail, both ways. No Flask here: the templates are rendered in `portal/views/mailer.py`.

- `outgoing`: build a message with safe headers and send it over SMTP or into the outbox folder.
- `inbound`: what one incoming message becomes (a ticket, a reply, a follow-up, a bounce, nothing); `ingest`.
- `parsing`: read an incoming message's bytes: references, text, files, and whether it is automatic mail.
- `headers`: read the headers that decide something, strictly: the sender, DMARC, our recipient addresses.
- `reply_addresses`: agents' signed reply addresses, which make an agent's e-mail a public reply.
- `links`: root-relative site links (`/kb/...`) made absolute on the public address, so they work in a mail client.
"""
