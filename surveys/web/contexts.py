"""One typed context per page: what a template may show, and nothing it must compute."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from surveys.answering import FormAnswers
from surveys.invitations import LinkView
from surveys.organisations import OrganisationListing
from surveys.questionnaires import Questionnaire


@dataclass(frozen=True)
class KindGroup:
    """The organisations of one kind, as the home page lists them."""

    kind: str
    """sponsor, cro, network or site."""
    title: str
    """The group's heading."""
    organisations: tuple[OrganisationListing, ...]
    """Sorted by name."""


@dataclass(frozen=True)
class HomeContext:
    """The home page: every organisation, grouped by kind."""

    groups: tuple[KindGroup, ...]
    """Sponsors, CROs, networks, then sites."""
    total: int
    """How many organisations in all."""
    database: str
    """Which database this instance serves, e.g. "SQLite" or "PostgreSQL"."""


@dataclass(frozen=True)
class LinkContext:
    """The page a survey link leads to."""

    link: LinkView
    """The invitation's state, partner and cycle, as much as may be shown."""


@dataclass(frozen=True)
class SurveyContext:
    """The survey form: the questions, the answers so far, and what is wrong with them."""

    link: LinkView
    questionnaire: Questionnaire
    answers: FormAnswers
    errors: dict[str, str]
    """Item key → message (translated), in the order the questions appear."""
    answered: int
    """Questions answered so far (statements and the overall question)."""
    questions: int
    """Questions that need an answer before submitting."""
    notice: str | None
    """A line to show above the form, e.g. that a draft was saved."""
    privacy: str
    """Who will see the answers and the comment, in the respondent's terms."""
    comment_limit: int
    token: str
    """The link's token, to post the form back to the same address."""
    language: str
    """The language the form is shown in."""
    languages: dict[str, str]
    """Every language the form can switch to, by code, with its own name."""
    closes: str | None
    """The closing date, written as the language writes dates."""
    questions_html: Markup | None = None
    """The dimensions' questions already rendered (a fresh form), else None: render them."""
