"""Words for synthetic tickets: topics with subjects and short bodies in English and Spanish, and names.

Bodies are put together from a few fragments, so a hundred thousand tickets do not all read the same
and full-text search has something to chew on.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.demo.people import BILLING, TIER_1, TIER_2, TIER_3

PLANS = ("Fibra 300", "Fibra 600", "Fibra 1G", "Mobile S", "Mobile M", "Mobile L")
ROUTER = "Alto Home Router AX3000"


@dataclass(frozen=True)
class Topic:
    """A kind of problem: who handles it first, where it goes when it is hard, what people say about it."""

    key: str
    weight: int
    group: str
    escalates_to: str | None
    tags: tuple[str, ...]
    subjects: dict[str, tuple[str, ...]]
    problems: dict[str, tuple[str, ...]]
    answers: dict[str, tuple[str, ...]]


TOPICS = (
    Topic("wifi", 14, TIER_1, TIER_2, ("wifi", "router"),
          {"en": ("Wi-Fi keeps dropping", "Weak Wi-Fi upstairs", "Wi-Fi slow in the evening"),
           "es": ("El WiFi se corta", "WiFi débil en la planta de arriba", "WiFi lento por la noche")},
          {"en": ("The Wi-Fi drops several times a day.", "Devices in the bedroom barely get a signal.",
                  f"My {ROUTER} loses Wi-Fi after a few hours."),
           "es": ("El WiFi se corta varias veces al día.", "En el dormitorio apenas llega la señal.",
                  f"El {ROUTER} pierde el WiFi al cabo de unas horas.")},
          {"en": ("Please try the 5 GHz network and keep the router in the open.",
                  "I have changed your Wi-Fi channel remotely."),
           "es": ("Pruebe la red de 5 GHz y deje el router a la vista.",
                  "Hemos cambiado el canal de su WiFi a distancia.")}),
    Topic("speed", 12, TIER_1, TIER_2, ("speed",),
          {"en": ("Slow speed on {plan}", "Speed test far below {plan}"),
           "es": ("Velocidad baja con {plan}", "El test de velocidad no llega a {plan}")},
          {"en": ("Speed tests give a third of what I pay for.", "Downloads crawl since last week."),
           "es": ("Los test de velocidad dan un tercio de lo contratado.", "Las descargas van lentísimas.")},
          {"en": ("Please test by cable on LAN 1 and send us the result.",
                  "Your line profile was out of date; it is fixed now."),
           "es": ("Haga el test por cable en el LAN 1 y envíenos el resultado.",
                  "El perfil de su línea estaba desactualizado; ya está corregido.")}),
    Topic("outage", 8, TIER_1, TIER_3, ("outage", "fibre"),
          {"en": ("No internet since this morning", "Red LOS light on the router"),
           "es": ("Sin internet desde esta mañana", "Luz LOS roja en el router")},
          {"en": ("Nothing works, the LOS light is red.", "The whole street seems to be down."),
           "es": ("No funciona nada, la luz LOS está roja.", "Parece que toda la calle está sin servicio.")},
          {"en": ("Our network team is on it; we will update you today.",
                  "A technician will visit you tomorrow morning."),
           "es": ("El equipo de red ya lo está revisando; le avisaremos hoy.",
                  "Un técnico le visitará mañana por la mañana.")}),
    Topic("invoice", 12, BILLING, None, ("invoice", "billing"),
          {"en": ("Question about my invoice", "Charged twice for {plan}", "Invoice address is wrong"),
           "es": ("Duda sobre mi factura", "Me cobran dos veces {plan}", "Dirección incorrecta en la factura")},
          {"en": ("The amount on this month's invoice is higher than usual.", "I see a charge I don't recognise."),
           "es": ("La factura de este mes es más alta de lo normal.", "Veo un cargo que no reconozco.")},
          {"en": ("We have refunded the difference on your next invoice.",
                  "The corrected invoice is in your account area."),
           "es": ("Le abonaremos la diferencia en la próxima factura.",
                  "Tiene la factura rectificada en su área de cliente.")}),
    Topic("debit", 6, BILLING, None, ("direct-debit", "billing"),
          {"en": ("Direct debit returned by my bank", "Change the IBAN for direct debit"),
           "es": ("El banco devolvió el recibo", "Cambiar el IBAN de la domiciliación")},
          {"en": ("My bank returned the payment.", "I changed banks and need to update my details."),
           "es": ("Mi banco ha devuelto el recibo.", "He cambiado de banco y quiero actualizar los datos.")},
          {"en": ("You can pay by card in your account area; no fee this time.", "The new IBAN is saved."),
           "es": ("Puede pagar con tarjeta en su área de cliente, sin recargo.", "El nuevo IBAN ya está guardado.")}),
    Topic("esim", 7, TIER_1, TIER_2, ("esim", "mobile"),
          {"en": ("eSIM will not activate", "Move my eSIM to a new phone"),
           "es": ("La eSIM no se activa", "Pasar la eSIM a un móvil nuevo")},
          {"en": ("The phone says the plan cannot be added.", "I got a new phone and the eSIM is gone."),
           "es": ("El móvil dice que no se puede añadir el plan.", "Tengo móvil nuevo y la eSIM ha desaparecido.")},
          {"en": ("We have sent you a new QR code by e-mail.", "Each QR code works once; here is a fresh one."),
           "es": ("Le hemos enviado un nuevo código QR por correo.", "Cada QR sirve una vez; le enviamos otro.")}),
    Topic("roaming", 5, TIER_1, TIER_2, ("roaming", "mobile"),
          {"en": ("No data while roaming", "Roaming charges on {plan}"),
           "es": ("Sin datos en roaming", "Cargos de roaming en {plan}")},
          {"en": ("I'm abroad and mobile data doesn't work.", "I was charged for roaming in the EU."),
           "es": ("Estoy en el extranjero y no funcionan los datos.", "Me han cobrado roaming dentro de la UE.")},
          {"en": ("A setting on our side blocked data abroad; it is fixed.",
                  "Roaming in the EU is included; we refunded the charge."),
           "es": ("Una opción de nuestra red bloqueaba los datos; ya está corregido.",
                  "El roaming en la UE está incluido; le devolvemos el cargo.")}),
    Topic("plan", 8, TIER_1, None, ("plan-change",),
          {"en": ("Upgrade to {plan}", "Switch my plan to {plan}"),
           "es": ("Cambiar a {plan}", "Quiero pasarme a {plan}")},
          {"en": ("I'd like a faster plan.", "How much would it cost to change plan?"),
           "es": ("Quiero una tarifa más rápida.", "¿Cuánto cuesta cambiar de tarifa?")},
          {"en": ("Done: the change happens tonight.", "There is no new commitment period."),
           "es": ("Hecho: el cambio se aplica esta noche.", "No hay nueva permanencia.")}),
    Topic("porting", 5, TIER_1, None, ("porting", "mobile"),
          {"en": ("Bring my number to Alto Fibra", "Porting my number is taking too long"),
           "es": ("Portabilidad de mi número", "La portabilidad está tardando mucho")},
          {"en": ("I want to keep my number from my old provider.", "The port-in date has passed."),
           "es": ("Quiero mantener mi número de la otra compañía.", "Ya ha pasado la fecha de la portabilidad.")},
          {"en": ("The port-in window is Thursday night.", "We have asked the other provider again."),
           "es": ("La portabilidad será el jueves de madrugada.", "Hemos vuelto a reclamar a la otra compañía.")}),
    Topic("router", 8, TIER_1, TIER_2, ("router", "hardware"),
          {"en": ("Router restarts by itself", "Router will not switch on", "Open a port on the router"),
           "es": ("El router se reinicia solo", "El router no enciende", "Abrir un puerto en el router")},
          {"en": (f"My {ROUTER} reboots every night.", "No lights at all on the router."),
           "es": (f"Mi {ROUTER} se reinicia cada noche.", "El router no tiene ninguna luz.")},
          {"en": ("We are sending you a replacement router.", "A firmware update fixes this; it is installed."),
           "es": ("Le enviamos un router de sustitución.", "Una actualización lo corrige; ya está instalada.")}),
    Topic("install", 5, TIER_1, TIER_3, ("installation", "fibre"),
          {"en": ("Book the fibre installation", "Moving house with {plan}"),
           "es": ("Cita para instalar la fibra", "Me mudo con {plan}")},
          {"en": ("No installation slots are offered for my address.", "We move next month."),
           "es": ("No me salen citas de instalación para mi dirección.", "Nos mudamos el mes que viene.")},
          {"en": ("The technician is booked; you will get a text the day before.",
                  "Your building needs a survey first."),
           "es": ("La cita con el técnico está confirmada; recibirá un SMS el día antes.",
                  "Su edificio necesita una visita previa.")}),
)

CUSTOMER_OPENERS = {
    "en": ("Hello,", "Hi,", "Good morning,", "Hi there,", ""),
    "es": ("Hola:", "Buenos días:", "Buenas tardes:", "Hola, buenas:", ""),
}
CUSTOMER_DETAILS = {
    "en": ("It started yesterday.", "This is the second time this month.", "Please help, I work from home.",
           "I already restarted everything.", "My account number is in my profile.", "Thanks in advance."),
    "es": ("Empezó ayer.", "Es la segunda vez este mes.", "Por favor, teletrabajo.", "Ya he reiniciado todo.",
           "Mis datos están en el perfil.", "Gracias de antemano."),
}
CUSTOMER_FOLLOW_UPS = {
    "en": ("Any news?", "Still the same here.", "It happened again this morning.", "Thanks, that worked!",
           "I tried that, no change.", "Here is the information you asked for."),
    "es": ("¿Alguna novedad?", "Sigue igual.", "Ha vuelto a pasar esta mañana.", "¡Gracias, ya funciona!",
           "Lo he probado y nada.", "Le envío los datos que me pidieron."),
}
AGENT_OPENERS = {
    "en": ("Hello, thank you for contacting Alto Fibra.", "Hello, thanks for your message.", "Hi,"),
    "es": ("Hola, gracias por contactar con Alto Fibra.", "Hola, gracias por su mensaje.", "Buenos días:"),
}
AGENT_CLOSINGS = {
    "en": ("Let us know if anything else comes up.", "Kind regards, Alto Fibra support.", ""),
    "es": ("Quedamos a su disposición.", "Un saludo, soporte de Alto Fibra.", ""),
}
NOTES = (
    "Checked the OLT, line levels fine.", "Customer called again, same issue.", "Rx power -24 dBm, within range.",
    "Escalation requested by the customer.", "Similar tickets from the same area this week.",
    "Refund approved by finance.", "Router firmware up to date.", "ONT rebooted remotely.",
)

FIRST_NAMES = {
    "en": ("Oliver", "Emma", "Liam", "Sophie", "Noah", "Chloe", "James", "Grace", "Lucas", "Hannah", "Ethan",
           "Isla", "Jack", "Freya", "Leo", "Ruby"),
    "es": ("Lucía", "Hugo", "Martina", "Mateo", "Sofía", "Pablo", "Julia", "Álvaro", "Paula", "Daniel", "Valeria",
           "Adrián", "Carla", "Manuel", "Elena", "Sergio"),
}
LAST_NAMES = {
    "en": ("Smith", "Brown", "Taylor", "Wilson", "Evans", "Walker", "Wright", "Hughes", "Green", "Hall"),
    "es": ("García", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Navarro", "Torres", "Ruiz", "Romero"),
}
