"""The records family: a person's emails and usernames spell the last name, a company's domain
starts with its name, and no email uses a placeholder domain."""

from __future__ import annotations

import pyarrow as pa
import pytest
import pyarrow.compute as pc
import pyarrow.parquet as pq

import fabula
from fabula.validate.run import validate_folder


def spec(columns: dict, rows: int = 3_000) -> dict:
    return {"name": "crm", "seed": 5, "as_of": "2024-12-31", "tables": {"contacts": {"rows": rows, "columns": columns}}}


PEOPLE = {
    "first_name": {"kind": "person", "part": "first_name", "locale": "de_DE"},
    "last_name": {"kind": "person", "part": "last_name", "locale": "de_DE"},
    "username": {"kind": "person", "part": "username", "locale": "de_DE"},
    "email": {"kind": "person", "part": "email", "locale": "de_DE", "nulls": 0.1},
    "company": {"kind": "company", "locale": "de_DE"},
    "website": {"kind": "company", "part": "website", "locale": "de_DE"},
    "billing": {"kind": "company", "part": "email", "mailbox": "billing", "locale": "de_DE"},
}


def records_checks(report) -> dict[str, tuple[str, object]]:
    return {check.name: (check.verdict, check.observed) for check in report.checks if check.family == "records"}


def test_agreeing_records_pass(tmp_path):
    fabula.generate(spec(PEOPLE), tmp_path / "out")
    found = records_checks(validate_folder(tmp_path / "out", write=False))
    assert found == {
        "contacts.username agrees with contacts.last_name": ("pass", 0),
        "contacts.email agrees with contacts.last_name": ("pass", 0),
        "contacts.email has no placeholder domains": ("pass", 0),
        "contacts.website agrees with contacts.company": ("pass", 0),
        "contacts.billing agrees with contacts.company": ("pass", 0),
        "contacts.billing has no placeholder domains": ("pass", 0),
    }


def test_a_full_name_is_enough_to_check_an_email(tmp_path):
    columns = {"name": {"kind": "person"}, "email": {"kind": "person", "part": "email"}}
    fabula.generate(spec(columns), tmp_path / "out")
    found = records_checks(validate_folder(tmp_path / "out", write=False))
    assert found["contacts.email agrees with contacts.name"] == ("pass", 0)


def test_different_locales_in_one_record_fail(tmp_path):
    columns = {"last_name": {"kind": "person", "part": "last_name", "locale": "de_DE"},
               "email": {"kind": "person", "part": "email", "locale": "fr_FR"}}
    fabula.generate(spec(columns), tmp_path / "out", validate=False)
    report = validate_folder(tmp_path / "out", write=False)
    (check,) = [c for c in report.checks if c.name == "contacts.email agrees with contacts.last_name"]
    assert check.verdict == "fail" and check.observed > 2_500
    assert "same locale" in check.message


def test_emails_changed_after_writing_are_caught(tmp_path):
    fabula.generate(spec({"name": {"kind": "person"}, "email": {"kind": "person", "part": "email"}}), tmp_path / "out")
    (part,) = sorted((tmp_path / "out" / "contacts").glob("*.parquet"))
    table = pq.read_table(part)
    emails = table.column("email").to_pylist()
    emails[:10] = [f"user{n}@example.com" for n in range(10)]
    pq.write_table(table.set_column(table.schema.get_field_index("email"), "email", pa.array(emails)), part)
    found = records_checks(validate_folder(tmp_path / "out", write=False))
    assert found["contacts.email agrees with contacts.name"] == ("fail", 10)
    assert found["contacts.email has no placeholder domains"] == ("fail", 10)


def test_listed_placeholder_domains_are_allowed(tmp_path):
    columns = {"name": {"kind": "person"},
               "email": {"kind": "person", "part": "email", "domains": ["example.com"]}}
    fabula.generate(spec(columns, rows=200), tmp_path / "out")
    found = records_checks(validate_folder(tmp_path / "out", write=False))
    assert found["contacts.email has no placeholder domains"] == ("pass", 0)
    emails = pq.read_table(tmp_path / "out" / "contacts").column("email")
    assert pc.all(pc.ends_with(emails, "@example.com")).as_py()


