"""Record kinds: people, companies and addresses whose columns agree with each other.

A record is one person (company, address) per row, drawn once and read by several columns:
every `person` column of a table with the same `record:` name describes the same person, so
`first_name`, `last_name`, `name`, `username` and `email` agree on every row, and every
`address` column of one record reads street, city, postcode, state and country of one drawn
address. Which part a column shows is its `part:`.

    customers:
      columns:
        first_name: {kind: person, part: first_name, locale: de_DE}
        last_name:  {kind: person, part: last_name, locale: de_DE}
        email:      {kind: person, part: email, locale: de_DE}       # joerg.groettner@gmx.de

These models only describe parameters; `fabula.generators.people` draws the values.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Literal, get_args

from pydantic import Field, field_validator

from fabula.errors import did_you_mean
from fabula.spec.columns import ColumnSpec, column_kind
from fabula.spec.faker_facts import faker_locales

_RECORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}$")

PersonPart = Literal["name", "first_name", "last_name", "gender", "username", "email"]
CompanyPart = Literal["name", "domain", "email", "website"]
AddressPart = Literal["street", "street_name", "building_number", "city", "postcode", "state", "country",
                      "country_code", "full"]
PERSON_PARTS, COMPANY_PARTS, ADDRESS_PARTS = get_args(PersonPart), get_args(CompanyPart), get_args(AddressPart)


class _RecordColumn(ColumnSpec):
    """What every record kind takes: which record of the row, and in which locale."""

    record: str = Field("", description="columns with the same record name describe the same entity; "
                                        "default: the kind's name")
    locale: str = Field("en_US", description="a Faker locale; give every column of one record the same one")

    @field_validator("record")
    @classmethod
    def _plain_name(cls, record: str) -> str:
        if record and not _RECORD.match(record):
            raise ValueError(f"record {record!r} is not a plain name; use letters, digits and _ (e.g. billing)")
        return record

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, locale: str) -> str:
        known = _faker_locales()
        if locale not in known:
            language = locale.split("_")[0]
            same = sorted(name for name in known if name.split("_")[0] == language)
            home = f"{language}_{language.upper()}"
            suggestion = (f"did you mean `{home}`?" if home in same else did_you_mean(locale, same or sorted(known))
                          ) or "e.g. en_US, de_DE, fr_FR"
            raise ValueError(f"Faker has no locale {locale!r}; {suggestion}")
        return locale

    @property
    def record_name(self) -> str:
        return self.record or self.kind_name


@column_kind("person")
class PersonColumn(_RecordColumn):
    """A person per row: name, first and last name, gender, username and an email that agree.

    Names are composed from the locale's first-name and last-name lists, so distinct names grow
    with the rows; usernames and emails are the name in ASCII ("Gröttner" → "groettner")."""

    part: PersonPart = Field("name", description="which part of the person this column shows")
    middle: float = Field(0.7, ge=0, le=1, description="share of full names with a middle name "
                                                          "(an initial in English locales)")
    domains: Literal["free", "company"] | tuple[str, ...] = Field(
        "free", description="email domains: free (the locale's free-mail providers), company "
                            "(the domain of the row's company record) or a list of domains")
    company: str = Field("company", description="the company record whose domain `domains: company` uses")

    @field_validator("domains", mode="before")
    @classmethod
    def _domain_list(cls, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError("domains is an empty list; list at least one, or write free or company")
            bad = [domain for domain in value if not isinstance(domain, str) or not _DOMAIN.match(domain)]
            if bad:
                raise ValueError(f"not a domain name: {', '.join(map(str, bad))} (e.g. mail.example.org)")
            return tuple(value)
        return value

    @field_validator("company")
    @classmethod
    def _company_name(cls, company: str) -> str:
        if not _RECORD.match(company):
            raise ValueError(f"company {company!r} is not a plain record name; use letters, digits and _")
        return company


@column_kind("company")
class CompanyColumn(_RecordColumn):
    """A company per row: its name, and a domain, email and website that agree with the name."""

    part: CompanyPart = Field("name", description="which part of the company this column shows")
    mailbox: str = Field("info", description="the mailbox of the `email` part, e.g. billing, support")

    @field_validator("mailbox")
    @classmethod
    def _mailbox(cls, mailbox: str) -> str:
        if not re.match(r"^[a-z0-9][a-z0-9._-]{0,63}$", mailbox):
            raise ValueError(f"mailbox {mailbox!r} is not an email local part; use a-z, 0-9, . _ - (e.g. billing)")
        return mailbox


@column_kind("address")
class AddressColumn(_RecordColumn):
    """An address per row, drawn as one record of the locale: street, city, postcode, state and
    country that belong together."""

    part: AddressPart = Field("full", description="which part of the address this column shows")


@cache
def _faker_locales() -> frozenset[str]:
    return frozenset(faker_locales())
