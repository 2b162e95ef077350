"""The macros the demo ships (issue 18): four shared ones an agent of a fibre provider uses every day, so a new
installation shows what a macro does: three bundles of changes and a reply, and one ready answer alone (what a
canned response was: the composer inserts it at once). Added with the demo's groups, on its first load only, so
an admin who edits or deletes them keeps their choice on every `make run`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.demo.people import BILLING
from portal.models import Group, User
from portal.services import macros

ROUTER_LIGHTS_EN = """Hi {{ requester.name }},

To find out what is wrong with the line, could you tell us which lights on your router are on, and their colour
(green, orange or red, steady or blinking)? A photo works too.

Thanks!"""
ROUTER_LIGHTS_ES = """Hola, {{ requester.name }}:

Para saber qué le pasa a la línea, ¿nos dices qué luces del router están encendidas y de qué color (verde,
naranja o roja, fija o parpadeando)? También nos vale una foto.

¡Gracias!"""
LINE_FIXED_EN = """Hi {{ requester.name }},

Our engineers have fixed the fault on your line ({{ ticket.ref }}). Please restart your router once; if the
connection is not back within ten minutes, just reply to this message and we will look again."""
LINE_FIXED_ES = """Hola, {{ requester.name }}:

Nuestros técnicos han reparado la avería de tu línea ({{ ticket.ref }}). Reinicia el router una vez; si la
conexión no vuelve en diez minutos, responde a este mensaje y lo revisamos de nuevo."""

RESTART_EN = """Hi {{ requester.name }},

Please unplug the router for ten seconds and plug it back in, then wait two minutes. Does the connection come
back?"""
RESTART_ES = """Hola, {{ requester.name }}:

Desenchufa el router diez segundos, vuelve a enchufarlo y espera dos minutos. ¿Vuelve la conexión?"""


def ensure_macros(session: Session, *, now: datetime) -> int:
    """Add the demo's shared macros; returns how many it added."""
    admin = session.scalar(select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id))
    billing = session.scalar(select(Group).where(Group.name == BILLING))
    if admin is None or billing is None:
        return 0
    bundles = [
        ("Ask for the router lights", ROUTER_LIGHTS_EN, ROUTER_LIGHTS_ES, [{"type": "set_status", "value": "pending"}]),
        ("Line fixed: solve", LINE_FIXED_EN, LINE_FIXED_ES, [{"type": "set_status", "value": "solved"}]),
        ("Hand over to Billing", "", "", [{"type": "set_group", "value": billing.id},
                                          {"type": "add_tags", "value": ["billing"]},
                                          {"type": "add_note", "body": "Handed over to Billing: a question about "
                                                                          "an invoice or a payment."}]),
        ("Restart the router", RESTART_EN, RESTART_ES, []),
    ]
    for title, body_en, body_es, actions in bundles:
        macros.save(session, None, title=title, body_en=body_en, body_es=body_es, shared=True, actions=actions,
                    actor=admin, now=now)
    return len(bundles)
