"""Names spelled in ASCII the way their language spells them, for usernames, emails and domains."""

import pytest

from fabula.providers.ascii import to_ascii


@pytest.mark.parametrize("text, locale, expected", [
    ("Gröttner", "de_DE", "groettner"),
    ("Müller-Lüdenscheidt", "de_DE", "muellerluedenscheidt"),
    ("Weiß", "de_DE", "weiss"),
    ("Ärger", "de_AT", "aerger"),
    ("Söderström", "sv_SE", "soderstrom"),
    ("Åsa Lindén", "sv_SE", "asalinden"),
    ("Søren", "da_DK", "soeren"),
    ("Ærø", "da_DK", "aeroe"),
    ("Åse", "no_NO", "aase"),
    ("Bjørn", "sv_SE", "bjoern"),      # ø is two letters in any language
    ("Núñez", "es_ES", "nunez"),
    ("Françoise d'Aubigné", "fr_FR", "francoisedaubigne"),
    ("O'Connor", "en_US", "oconnor"),
    ("Łukasz Wałęsa", "pl_PL", "lukaszwalesa"),
    ("Müller", "fr_FR", "muller"),     # outside German, an umlaut is only an accent
    ("Þórdís", "is_IS", "thordis"),
])
def test_spelled_as_the_language_spells_it(text, locale, expected):
    assert to_ascii(text, locale) == expected


def test_only_lower_case_letters_and_digits_remain():
    assert to_ascii("Anne-Marie  St. Clair 3rd", "en_US") == "annemariestclair3rd"


def test_non_latin_letters_spell_nothing():
    assert to_ascii("高橋", "ja_JP") == ""


def test_ascii_text_takes_the_short_path_with_the_same_result():
    import string

    from fabula.providers.ascii import _respelled
    from fabula.providers.names import person_parts

    texts = [string.printable, *string.printable, "O'Connor-Smith Jr.", "ABC xyz 123", "",
             *person_parts("en_US").last.values.to_pylist()]
    for locale in ("en_US", "de_DE", "sv_SE", "da_DK"):
        assert [to_ascii(text, locale) for text in texts] == [_respelled(text, locale) for text in texts]
