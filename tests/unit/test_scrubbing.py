"""Personal data scrubbing: each case is (text, what must disappear, the kind reported, what must stay)."""

from __future__ import annotations

import pytest

from portal.services.scrubbing import scrub

NAMES = ["Alice Customer", "Agnes Agent", "Lucía García", "Diego Ruiz"]

ENGLISH = [
    ("Write to alice@example.com please.", "alice@example.com", "email", "Write to"),
    ("CC john.smith+billing@mail.co.uk too", "john.smith+billing@mail.co.uk", "email", "CC"),
    ("Call me on +44 20 7946 0958 today.", "+44 20 7946 0958", "phone", "Call me on"),
    ("My number is +1 (415) 555-0199.", "555-0199", "phone", "My number"),
    ("US line: (212) 555-0147", "555-0147", "phone", "US line"),
    ("Mobile 0044 7700 900123", "7700 900123", "phone", "Mobile"),
    ("The router is at 192.168.1.1 now", "192.168.1.1", "ip", "The router is at"),
    ("Public IP 81.45.203.7 blocked", "81.45.203.7", "ip", "blocked"),
    ("IPv6 2001:db8:85a3::8a2e:370:7334 here", "2001:db8:85a3::8a2e:370:7334", "ip", "here"),
    ("Gateway fe80::1ff:fe23:4567:890a fails", "fe80::1ff:fe23:4567:890a", "ip", "fails"),
    ("Open https://portal.example/reset?token=abc123def456 now", "token=abc123def456", "url", "now"),
    ("Link https://x.example/a?user=1&sig=99ffee", "sig=99ffee", "url", "Link"),
    ("See https://files.example/d/Zx8aQ9mB3kL2pW7nR4tY6uV1 for it", "Zx8aQ9mB3kL2pW7nR4tY6uV1", "url", "for it"),
    ("My account number is 4839201.", "4839201", "reference", "My account number is"),
    ("Order #88812 never arrived", "88812", "reference", "never arrived"),
    ("Invoice no. 2026/00042 is wrong", "2026/00042", "reference", "is wrong"),
    ("Ref INV-2026-0042 attached", "INV-2026-0042", "reference", "attached"),
    ("Client ID: AB-778812", "AB-778812", "reference", "Client ID"),
    ("Pay to GB82 WEST 1234 5698 7654 32 today", "GB82 WEST 1234 5698 7654 32", "iban", "today"),
    ("IBAN DE89370400440532013000", "DE89370400440532013000", "iban", "IBAN"),
    ("I live at 221 Baker Street, London.", "221 Baker Street", "address", "I live at"),
    ("Ship to 42 Elm Road, Apt 3, Springfield", "42 Elm Road", "address", "Ship to"),
    ("Postcode SW1A 1AA is mine", "SW1A 1AA", "address", "is mine"),
    ("Hi Agnes,\nThe TV box reboots.", "Hi Agnes,", "greeting", "The TV box reboots."),
    ("Hello,\nWi-Fi drops at night.", "Hello,", "greeting", "Wi-Fi drops at night."),
    ("Dear Support Team,\nNo signal.", "Dear Support Team", "greeting", "No signal."),
    ("Good morning! The app crashes.", "Good morning!", "greeting", "The app crashes."),
    ("The light is red.\n\nThanks,\nAlice\nAcme Ltd", "Acme Ltd", "signature", "The light is red."),
    ("It works.\n\nKind regards,\nBob", "Kind regards", "signature", "It works."),
    ("Fixed.\n-- \nAlice C.\nSent with love", "Sent with love", "signature", "Fixed."),
    ("Still broken.\nSent from my iPhone", "iPhone", "signature", "Still broken."),
    ("Yes.\n\nOn Mon, 3 Nov 2026 at 10:00, Support <s@x.example> wrote:\n> old", "old", "quote", "Yes."),
    ("New text\n> quoted line\nmore", "quoted line", "quote", "more"),
    ("Yes.\n-----Original Message-----\nFrom: a@b.example\nold stuff", "old stuff", "quote", "Yes."),
    ("Restart the router.\n\nDiego", "Diego", "name", "Restart the router."),
    ("Alice Customer reported it", "Alice Customer", "name", "reported it"),
    ("Agnes fixed the router", "Agnes", "name", "fixed the router"),
]

