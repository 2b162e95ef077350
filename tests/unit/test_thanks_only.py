"""A reply that only says thanks keeps a solved ticket solved; anything more goes back to the agents."""

from __future__ import annotations

import pytest

from portal.status import is_thanks_only

THANKS_ONLY = [
    # English
    "thanks",
    "Thanks!",
    "thank you",
    "Thank you so much!!",
    "thanks a lot",
    "Many thanks.",
    "ok, thank you",
    "great, thanks!",
    "Perfect, thank you very much 😊",
    "thx",
    "ty!",
    "Cheers!",
    "Thanks again",
    "Thank you, it works now!",
    "That worked, thanks!",
    "Thanks for your help",
    "Thanks for the quick reply!",
    "Much appreciated 🙏",
    "Awesome, thanks team",
    "Hi, thanks, all good now",
    "That's it, thank you!",
    "Thanks and have a nice day",
    "  THANK YOU  ",
    "That’s great, thanks",
    # Spanish
    "gracias",
    "¡Gracias!",
    "muchas gracias",
    "Muchísimas gracias!!",
    "mil gracias",
    "perfecto, gracias",
    "Vale, gracias",
    "Genial, muchas gracias 🙌",
    "Gracias por la ayuda",
    "gracias por todo",
    "Ya funciona, gracias!",
    "Sí, gracias",
    "Hola, gracias, todo bien",
    "Te lo agradezco mucho",
    "Muy amable, gracias",
    "Un saludo y gracias",
    "Excelente, gracias de nuevo",
    "Gracias, equipo!",
    "GRACIAS!!!",
    "Problema resuelto, gracias 👍",
]

NOT_THANKS_ONLY = [
    # English
    None,
    "",
    "   ",
    "thanks?",
    "Thanks, but it still doesn't work",
    "thank you, can you also check my invoice",
    "Thanks. Why was I charged twice",
    "thanks, the problem is back",
    "It still fails",
    "not fixed, thanks",
    "no thanks",
    "thanks for nothing",
    "ok",
    "👍",
    "Thanks! One more thing: how do I export my data",
    "Thanks, John",
    "Thanks, I will try that",
    "Thanks in advance",
    "Please reopen, thanks",
    "thanks\n\nAlso the printer still prints blank pages",
    "Thank you so much for all your help, it works now, have a great day team, cheers",
    "Thanks！？",
    "ok thanks, but what about the refund",
    "Thanks, please call me",
    # Spanish
    "¿gracias?",
    "gracias, pero sigue sin funcionar",
    "Gracias. ¿Y la factura?",
    "gracias por nada",
    "no funciona, gracias",
    "Ya no funciona, gracias",
    "gracias de antemano",
    "Muchas gracias, pero necesito otra cosa",
    "gracias, cuándo llega el pedido",
    "sigue fallando",
    "vale",
    "gracias, me podéis llamar",
    "Hola, tengo otro problema, gracias",
    "perfecto, aunque el error vuelve a salir",
    "gracias, todavía falla",
    # Other languages are not recognised: when unsure, the ticket goes back to the agents.
    "merci beaucoup",
    "спасибо",
]


def test_there_are_enough_examples_each_way():
    assert len(THANKS_ONLY) >= 40
    assert len(NOT_THANKS_ONLY) >= 40


@pytest.mark.parametrize("text", THANKS_ONLY)
def test_thanks_only(text):
    assert is_thanks_only(text)


@pytest.mark.parametrize("text", NOT_THANKS_ONLY)
def test_not_thanks_only(text):
    assert not is_thanks_only(text)


def test_a_long_reply_is_more_than_thanks_even_if_every_word_is_polite():
    short = "Thank you so much, it works now, have a great day"
    assert is_thanks_only(short)
    assert not is_thanks_only(short + ", thanks again team, kind regards")
