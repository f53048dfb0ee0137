"""What a directory value must be, written once: the import, the console and the commands
all check e-mails, countries, roles, languages and slugs here.

Each checker returns the value in its stored form or raises DirectoryValueError with
a sentence a person can act on; callers add where the value came from (a file's line
and column, a form's field).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from babel import Locale
from email_validator import EmailNotValidError, validate_email

from surveys.directory.organisations import SLUG, OrgKind, Role
from surveys.infra.errors import RapportError
from surveys.infra.i18n import LANGUAGES, N_


class DirectoryValueError(RapportError, ValueError):
    """A directory value is not one Rapport can store; the message says why."""


def normal_email(text: str) -> str:
    """The e-mail address as stored: checked, trimmed, Unicode-normalised and lower-cased.

    Addresses are matched case-insensitively throughout (a person typed in two cases in
    two files is one person), so the stored form is the lower-case one. No DNS lookup:
    a directory is imported offline, and a dead domain shows up as an undeliverable
    invitation, which the console reports.
    """
    text = text.strip()
    if not text:
        raise DirectoryValueError(N_("an e-mail address is needed"))
    local, at, domain = text.rpartition("@")
    if at and len(local) <= 64 and len(text) <= 254 and _PLAIN_LOCAL_PART.fullmatch(local):
        # a directory import checks tens of thousands of addresses at a few hundred
        # domains: a plain local part needs no checking, and each domain is checked once
        try:
            return f"{local}@{_normal_domain(domain)}".lower()
        except EmailNotValidError as error:
            raise DirectoryValueError(
                N_("%(text)r is not an e-mail address: %(problem)s"), text=text, problem=str(error)
            ) from None
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise DirectoryValueError(
            N_("%(text)r is not an e-mail address: %(problem)s"), text=text, problem=str(error)
        ) from None
    return checked.normalized.lower()


_PLAIN_LOCAL_PART = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
)
"""An ASCII dot-atom: a local part every mail system accepts as it is."""


@lru_cache(maxsize=65536)
def _normal_domain(domain: str) -> str:
    """The domain of an address as `validate_email` normalises it (raises if invalid)."""
    return str(validate_email(f"x@{domain}", check_deliverability=False).domain)


_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})
"""Two-letter regions in the CLDR list that are not countries (the EU, "unknown"…)."""


@cache
def _countries() -> frozenset[str]:
    codes = (str(code) for code in Locale("en").territories)
    return frozenset(c for c in codes if re.fullmatch(r"[A-Z]{2}", c) and c not in _NOT_COUNTRIES)


def country_code(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code, upper-cased; None for an empty value."""
    code = text.strip().upper()
    if not code:
        return None
    if code not in _countries():
        raise DirectoryValueError(
            N_("%(text)r is not an ISO 3166 two-letter country code"), text=text.strip()
        )
    return code


def country_name(code: str | None, language: str = "en") -> str:
    """The name of a country code in `language` (Babel's; the code itself if Babel has
    none), or '' for none."""
    if not code:
        return ""
    found = _locale_of(language).territories.get(code) or Locale("en").territories.get(code)
    return str(found or code)


@cache
def _locale_of(language: str) -> Locale:
    return Locale.parse(language)


AREA_NAMES = {
    "cardiology": N_("Cardiology"),
    "endocrinology": N_("Endocrinology"),
    "immunology": N_("Immunology"),
    "infectious_disease": N_("Infectious diseases"),
    "neurology": N_("Neurology"),
    "oncology": N_("Oncology"),
    "rare_disease": N_("Rare diseases"),
    "respiratory": N_("Respiratory"),
}
"""What a reader calls the therapeutic areas Rapport knows (the demo's, a CTMS's usual),
in English: pages show them with `| translate`."""


def area_name(code: str) -> str:
    """What a reader calls a therapeutic area stored as `code`: its name if known, else the
    code spaced and capitalised (an import may bring areas of its own)."""
    return AREA_NAMES.get(code) or code.replace("_", " ").strip().capitalize()


def role_of(text: str) -> Role:
    """A person's role from its code (`pi`, `site_director`…), in any case, spaces allowed."""
    code = text.strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return Role(code)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise DirectoryValueError(
            N_("%(text)r is not a role; roles: %(known)s"), text=text.strip(), known=known
        ) from None


def kind_of(text: str) -> OrgKind:
    """An organisation's kind from its code (`sponsor`, `cro`, `site`, `network`)."""
    code = text.strip().lower()
    try:
        return OrgKind(code)
    except ValueError:
        known = ", ".join(k.value for k in OrgKind)
        raise DirectoryValueError(
            N_("%(text)r is not a kind; kinds: %(known)s"), text=text.strip(), known=known
        ) from None


def language_of(text: str) -> str:
    """A person's language: one Rapport's surveys speak (`en`, `fr`…); empty means English.

    A regional tag (`fr-CA`, `de_DE`) is taken as its language.
    """
    code = re.split(r"[-_]", text.strip().lower())[0] if text.strip() else "en"
    if code not in LANGUAGES:
        raise DirectoryValueError(
            N_("%(text)r is not a language Rapport speaks; languages: %(known)s"),
            text=text.strip(),
            known=", ".join(LANGUAGES),
        )
    return code


def slug_for(name: str) -> str:
    """A slug made from a name: ASCII letters and digits joined by hyphens, at most 80.

    >>> slug_for("Centre Hospitalier Universitaire de Nîmes")
    'centre-hospitalier-universitaire-de-nimes'
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80].rstrip("-")
    if not SLUG.match(slug):
        raise DirectoryValueError(
            N_("%(name)r has no letters or digits to make a short name from"), name=name
        )
    return slug


def checked_slug(text: str) -> str:
    """A slug given as is: lower-case letters, digits and hyphens, at most 80."""
    slug = text.strip()
    if not SLUG.match(slug):
        raise DirectoryValueError(
            N_("%(slug)r must be lower-case letters, digits and hyphens"), slug=slug
        )
    return slug


@cache
def _country_names() -> dict[str, str]:
    """English country names (CLDR's, case-folded) → code, for files that spell them out."""
    names = {str(n).casefold(): str(c) for c, n in Locale("en").territories.items()}
    return {name: code for name, code in names.items() if code in _countries()}


def country_of(text: str) -> str | None:
    """A country from its ISO code or its English name ("France", "united kingdom").

    CTMS and CRM exports usually spell countries out; a name CLDR does not know is
    translated by an import's mapping file instead.
    """
    name = text.strip().casefold()
    if name in _country_names():
        return _country_names()[name]
    return country_code(text)


_YES = frozenset({"yes", "y", "true", "1", "x", "oui", "ja", "sí", "si"})
_NO = frozenset({"no", "n", "false", "0", "non", "nein"})


def flag_of(text: str) -> bool | None:
    """A yes/no value (`yes`, `no`, `true`, `0`…); empty is None (the default applies)."""
    word = text.strip().casefold()
    if not word:
        return None
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise DirectoryValueError(N_("%(text)r is not yes or no"), text=text.strip())
