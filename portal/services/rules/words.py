"""Words in a subject or description, compared as a person reads them: case and accents do not matter
("FACTURA" is "factura", "facturación" is "facturacion"), and a word matches a whole word only ("pago" does not
match "pagoda"), unless it ends with * ("factur*" matches "factura" and "facturación")."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")
_SEPARATORS = re.compile(r"[\s,;]+")


def fold(text: str) -> str:
    """Lower case without accents: "Facturación" -> "facturacion"."""
    decomposed = unicodedata.normalize("NFKD", text or "").casefold()
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def word_list(value: str) -> list[str]:
    """What an admin typed ("factura, pago  refund*") as the words to look for, each folded."""
    words = []
    for piece in _SEPARATORS.split(value or ""):
        star = piece.endswith("*")
        found = tokens(piece)
        if len(found) == 1:
            words.append(found[0] + ("*" if star else ""))
        elif found:  # "e-mail" is two words to \w: look for them as a phrase
            words.append(" ".join(found))
    return list(dict.fromkeys(words))


class Text:
    """A text's words, folded once, for many look-ups."""

    def __init__(self, text: str) -> None:
        self.tokens = tokens(text)
        self.words = frozenset(self.tokens)
        self.joined = " " + " ".join(self.tokens) + " "

    def has_word(self, word: str) -> bool:
        if word.endswith("*"):
            stem = word[:-1]
            return any(w.startswith(stem) for w in self.words)
        if " " in word:
            return self.has_phrase(word)
        return word in self.words

    def has_phrase(self, phrase: str) -> bool:
        wanted = tokens(phrase)
        return bool(wanted) and f" {' '.join(wanted)} " in self.joined