SPANISH = [
    ("Escríbeme a lucia.garcia@gmail.com por favor", "lucia.garcia@gmail.com", "email", "por favor"),
    ("Correo: pedro_lopez@empresa.es", "pedro_lopez@empresa.es", "email", "Correo"),
    ("Mi móvil es 612 345 678", "612 345 678", "phone", "Mi móvil es"),
    ("Llamadme al 612345678", "612345678", "phone", "Llamadme"),
    ("Fijo 91 123 45 67 por la tarde", "91 123 45 67", "phone", "por la tarde"),
    ("Teléfono +34 612 34 56 78", "612 34 56 78", "phone", "Teléfono"),
    ("Tel. 0034 934 567 890", "934 567 890", "phone", "Tel."),
    ("Mi número: 699-123-456", "699-123-456", "phone", "Mi número"),
    ("La IP del router es 10.0.0.138", "10.0.0.138", "ip", "del router"),
    ("Desde 2a02:9130:8000::1 no carga", "2a02:9130:8000::1", "ip", "no carga"),
    ("Pulsa https://alto.example/activar?codigo=1&code=XYZ987", "XYZ987", "url", "Pulsa"),
    ("El enlace https://portal.example/reset?token=abc123 falla", "token=abc123", "url", "falla"),
    ("Mi IBAN es ES91 2100 0418 4502 0005 1332", "ES91 2100 0418 4502 0005 1332", "iban", "Mi IBAN es"),
    ("Cuenta ES7921000813610123456789 domiciliada", "ES7921000813610123456789", "iban", "domiciliada"),
    ("Mi número de cliente es 55012345", "55012345", "reference", "Mi"),
    ("El pedido 2026-77881 no llegó", "2026-77881", "reference", "no llegó"),
    ("La factura nº FAC-2026-0123 está mal", "FAC-2026-0123", "reference", "está mal"),
    ("Contrato: 00451299 activo", "00451299", "reference", "activo"),
    ("Referencia PED/88123 pendiente", "88123", "reference", "pendiente"),
    ("Vivo en Calle Mayor 12, 3º B", "Calle Mayor 12", "address", "Vivo en"),
    ("Dirección: Avenida de América 45, Madrid", "Avenida de América 45", "address", "Dirección"),
    ("Enviar a C/ Sol 3, bajo", "Sol 3", "address", "Enviar a"),
    ("Código postal 28013 Madrid", "28013 Madrid", "address", "Código postal"),
    ("Paseo de Gracia 92, Barcelona", "Paseo de Gracia 92", "address", ""),
    ("Hola Lucía:\nNo tengo internet.", "Hola Lucía:", "greeting", "No tengo internet."),
    ("Buenos días,\nEl router parpadea.", "Buenos días,", "greeting", "El router parpadea."),
    ("Buenas tardes, la tele no va.", "Buenas tardes,", "greeting", "tele no va."),
    ("Estimado equipo:\nSin señal.", "Estimado equipo:", "greeting", "Sin señal."),
    ("Ya funciona.\n\nUn saludo,\nLucía\nAlto Fibra", "Alto Fibra", "signature", "Ya funciona."),
    ("Resuelto.\n\nMuchas gracias\nPedro", "Pedro", "signature", "Resuelto."),
    ("Sigue igual.\nEnviado desde mi Android", "Android", "signature", "Sigue igual."),
    ("Vale.\n\nEl lun, 3 nov 2026 a las 10:00, Soporte <s@x.example> escribió:\n> antes", "antes", "quote", "Vale."),
    ("Texto nuevo\n> línea citada\nmás", "línea citada", "quote", "más"),
    ("Hola, Lucía:\nNecesitamos su DNI.", "Lucía", "greeting", "Necesitamos su DNI."),
    ("Lucía García llamó ayer", "Lucía García", "name", "llamó ayer"),
    ("Lucia dice que va lento", "Lucia", "name", "dice que va lento"),
    ("Diego reinició el router", "Diego", "name", "reinició el router"),
]


def _check(text, gone, kind, kept):
    result = scrub(text, names=NAMES)
    assert gone not in result.text, result
    assert kind in result.kinds(), result.removed
    assert any(gone in item.original or item.original in gone for item in result.removed if item.kind == kind)
    assert kept in result.text


@pytest.mark.parametrize(("text", "gone", "kind", "kept"), ENGLISH, ids=[case[0][:30] for case in ENGLISH])
def test_english(text, gone, kind, kept):
    _check(text, gone, kind, kept)


@pytest.mark.parametrize(("text", "gone", "kind", "kept"), SPANISH, ids=[case[0][:30] for case in SPANISH])
def test_spanish(text, gone, kind, kept):
    _check(text, gone, kind, kept)


@pytest.mark.parametrize("text", [
    "Update to firmware 2.4.1 and restart.",
    "On 2026-11-23 at 12:30 the outage ended.",
    "Wait 30 seconds, then press the WPS button for 5 seconds.",
    "Visit https://www.altofibra.example/help/router for the manual.",
    "Actualiza a la versión 3.10 y espera 2 minutos.",
    "El 23/11/2026 se resolvió la incidencia de las 14:05.",
    "Use port 8080 and channel 11 on the 5 GHz band.",
])
def test_ordinary_support_text_is_left_alone(text):
    result = scrub(text, names=NAMES)
    assert result.text == text and result.removed == []


def test_everything_removed_is_listed_in_order_of_kinds():
    result = scrub("Hi Agnes,\nMy IP is 10.1.2.3 and mail a@b.example.\n\nThanks,\nAlice", names=NAMES)
    assert result.text == "My IP is [IP address] and mail [email]."
    assert {item.kind for item in result.removed} == {"greeting", "ip", "email", "signature"}