ADDRESS = {"street": {"kind": "address", "part": "street"}, "city": {"kind": "address", "part": "city"},
           "state": {"kind": "address", "part": "state", "nulls": 0.1},
           "postcode": {"kind": "address", "part": "postcode"}}


def test_an_address_records_parts_are_one_place(tmp_path):
    fabula.generate(spec(ADDRESS), tmp_path / "out")
    found = records_checks(validate_folder(tmp_path / "out", write=False))
    assert found == {"contacts: city, postcode, state are one place": ("pass", 0)}


def test_a_postcode_moved_to_another_state_fails(tmp_path):
    fabula.generate(spec(ADDRESS), tmp_path / "out")
    (part,) = sorted((tmp_path / "out" / "contacts").glob("*.parquet"))
    table = pq.read_table(part)
    postcodes = table.column("postcode").to_pylist()
    states = table.column("state").to_pylist()
    alaska = next(i for i, state in enumerate(states) if state == "Alaska")
    florida = [i for i, state in enumerate(states) if state == "Florida"][:4]
    for i in florida:
        postcodes[i] = postcodes[alaska]  # an Alaskan ZIP code in Florida
    pq.write_table(table.set_column(table.schema.get_field_index("postcode"), "postcode", pa.array(postcodes)), part)
    found = records_checks(validate_folder(tmp_path / "out", write=False))
    assert found["contacts: city, postcode, state are one place"] == ("fail", 4)


# -- the byte-level comparison against the rule, spelled out in Python -----------------------------

TRICKY_NAMES = ["Gröttner", "Miller Logistics LLC", "Smith, Jones & Co", "Ærø Søren", "Jane A. Doe", "Doe ",
                "", "O'Connor-Núñez", "Straße", "x" * 300]
TRICKY_VALUES = ["groettner@mail.de", "j.groettner@x.com", "groettner", "GROETTNER@x.com", "a@groettner.de",
                 "miller@millerlogistics.com", "millerlogistics.com", "https://www.millerlogistics.com",
                 "http://millerlogistics.com", "www.millerlogistics.com", "https://smith.com", "smith",
                 "billing@smith.io", "a@b@smith.io", "smith@", "@smith", "", "doe@EXAMPLE.COM", "x@Example.Org",
                 "x@example.net ", "x@mail.example.com", "xexample.com", "soerenaeroe@x.dk", "aeroe",
                 "oconnornunez@x.ie", "strasse.de", "jane.doe@kelvin.\u212a", "d\u00f6e@x.com", "doe@x.com",
                 "y" * 280 + "@example.com", "https://" + "x" * 300, "é@example.com", "doe\x00@x.com"]


def _rule(kind: str, part: str, reference_part: str, derived: str, reference: str, listed=()) -> tuple[bool, bool]:
    """(wrong, placeholder) of one row, as the family's docstring states the rule."""
    import re

    from fabula.providers.ascii import to_ascii

    if kind == "company":
        word = re.split(r"[ ,&]", reference, maxsplit=1)[0]
    elif reference_part == "name":
        word = reference.rsplit(" ", 1)[-1]
    else:
        word = reference
    expected = to_ascii(word, "de_DE")
    if kind == "person":
        wrong = expected not in (derived.split("@", 1)[0] if part == "email" else derived)
    else:
        if part == "email":
            found = derived.rsplit("@", 1)[1] if "@" in derived else ""
        elif part == "website":
            found = re.sub(r"^https?://(www\.)?", "", derived)
        else:
            found = derived
        wrong = not found.startswith(expected)
    domain = derived.rsplit("@", 1)[1].lower() if "@" in derived else None
    placeholder = part == "email" and domain in {"example.com", "example.org", "example.net"} - set(listed)
    return wrong, placeholder


