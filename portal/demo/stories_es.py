"""Alto Fibra's Spanish-speaking customers: twenty tickets from the last month.

Agents reply in Spanish; their private notes are in whatever language they think in.
"""

from __future__ import annotations

from portal.demo.story import (
    AGNES,
    BILLING,
    CARMEN,
    DIEGO,
    JAVIER,
    LUCIA,
    MARTA,
    SPANISH_DESK,
    TIER_2,
    TIER_3,
    TOMAS,
    Story,
    change,
    note,
    say,
)

STORIES_ES = (
    # -- new -----------------------------------------------------------------------------------------------
    Story(
        "es-factura-email", "No me llega la factura por correo electrónico", LUCIA, "es", "email", "normal",
        age_days=0.4, group=BILLING, tags=("invoice", "billing"),
        turns=(
            say(LUCIA, 0, "Hola:\n\ndesde hace dos meses no recibo la factura en mi correo. He mirado en spam "
                "y tampoco está. ¿Pueden reenviármela?\n\nUn saludo,\nLucía Fernández"),
        ),
    ),
    Story(
        "es-linea-adicional", "Quiero contratar una línea Móvil M adicional", JAVIER, "es", "web", "low",
        age_days=1.0, group=SPANISH_DESK, tags=("mobile", "sales"),
        turns=(
            say(JAVIER, 0, "Buenas, quiero añadir una línea Móvil M para mi hija con el descuento de cliente "
                "de fibra. ¿Se puede pedir con eSIM?"),
        ),
    ),
    Story(
        "es-sin-conexion", "Sin conexión desde esta mañana", CARMEN, "es", "phone", "urgent", age_days=0.1,
        tags=("outage", "fibre"),
        turns=(
            say(CARMEN, 0, "Llamo porque no tengo internet desde las ocho. Trabajo desde casa y lo necesito "
                "urgentemente. Las luces del router están todas verdes menos la de internet."),
        ),
    ),
    # -- open ----------------------------------------------------------------------------------------------
    Story(
        "es-microondas", "El WiFi se corta cuando uso el microondas", LUCIA, "es", "web", "normal",
        age_days=2, group=SPANISH_DESK, tags=("wifi", "router"),
        turns=(
            say(LUCIA, 0, "Cada vez que pongo el microondas se me corta el WiFi en el móvil. El router está en "
                "la cocina, al lado."),
            say(AGNES, 2, "Hola, Lucía:\n\nel microondas interfiere con la banda de 2,4 GHz. Si su móvil lo "
                "permite, conéctelo a la red que termina en «_5G», que no se ve afectada.\n\nUn saludo,\nAgnes"),
            say(LUCIA, 8, "Mi móvil es antiguo y solo ve la red normal, no la 5G."),
            note(AGNES, 9, "Phone is 2.4 GHz only. Moved her 2.4 GHz radio from channel 6 to 1 via ACS; "
                 "also suggested moving the router away from the kitchen."),
            say(AGNES, 9.3, "He cambiado el canal de su WiFi a uno que sufre menos interferencias. Si además "
                "puede alejar el router del microondas, mejor. ¿Nos cuenta si nota la diferencia?"),
        ),
    ),
    Story(
        "es-cobro-duplicado", "Cobro duplicado en la factura de noviembre", MARTA, "es", "email", "high",
        age_days=1.5, group=BILLING, tags=("invoice", "refund", "billing"),
        turns=(
            say(MARTA, 0, "Buenos días. En la factura de noviembre me cobran dos veces la cuota de Fibra 600 "
                "(2 x 35 €). Solicito la devolución.\n\nMarta Soler"),
            say(AGNES, 3, "Buenos días, Marta:\n\ntiene razón. El cambio de tarifa del día 4 generó un cargo "
                "prorrateado además del mes completo. Ya hemos pedido la devolución a administración; le "
                "confirmaremos la fecha del abono.\n\nAgnes"),
            note(AGNES, 3.2, "Duplicate confirmed (prorated + full month). Refund request REF-20761 sent to "
                 "finance, 35 €."),
        ),
    ),
    Story(
        "es-1g-300", "La velocidad del Fibra 1G no pasa de 300 Mb", JAVIER, "es", "web", "normal", age_days=3,
        group=SPANISH_DESK, tags=("speed", "plan-change"),
        turns=(
            say(JAVIER, 0, "Me pasé a Fibra 1G la semana pasada pero los test de velocidad siguen dando 300 Mb, "
                "igual que antes."),
            say(AGNES, 2, "Hola, Javier:\n\n¿el test lo hace por cable, conectado al puerto LAN 1 del router? "
                "Por WiFi es normal no llegar a 1 Gb.\n\nAgnes"),
            say(JAVIER, 6, "Sí, por cable en el LAN 1. 298 Mb de bajada."),
            note(AGNES, 7, "Exactly 300 Mb by cable: provisioning profile probably not updated. Tier 2 please.",
                 group=TIER_2, assignee=DIEGO),
            note(DIEGO, 20, "OLT profile was still FIBRA300: the upgrade order failed at provisioning. Fixed, "
                 "our test shows 940/930. Agnes, could you tell him in Spanish? I'll keep the ticket."),
            note(AGNES, 21, "Claro, le respondo yo."),
            say(AGNES, 21.2, "Hola, Javier:\n\nel cambio a Fibra 1G no se había aplicado del todo en nuestra "
                "red. Ya está corregido. ¿Puede repetir el test por cable y decirnos el resultado?\n\nAgnes"),
        ),
    ),
    Story(
        "es-esim-samsung", "La eSIM no se activa en el Samsung", CARMEN, "es", "web", "normal", age_days=0.9,
        group=SPANISH_DESK, tags=("esim", "mobile"),
        turns=(
            say(CARMEN, 0, "Me ha llegado el QR de la eSIM pero al escanearlo el Samsung dice «No se puede "
                "añadir el plan»."),
            say(AGNES, 1, "Hola, Carmen:\n\n¿ha escaneado ese mismo código antes en otro teléfono? Cada código "
                "solo sirve una vez.\n\nAgnes"),
            say(CARMEN, 3, "Sí, lo probé primero en el móvil viejo y no funcionó."),
            note(AGNES, 3.5, "QR consumed by the old phone's EID. Generating a new eSIM profile for the new EID."),
        ),
    ),
    Story(
        "es-portabilidad-2", "Portabilidad de la segunda línea", LUCIA, "es", "web", "normal", age_days=2,
        group=SPANISH_DESK, tags=("porting", "mobile"), follow_up_of="es-portabilidad",
        turns=(
            say(LUCIA, 0, "Con la primera línea todo fue bien. Ahora quiero traer también la línea de mi hijo "
                "desde la misma compañía."),
            say(AGNES, 4, "Hola, Lucía:\n\n¡nos alegra que todo fuera bien! Para la segunda línea necesitamos "
                "el DNI de su hijo, o el suyo si la línea está a su nombre, y el número de la SIM actual.\n\n"
                "Agnes"),
        ),
    ),
    # -- pending -------------------------------------------------------------------------------------------
    Story(
        "es-fecha-cobro", "¿Puedo cambiar la fecha de cobro de la domiciliación?", MARTA, "es", "email", "low",
        age_days=3.5, group=BILLING, tags=("direct-debit", "billing"),
        turns=(
            say(MARTA, 0, "Me cobran el día 1 y cobro la nómina el 5. ¿Se puede pasar el cargo al día 6?"),
            say(AGNES, 5, "Hola, Marta:\n\nsí, podemos cobrar el día 6. ¿Nos confirma que quiere aplicarlo "
                "desde la factura de diciembre?\n\nAgnes", status="pending"),
        ),
    ),
    Story(
        "es-abrir-puertos", "No puedo abrir puertos para la cámara de seguridad", JAVIER, "es", "web", "normal",
        age_days=2, group=SPANISH_DESK, tags=("router", "port-forwarding"),
        turns=(
            say(JAVIER, 0, "Quiero ver la cámara del garaje desde fuera de casa. He abierto el puerto 8080 en "
                "el router pero no funciona."),
            note(AGNES, 1, "Line is behind CG-NAT (default for new lines). Public IP can be enabled for free; "
                 "need camera model and local IP to check the rule too."),
            say(AGNES, 1.2, "Hola, Javier:\n\nsu línea comparte dirección IP pública, por eso no funciona la "
                "apertura de puertos. Podemos darle una IP pública sin coste. ¿Nos confirma el modelo de la "
                "cámara y su IP local para revisar también la regla?\n\nAgnes", status="pending"),
        ),
    ),
    Story(
        "es-permanencia", "¿Tengo permanencia si doy de baja la fibra?", CARMEN, "es", "web", "low",
        age_days=5, group=SPANISH_DESK, tags=("contract", "cancellation"),
        turns=(
            say(CARMEN, 0, "Me mudo a casa de mi madre, que ya tiene internet. ¿Tengo que pagar algo si doy de "
                "baja la fibra y me quedo solo con el móvil?"),
            say(AGNES, 6, "Hola, Carmen:\n\npara consultar su contrato necesitamos verificar que es la titular. "
                "¿Nos indica las cuatro últimas cifras de su DNI?\n\nAgnes", status="pending"),
        ),
    ),
    # -- on hold -------------------------------------------------------------------------------------------
    Story(
        "es-cortes-urbanizacion", "Cortes de fibra en toda la urbanización", LUCIA, "es", "phone", "high",
        age_days=6, tags=("outage", "fibre", "network"),
        turns=(
            say(LUCIA, 0, "Llamo porque en la urbanización Los Pinos nos quedamos sin internet varias veces al "
                "día, a mí y a los vecinos."),
            say(AGNES, 0.3, "Gracias por avisarnos, Lucía. Lo pasamos al equipo de red para que lo revise hoy "
                "mismo."),
            note(AGNES, 0.5, "Three other tickets from Urb. Los Pinos today. Possible outage, escalating.",
                 group=TIER_3, assignee=TOMAS, priority="urgent"),
            note(TOMAS, 3, "Revisada la OLT: niveles de línea correctos en los 16 clientes del splitter. Los "
                 "cortes coinciden con las obras de la eléctrica en la calle: dañan la canalización."),
            say(TOMAS, 3.5, "Hola, Lucía:\n\nlos cortes los causan unas obras en la calle que afectan a nuestra "
                "canalización. Estamos coordinando la reparación con la compañía eléctrica y le avisaremos en "
                "cuanto terminen.\n\nTomás, Ingeniería de red", status="on_hold"),
            say(LUCIA, 48, "Hoy otra vez dos horas sin servicio."),
            note(TOMAS, 50, "Según el ayuntamiento las obras acaban el viernes. Técnico de guardia avisado."),
            say(TOMAS, 50.2, "Lo sentimos mucho. Las obras terminan el viernes y tenemos un técnico preparado "
                "por si hay otro corte antes.", status="on_hold"),
        ),
    ),
    Story(
        "es-router-roto", "El router no enciende, necesito uno nuevo", MARTA, "es", "web", "normal",
        age_days=9, group=SPANISH_DESK, tags=("router", "hardware", "replacement"),
        turns=(
            say(MARTA, 0, "El router no enciende desde la tormenta de anoche. Ninguna luz. He probado otro "
                "enchufe."),
            note(AGNES, 2, "Dead unit after storm. AX3000 out of stock at the Valencia warehouse until the 20th. "
                 "RMA-9841 created."),
            say(AGNES, 2.4, "Hola, Marta:\n\nle enviaremos un router nuevo sin coste. Ahora mismo esperamos "
                "stock en el almacén; le escribiremos con el número de seguimiento en cuanto salga.\n\nAgnes",
                status="on_hold"),
        ),
    ),
    # -- solved --------------------------------------------------------------------------------------------
    Story(
        "es-nombre-wifi", "Cómo cambiar el nombre de la red WiFi", JAVIER, "es", "web", "low", age_days=4,
        group=SPANISH_DESK, tags=("wifi", "how-to"),
        turns=(
            say(JAVIER, 0, "¿Cómo cambio el nombre de la red? Ahora se llama ALTO-4F2A y no hay quien la "
                "distinga de la del vecino."),
            say(AGNES, 1.5, "Hola, Javier:\n\nentre en http://192.168.1.1 con la contraseña de la pegatina del "
                "router y vaya a WiFi → Nombre de red (SSID). Al guardar, tendrá que volver a conectar sus "
                "dispositivos.\n\nAgnes", status="solved"),
        ),
    ),
    Story(
        "es-iva-octubre", "Factura de octubre con IVA incorrecto", CARMEN, "es", "email", "normal",
        age_days=8, group=BILLING, tags=("invoice", "tax", "billing"),
        turns=(
            say(CARMEN, 0, "Soy autónoma y en la factura de octubre no aparece mi NIF, así que no me la aceptan "
                "en la gestoría."),
            say(AGNES, 2, "Hola, Carmen:\n\n¿nos indica el NIF y la razón social que deben aparecer?\n\nAgnes",
                status="pending"),
            say(CARMEN, 7, "NIF 12345678Z, Carmen Ruiz Peña."),
            say(AGNES, 8, "Hemos emitido la factura rectificativa con sus datos fiscales. La tiene en su área "
                "de cliente.", status="solved"),
        ),
    ),
    Story(
        "es-numero-oculto", "Mi número sale como oculto al llamar", LUCIA, "es", "phone", "normal",
        age_days=6, group=SPANISH_DESK, tags=("mobile", "caller-id"),
        turns=(
            say(LUCIA, 0, "Cuando llamo, a la gente le sale «número oculto»."),
            say(AGNES, 0.2, "Como hemos comentado por teléfono: marque *31# y llame para mostrar su número. "
                "Así queda activado.", status="solved"),
            say(LUCIA, 30, "Sigue saliendo oculto en el fijo de mi madre."),
            note(AGNES, 31, "CLIR flag set on the line in provisioning (overrides *31#). Removed."),
            say(AGNES, 31.2, "Había una opción en nuestra red que ocultaba el número. Ya la hemos quitado; "
                "pruebe de nuevo, por favor.", status="solved"),
        ),
    ),
    # -- closed --------------------------------------------------------------------------------------------
    Story(
        "es-portabilidad", "Portabilidad desde otra compañía", LUCIA, "es", "web", "normal", age_days=22,
        group=SPANISH_DESK, tags=("porting", "mobile"),
        turns=(
            say(LUCIA, 0, "Quiero traer mi número de móvil a Alto Fibra con la tarifa Móvil S."),
            say(AGNES, 3, "Hola, Lucía:\n\nnecesitamos su DNI y el ICC de la SIM actual (el número largo de la "
                "tarjeta) para pedir la portabilidad.\n\nAgnes", status="pending"),
            say(LUCIA, 5, "DNI 87654321X, ICC 8934 0712 3456 7890 123."),
            note(AGNES, 6, "Port-in requested, window Thursday 2-6 am. SIM sent by courier."),
            say(AGNES, 6.1, "Perfecto. La portabilidad será el jueves de madrugada; la SIM nueva le llegará "
                "antes. Cuando se quede sin cobertura con la antigua, ponga la nueva.", status="solved"),
            say(LUCIA, 80, "¡Funciona! Muchas gracias.", status="closed"),
        ),
    ),
    Story(
        "es-descuento-bienvenida", "No me han aplicado el descuento de bienvenida", MARTA, "es", "email",
        "normal", age_days=31, group=BILLING, tags=("discount", "invoice", "billing"),
        turns=(
            say(MARTA, 0, "Contraté con la promoción de 3 meses al 50 % y la primera factura viene completa."),
            say(AGNES, 5, "Hola, Marta:\n\nla promoción se aplica desde la segunda factura; en la primera "
                "verá el descuento como abono. Ya lo hemos revisado y aparecerá en la próxima.\n\nAgnes",
                status="solved"),
            # Nobody answered: the ticket closed itself 28 days after it was solved.
            change(None, 5 + 28 * 24, status="closed"),
        ),
    ),
    Story(
        "es-wifi-actualizacion", "Router sin WiFi después de la actualización", JAVIER, "es", "web", "high",
        age_days=15, group=SPANISH_DESK, tags=("router", "wifi", "firmware"),
        turns=(
            say(JAVIER, 0, "Esta noche el router se actualizó solo y ahora no emite WiFi. Por cable sí va."),
            say(AGNES, 1, "Hola, Javier:\n\nmantenga pulsado el botón WiFi de la parte trasera durante 5 "
                "segundos; tras la actualización a veces queda desactivado.\n\nAgnes"),
            say(JAVIER, 4, "¡Era eso! Ya funciona."),
            say(AGNES, 4.5, "¡Estupendo! Marcamos la incidencia como resuelta.", status="solved"),
            change(JAVIER, 30, status="closed"),
        ),
    ),
    Story(
        "es-alta-movil-s", "Alta de línea Móvil S", CARMEN, "es", "phone", "low", age_days=20,
        group=SPANISH_DESK, tags=("mobile", "sales"),
        turns=(
            say(CARMEN, 0, "Quiero dar de alta una línea Móvil S nueva, sin portabilidad."),
            say(AGNES, 0.3, "Como le he explicado por teléfono, le enviamos la SIM por mensajería en 48 horas."),
            note(AGNES, 0.5, "New line ordered, SIM shipped, tracking SEUR 0087451."),
            say(CARMEN, 50, "Ya me ha llegado la SIM y funciona."),
            say(AGNES, 51, "¡Perfecto, Carmen! Bienvenida a Alto Fibra.", status="solved"),
            change(CARMEN, 60, status="closed"),
        ),
    ),
)
