"""The questions the search benchmarks ask, by kind, with the language each is asked in.

Written for the shared corpus's two help centers (Arduino's store, IDE and cloud; login.gov, in English and
Spanish) and kept apart from the judged sets in `tests/search_eval/`: speed is measured on them, not quality.
"""

from __future__ import annotations

QUERIES = {
    "plain": ["reset password", "track my order", "delete my account", "install arduino ide", "board not detected",
              "shipping methods", "cloud plan price", "security key", "verify my identity", "contraseña",
              "cambiar número de teléfono", "upload sketch error", "accepted payment methods", "wifi firmware"],
    "typo": ["pasword reset", "arduno uplod eror", "delet acount", "secuirty key", "shiping methods",
             "bord not detected", "verfy identity", "contrasenia", "udpate board packages", "instal ide"],
    "phrase": ['"security key"', '"board not detected"', '"reset the password"', '"verify your identity"',
               '"shipping methods"', '"cloud plan"', '"código de seguridad"', '"exit status 1"'],
    "question": ["how do I change the password of my account", "why is my board not showing up in the IDE",
                 "where is my order right now", "can I pay for the store order with PayPal",
                 "how long does delivery take to Europe", "what should I do if my package never arrived",
                 "how can I cancel my Arduino Cloud subscription", "why does my sketch fail to compile",
                 "how do I prove who I am to login.gov", "I lost the phone with my authentication app, what now",
                 "¿cómo cambio mi contraseña?", "¿por qué no me llega el código de seguridad al teléfono?",
                 "¿cómo verifico mi identidad en línea?", "¿qué hago si perdí mi llave de seguridad?",
                 "¿puedo devolver un producto que compré en la tienda?"],
}
# What people type into a live search box that shares no word with the article it wants (HTTP mix only).
PARAPHRASES = ["forgot my login", "parcel didn't arrive", "can't put code on the arduino",
               "computer does not see the arduino", "get my money back", "copy of my receipt",
               "new phone two factor", "change email address on account", "no me llegó el paquete",
               "olvidé mi clave", "tengo un teléfono nuevo", "borrar mi cuenta", "factura de mi compra",
               "dar de baja la suscripción"]
SPANISH = {"contraseña", "cambiar número de teléfono", "contrasenia", '"código de seguridad"', "no me llegó el paquete",
           "olvidé mi clave", "tengo un teléfono nuevo", "borrar mi cuenta", "factura de mi compra",
           "dar de baja la suscripción"} | {q for q in QUERIES["question"] if q.startswith("¿")}


def language_of(query: str) -> str:
    """The customer's language the query is asked in (what `Accept-Language` would say)."""
    return "es" if query in SPANISH else "en"


def live_search_mix() -> list[str]:
    """Every query a live search is measured with. No quoted phrases: a phrase is searched by words only, so it
    would not embed its query, and a live-search box rarely sees quotes."""
    return QUERIES["plain"] + QUERIES["typo"] + QUERIES["question"] + PARAPHRASES
