"""Names in ASCII for usernames, emails and domains: "Gröttner" → "groettner".

Letters are spelled the way people of the language spell them without the keyboard: German
umlauts become two letters (ä → ae, ß → ss), Swedish ones lose their dots (ö → o), Danish and
Norwegian ones become two letters (ø → oe, å → aa); anything else with an accent loses it
(é → e, ñ → n), by Unicode decomposition. What is left that is not a-z or 0-9 is dropped.
"""

from __future__ import annotations

import re
import unicodedata

_ANY_LANGUAGE = {"ß": "ss", "ẞ": "ss", "æ": "ae", "ø": "oe", "œ": "oe", "þ": "th", "ð": "d", "đ": "d",
                 "ł": "l", "ı": "i", "ħ": "h"}
_BY_LANGUAGE = {
    "de": {"ä": "ae", "ö": "oe", "ü": "ue"},
    "da": {"å": "aa"},
    "nb": {"å": "aa"},
    "no": {"å": "aa"},
    "sv": {"ö": "o", "ä": "a", "å": "a"},
    "fi": {"ö": "o", "ä": "a", "å": "a"},
}
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def to_ascii(text: str, locale: str = "en_US") -> str:
    """`text` lower-cased in a-z and 0-9 only, spelled as the locale's language spells it.

    >>> to_ascii("Gröttner", "de_DE"), to_ascii("Söderström", "sv_SE"), to_ascii("Søren Ærø", "da_DK")
    ('groettner', 'soderstrom', 'soerenaeroe')
    >>> to_ascii("O'Connor-Núñez")
    'oconnornunez'
    """
    if text.isascii():  # no letter to respell or fold: the same result, without the per-character work
        return _NOT_ALPHANUMERIC.sub("", text.lower())
    return _respelled(text, locale)


def _respelled(text: str, locale: str) -> str:
    table = {**_ANY_LANGUAGE, **_BY_LANGUAGE.get(locale.split("_")[0], {})}
    lowered = text.lower()
    spelled = "".join(table.get(char, char) for char in lowered)
    folded = unicodedata.normalize("NFKD", spelled)
    plain = "".join(char for char in folded if not unicodedata.combining(char))
    return _NOT_ALPHANUMERIC.sub("", plain.encode("ascii", "ignore").decode())