@pytest.mark.parametrize("long_values", [False, True], ids=["short", "with-long-values"])
@pytest.mark.parametrize("nulls", [False, True], ids=["no-nulls", "nulls"])
def test_the_vectorised_comparison_follows_the_rule_on_tricky_values(long_values, nulls):
    from fabula.validate.families.records import Agreement
    from fabula.validate.statistics import BlockView

    keep = (lambda text: True) if long_values else (lambda text: len(text.encode()) <= 256)
    pairs = [(value, name) for value in TRICKY_VALUES for name in TRICKY_NAMES if keep(value) and keep(name)]
    extra = ([None, "x"], ["Doe", None]) if nulls else ([], [])
    derived = pa.array([value for value, _ in pairs] + extra[0], pa.string())
    reference = pa.array([name for _, name in pairs] + extra[1], pa.string())
    batch = pa.RecordBatch.from_arrays([derived, reference], names=["derived", "reference"])
    for kind, part, reference_part, listed in [("person", "email", "last_name", ()), ("person", "email", "name", ()),
                                               ("person", "username", "name", ()),
                                               ("person", "email", "name", ("example.org",)),
                                               ("company", "domain", "name", ()), ("company", "email", "name", ()),
                                               ("company", "website", "name", ())]:
        statistic = Agreement("t", kind, "r", "de_DE", "reference", reference_part, "derived", part, listed)
        state = statistic.observe(BlockView(None, None, 0, batch))
        expected = [_rule(kind, part, reference_part, value, name, listed) for value, name in pairs]
        assert state["rows"] == len(pairs)
        assert state["wrong"] == sum(wrong for wrong, _ in expected), (kind, part, reference_part)
        assert state["placeholders"] == sum(placeholder for _, placeholder in expected), (kind, part, listed)
        assert [statistic.rule(value, name) for value, name in pairs] == expected  # for values over 256 bytes


def test_no_other_character_lower_cases_into_a_placeholder_domain():
    """Why lower-casing ASCII bytes finds every placeholder domain that utf8_lower would."""
    from fabula.validate.families.records import PLACEHOLDER_DOMAINS

    letters = set("".join(PLACEHOLDER_DOMAINS))
    characters = [chr(c) for c in range(128, 0x110000) if not 0xD800 <= c < 0xE000]
    lowered = pc.utf8_lower(pa.array(characters)).to_pylist()
    assert not [c for c, low in zip(characters, lowered) if letters & set(low)]


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "sv_SE", "da_DK"])
def test_words_are_spelled_as_to_ascii_spells_them(locale):
    """The NumPy spelling of ASCII words and the `to_ascii` one of the rest give what `to_ascii`
    gives every word: upper case, punctuation, digits, NULs, accents, ligatures that spell out
    longer than their bytes (㎉ → kcal), invalid UTF-8, repeats, and a strided array."""
    import random

    import numpy as np

    from fabula.providers.ascii import to_ascii
    from fabula.validate.families.records import _spelled_words

    alphabet = [chr(c) for c in range(128)] + list("äöüßÄÖÜåÅøØæÆéñÑçłŁıİẞ㎉ﬁ中🄐")
    chance = random.Random(7)
    for _ in range(200):
        words = [("".join(chance.choice(alphabet) for _ in range(chance.randint(0, 12)))).encode()
                 for _ in range(chance.randint(0, 30))]
        words += words[:3] + [b"O'Connor-N\xc3\xba\xc3\xb1ez", b"Gr\xc3\xb6ttner\xff", b"ALL CAPS 42", b""]
        array = np.array(words, dtype=f"S{max(map(len, words))}")[:: chance.choice([1, 2])]
        expected = [to_ascii(word.decode("utf-8", errors="replace"), locale).encode() for word in array.tolist()]
        assert _spelled_words(array, locale).tolist() == expected
    assert _spelled_words(np.zeros(0, dtype="S4"), locale).tolist() == []
