"""Journey 6, served by gunicorn: the customer's journey with a Spanish browser. Interface, suggestions and
e-mails (the outbox's .eml files) are in Spanish; the agent works in English. With and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import Notification, Ticket
from tests.browser.test_journey_agent import log_in, send_from_composer
from tests.outbox import confirmation_path, outbox_messages, sent_notifications

PASSWORD = "una frase de paso bastante larga"


def outbox_subjects(app, recipient: str) -> list[str]:
    # whitespace normalised: CPython's header folding doubles the space before a folded encoded word
    return [" ".join(str(m["Subject"]).split()) for m in outbox_messages(app, recipient)]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_spanish_customer_gets_everything_in_spanish(javascript, gunicorn_server, open_context, step, app, db,
                                                      agnes):
    base = gunicorn_server
    page = open_context(locale="es-ES", java_script_enabled=javascript).new_page()

    page.goto(base + "/kb")
    expect(page.get_by_role("heading", name="¿Cómo podemos ayudarte?")).to_be_visible()
    page.get_by_label("Buscar en el centro de ayuda").fill("olvidé la contraseña")
    if not javascript:
        page.locator(".kb-search-form").get_by_role("button", name="Buscar").click()
    expect(page.locator("#kb-results .kb-hit-title").first).to_have_text("Cómo restablecer tu contraseña")
    step("busqueda", page)

    page.goto(base + "/register")
    page.get_by_label("Nombre").fill("Lucía Cliente")
    page.get_by_label("Correo electrónico").fill("lucia@example.com")
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.locator("main form").get_by_role("button", name="Crear cuenta").click()
    expect(page.get_by_role("heading", name="Revisa tu correo")).to_be_visible()
    [confirmation] = outbox_messages(app, "lucia@example.com")
    assert " ".join(str(confirmation["Subject"]).split()) == "Confirma tu dirección de correo para Mesa"
    page.goto(base + confirmation_path(confirmation))
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Confirmar y entrar").click()
    expect(page.get_by_text("¡Te damos la bienvenida, Lucía Cliente! Tu cuenta está lista.")).to_be_visible()

    page.goto(base + "/tickets/new")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Contact support")
    page.locator("#subject").press_sequentially("No puedo entrar, olvidé la contraseña", delay=10)
    page.locator("#description").fill("Me pide la contraseña y no la recuerdo.")
    if javascript:
        suggestions = page.locator("#suggestions")
        expect(suggestions.get_by_role("heading", name="Quizá te ayude esto")).to_be_visible()
    else:
        page.locator(".form-actions").get_by_role("button", name="Enviar solicitud").click()
        suggestions = page.locator(".suggestion-step")
        expect(suggestions.get_by_role("heading", name="¿Alguno de estos artículos responde a tu pregunta?")
               ).to_be_visible()
    expect(suggestions.get_by_role("link", name="Cómo restablecer tu contraseña")).to_be_visible()
    expect(suggestions.get_by_role("button", name="Me ha resuelto la duda").first).to_be_visible()
    step("sugerencias", page)
    page.locator(".form-actions button[value=file]").click()
    expect(page.get_by_text("¡Gracias! Hemos registrado tu solicitud")).to_be_visible()
    db.expire_all()
    ticket = db.scalar(select(Ticket))
    assert ticket.language == "es"

    agent = open_context().new_page()
    log_in(agent, base, agnes.email)
    agent.goto(f"{base}/agent/tickets/{ticket.ref}")
    agent.locator("#composer-body").fill("Hola Lucía, ¿te llega el correo de «Olvidé mi contraseña»?")
    send_from_composer(agent, "Pending")
    expect(agent.locator(".msg-agent", has_text="te llega el correo")).to_be_visible()

    page.goto(f"{base}/tickets/{ticket.ref}")
    expect(page.locator(".ticket-header")).to_contain_text("Esperando tu respuesta")
    page.get_by_label("Tu respuesta").fill("No me llega nada.")
    page.get_by_role("button", name="Enviar respuesta").click()
    expect(page.locator(".msg-customer", has_text="No me llega nada.")).to_be_visible()
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Mis solicitudes").click()
    expect(page.locator(".ticket-row", has_text="No puedo entrar")).to_be_visible()
    step("mis-solicitudes", page)

    to_customer = sent_notifications(db, Notification.recipient_email == "lucia@example.com", expected=2)
    # a reply sent as Pending is one e-mail ("we need your reply"), not two
    assert [(n.kind, n.language, n.status) for n in to_customer] == [
        ("ticket_created", "es", "sent"), ("status_pending", "es", "sent")]
    subjects = outbox_subjects(app, "lucia@example.com")
    assert f"[{ticket.ref}] Hemos recibido tu solicitud: No puedo entrar, olvidé la contraseña" in subjects
    assert f"[{ticket.ref}] Necesitamos tu respuesta: No puedo entrar, olvidé la contraseña" in subjects
