"""Record kinds: the columns of one person, company or address agree on every row, distinct
values grow with the rows, and nothing is a placeholder."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

import fabula
from fabula.plan.blocks import generate_block
from fabula.plan import compile_plan
from fabula.providers.addresses import address_parts
from fabula.providers.ascii import to_ascii
from fabula.spec import build_spec

EMAIL = re.compile(r"^[a-z0-9._-]+@([a-z0-9-]+\.)+[a-z]{2,}$")
PLACEHOLDERS = re.compile(r"@example\.(com|org|net)$|^example\.(com|org|net)$")


def table(columns: dict, *, rows: int, seed: int = 7, block_rows: int = 65_536) -> pa.Table:
    """Every block of a one-table spec, in order, dictionaries decoded."""
    spec = build_spec({"name": "people", "seed": seed, "as_of": "2024-12-31",
                       "tables": {"t": {"rows": rows, "columns": columns}}})
    plan = compile_plan(spec, block_rows=block_rows)
    plan_table = plan.table("t")
    batches = [generate_block(plan, plan_table, block) for block in range(plan_table.n_blocks)]
    result = pa.Table.from_batches(batches, schema=plan_table.schema)
    return pa.table({name: _decoded(result.column(name)) for name in result.column_names})


def _decoded(column: pa.ChunkedArray) -> pa.ChunkedArray:
    return column.cast(pa.string()) if pa.types.is_dictionary(column.type) else column


PERSON = {part: {"kind": "person", "part": part, "locale": "de_DE"}
          for part in ("name", "first_name", "last_name", "username", "email", "gender")}


def logins(first: str, last: str) -> set[str]:
    """Every shape a username (before its digits) may take for a first and last name in ASCII."""
    f = first[0]
    return {f"{first}.{last}", f"{first}{last}", f"{first}_{last}", f"{f}{last}", f"{last}.{first}",
            f"{f}.{last}", f"{last}{f}"}


# -- distinct values grow with the rows -----------------------------------------------------------


def test_a_million_people_have_about_a_million_distinct_names():
    names = table({"name": {"kind": "person"}}, rows=1_000_000).column("name")
    assert pc.count_distinct(names).as_py() >= 900_000


def test_distinct_company_names_grow_with_the_rows():
    names = table({"name": {"kind": "company"}}, rows=25_000).column("name")
    assert pc.count_distinct(names).as_py() >= 23_000


def test_distinct_street_addresses_grow_with_the_rows():
    streets = table({"street": {"kind": "address", "part": "street"}}, rows=100_000).column("street")
    assert pc.count_distinct(streets).as_py() >= 95_000


# -- a person's columns agree ------------------------------------------------------------------


def test_name_username_and_email_agree_on_every_row():
    rows = table(PERSON, rows=20_000).to_pylist()
    for row in rows:
        first, last = to_ascii(row["first_name"], "de_DE"), to_ascii(row["last_name"], "de_DE")
        assert row["name"].startswith(row["first_name"] + " ") and row["name"].endswith(" " + row["last_name"])
        local, domain = row["email"].split("@")
        assert local == row["username"]
        assert local.rstrip("0123456789") in logins(first, last), row
        assert EMAIL.match(row["email"]) and not PLACEHOLDERS.search(row["email"]), row
    genders = {row["gender"] for row in rows}
    assert genders == {"female", "male"}


def test_transliterated_names_appear_in_emails():
    rows = table(PERSON, rows=20_000).to_pylist()
    umlauts = [row for row in rows if "ö" in row["last_name"]]
    assert umlauts, "no last name with ö in 20,000 German rows"
    for row in umlauts:
        assert to_ascii(row["last_name"], "de_DE") in row["email"]
        assert "oe" in row["email"].split("@")[0]


def test_gender_agrees_with_the_first_name():
    rows = table(PERSON, rows=5_000).to_pylist()
    by_name: dict[str, set[str]] = {}
    for row in rows:
        by_name.setdefault(row["first_name"], set()).add(row["gender"])
    # a name in both of Faker's lists may be either; every other name has one gender
    assert sum(len(genders) == 1 for genders in by_name.values()) >= 0.95 * len(by_name)


def test_free_mail_domains_are_the_locales_and_never_placeholders():
    for locale in ("en_US", "de_DE", "fr_FR", "sv_SE", "en_GB"):
        emails = table({"email": {"kind": "person", "part": "email", "locale": locale}}, rows=5_000).column("email")
        domains = {email.split("@")[1] for email in emails.to_pylist()}
        assert not [domain for domain in domains if domain.startswith("example.")]
        assert "gmail.com" in domains and len(domains) >= 5
    de = table({"email": {"kind": "person", "part": "email", "locale": "de_DE"}}, rows=5_000).column("email")
    assert {"gmx.de", "web.de", "t-online.de"} <= {email.split("@")[1] for email in de.to_pylist()}


def test_listed_domains_are_used_and_example_only_when_listed():
    emails = table({"email": {"kind": "person", "part": "email", "domains": ["example.org", "acme.io"]}},
                   rows=2_000).column("email").to_pylist()
    assert {email.split("@")[1] for email in emails} == {"example.org", "acme.io"}


def test_a_work_email_uses_the_rows_company_domain():
    rows = table({"first_name": {"kind": "person", "part": "first_name"},
                  "last_name": {"kind": "person", "part": "last_name"},
                  "email": {"kind": "person", "part": "email", "domains": "company"},
                  "company": {"kind": "company"}, "domain": {"kind": "company", "part": "domain"}},
                 rows=5_000).to_pylist()
    for row in rows:
        local, domain = row["email"].split("@")
        assert domain == row["domain"]
        assert local in logins(to_ascii(row["first_name"]), to_ascii(row["last_name"])), row


def test_another_record_is_another_person():
    rows = table({"a": {"kind": "person"}, "b": {"kind": "person", "record": "manager"}}, rows=1_000)
    same = pc.sum(pc.equal(rows.column("a"), rows.column("b"))).as_py()
    assert same == 0


def test_english_middle_names_are_initials():
    names = table({"name": {"kind": "person", "middle": 1.0}}, rows=1_000).column("name").to_pylist()
    assert all(re.match(r"^\S+ [A-Z]\. .+$", name) for name in names), names[:5]
    plain = table({"name": {"kind": "person", "middle": 0.0}}, rows=1_000).column("name").to_pylist()
    assert not any(re.search(r" [A-Z]\. ", name) for name in plain)


# -- companies ---------------------------------------------------------------------------------


def test_a_companys_name_domain_email_and_website_agree():
    rows = table({"name": {"kind": "company", "locale": "de_DE"},
                  "domain": {"kind": "company", "part": "domain", "locale": "de_DE"},
                  "email": {"kind": "company", "part": "email", "mailbox": "billing", "locale": "de_DE"},
                  "website": {"kind": "company", "part": "website", "locale": "de_DE"}}, rows=5_000).to_pylist()
    for row in rows:
        first_word = to_ascii(re.split(r"[ ,&]", row["name"])[0], "de_DE")
        assert row["domain"].startswith(first_word), row
        assert re.match(r"^[a-z0-9-]+\.(de|com)$", row["domain"]), row
        assert row["email"] == f"billing@{row['domain']}"
        assert row["website"] == f"https://www.{row['domain']}"


# -- addresses ---------------------------------------------------------------------------------

ADDRESS_PARTS = ("street", "street_name", "building_number", "city", "postcode", "state", "country",
                 "country_code", "full")


@pytest.mark.parametrize("locale", ["en_US", "de_DE", "fr_FR"])
def test_every_address_is_one_drawn_place(locale):
    columns = {part: {"kind": "address", "part": part, "locale": locale} for part in ADDRESS_PARTS}
    rows = table(columns, rows=5_000).to_pylist()
    places = {(place["city"], place["postcode"], place["state"], place["country"])
              for place in address_parts(locale).places.to_pylist()}
    for row in rows:
        assert (row["city"], row["postcode"], row["state"], row["country"]) in places, row
        assert row["street_name"] in row["street"] and row["building_number"] in row["street"]
        assert row["street"] in row["full"] and row["city"] in row["full"] and row["postcode"] in row["full"]
    assert len({row["city"] for row in rows}) > 300  # de_DE has about 400 real towns


def test_en_us_postcodes_lie_in_their_states():
    from faker import Faker

    provider = next(p for p in Faker("en_US").get_providers() if ".address" in type(p).__module__)
    abbreviations = dict(zip(provider.states, [a for a in provider.states_abbr if a != "DC"]))
    rows = table({"state": {"kind": "address", "part": "state"}, "postcode": {"kind": "address", "part": "postcode"},
                  "full": {"kind": "address"}}, rows=5_000).to_pylist()
    for row in rows:
        low, high = provider.states_postcode[abbreviations[row["state"]]]
        assert low <= int(row["postcode"]) <= high, row
        assert row["full"].endswith(f", {abbreviations[row['state']]} {row['postcode']}")


def test_street_order_follows_the_locale():
    us = table({"street": {"kind": "address", "part": "street"}}, rows=200).column("street").to_pylist()
    de = table({"street": {"kind": "address", "part": "street", "locale": "de_DE"}}, rows=200).column("street").to_pylist()
    assert all(re.match(r"^\d+ ", street) for street in us)
    assert all(re.search(r" \d+$", street) for street in de)


# -- determinism: the record, not the column, decides ---------------------------------------------


def test_columns_agree_inside_conditional_cases():
    """A `by:` case draws from its own streams, but a record is a function of the row: it still agrees."""
    columns = {"tier": {"kind": "categorical", "values": ["Free", "Pro"]},
               "last_name": {"kind": "person", "part": "last_name"},
               "email": {"kind": "person", "part": "email", "by": "tier",
                         "cases": {"Free": {}, "Pro": {"domains": ["acme-corp.com"]}}}}
    rows = table(columns, rows=3_000, block_rows=500).to_pylist()
    for row in rows:
        assert to_ascii(row["last_name"]) in row["email"]
        assert row["email"].endswith("@acme-corp.com") == (row["tier"] == "Pro")


def test_adding_and_removing_columns_of_a_record_moves_nothing():
    alone = table({"name": {"kind": "person"}}, rows=2_000).column("name")
    crowded = table({"email": {"kind": "person", "part": "email", "nulls": 0.3},
                     "city": {"kind": "address", "part": "city"},
                     "name": {"kind": "person"}}, rows=2_000).column("name")
    assert alone.equals(crowded)


def test_block_size_does_not_change_the_people():
    big = table(PERSON, rows=3_000, block_rows=65_536)
    small = table(PERSON, rows=3_000, block_rows=77)
    assert big.equals(small)


def test_the_seed_and_the_table_change_the_people():
    one = table({"name": {"kind": "person"}}, rows=500, seed=1).column("name")
    two = table({"name": {"kind": "person"}}, rows=500, seed=2).column("name")
    assert not one.equals(two)


def test_the_locale_mismatch_is_documented_behaviour():
    """Columns of one record with different locales are different vocabularies over the same draws:
    the docs tell users to give a record one locale; the values stay valid text either way."""
    rows = table({"a": {"kind": "person", "part": "last_name", "locale": "de_DE"},
                  "b": {"kind": "person", "part": "last_name", "locale": "fr_FR"}}, rows=100)
    assert rows.column("a").null_count == 0 and rows.column("b").null_count == 0


def test_preview_and_generate_through_the_public_api(tmp_path):
    spec = {"name": "crm", "seed": 3, "tables": {"contacts": {"rows": 300, "columns": {
        "name": {"kind": "person"}, "email": {"kind": "person", "part": "email"},
        "company": {"kind": "company"}, "city": {"kind": "address", "part": "city"}}}}}
    fabula.generate(spec, tmp_path / "out")
    import pyarrow.parquet as pq

    back = pq.read_table(tmp_path / "out" / "contacts")
    assert back.num_rows == 300 and back.column_names == ["name", "email", "company", "city"]
    assert np.all([EMAIL.match(email) for email in back.column("email").to_pylist()])
