"""Every kind of ticket event reads as a sentence, with a sensible fallback for what no longer exists."""

from __future__ import annotations

import pytest

from portal.models import TicketEvent
from portal.services.timeline_names import TimelineNames
from portal.views.event_text import event_sentence

NAMES = TimelineNames(people={7: "Agnes"}, groups={1: "Billing"}, rules={3: "VIP routing"})


def _event(kind, field=None, old=None, new=None, actor_id=7, rule_id=None):
    return TicketEvent(kind=kind, field=field, old_value=old, new_value=new, actor_id=actor_id, rule_id=rule_id)


@pytest.mark.parametrize(("event", "english", "spanish"), [
    (_event("created"), "Agnes created the ticket", "Agnes creó la solicitud"),
    (_event("status_changed", "status", "open", "pending"), "Agnes changed the status from Open to Pending",
     "Agnes cambió el estado de Abierta a Pendiente"),
    (_event("assigned", "assignee_id", None, "99"), "Agnes assigned it to a deleted user",
     "Agnes se la asignó a un usuario eliminado"),
    (_event("assigned", "assignee_id", "7", None), "Agnes unassigned it", "Agnes la dejó sin asignar"),
    (_event("group_changed", "group_id", None, "1"), "Agnes moved it to Billing", "Agnes la pasó a Billing"),
    (_event("language_changed", "language", "en", "es"), "Agnes changed the language from English to Spanish",
     "Agnes cambió el idioma de Inglés a Español"),
    (_event("tag_added", "tags", None, "vip"), "Agnes added the tag vip", "Agnes añadió la etiqueta vip"),
    (_event("cc_added", "cc", None, "boss@example.com"), "Agnes added boss@example.com in copy",
     "Agnes puso en copia a boss@example.com"),
    (_event("merged_into", "ticket", None, "MSA-AAAA-BBBB"), "Agnes merged this ticket into MSA-AAAA-BBBB",
     "Agnes fusionó esta solicitud en MSA-AAAA-BBBB"),
    (_event("sla_breached", "sla_due_at", None, "2026-01-01T10:00", actor_id=None), "The SLA deadline passed",
     "Se superó el plazo del SLA"),
    (_event("pending_reminder_sent", actor_id=None), "A reminder was sent to the customer",
     "Se envió un recordatorio al cliente"),
    (_event("priority_changed", "priority", "normal", "urgent", actor_id=None),
     "The system changed the priority from Normal to Urgent", "El sistema cambió la prioridad de Normal a Urgente"),
    (_event("priority_changed", "priority", "normal", "high", actor_id=None, rule_id=3),
     "Rule “VIP routing” set the priority to High", "La regla «VIP routing» cambió la prioridad a Alta"),
    (_event("group_changed", "group_id", None, "1", actor_id=None, rule_id=4),
     "Rule “a deleted rule” moved the ticket to the group Billing",
     "La regla «una regla eliminada» pasó la solicitud al grupo Billing"),
    (_event("something_new", "snooze_until", None, "tomorrow", actor_id=12),
     "A deleted user changed snooze until from — to tomorrow",
     "Un usuario eliminado cambió snooze until de — a tomorrow"),
])
def test_each_event_reads_as_a_sentence_in_both_languages(app, event, english, spanish):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert event_sentence(event, NAMES) == english
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert event_sentence(event, NAMES) == spanish
