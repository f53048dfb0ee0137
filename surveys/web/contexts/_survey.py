"""The survey link's pages: where a link leads, and the form itself."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from surveys.cycles.invitations import LinkView
from surveys.instruments.questionnaires import Questionnaire
from surveys.responses.answering import FormAnswers


@dataclass(frozen=True)
class LinkContext:
    """The page a survey link leads to."""

    link: LinkView
    """The invitation's state, partner and cycle, as much as may be shown."""


@dataclass(frozen=True)
class ProblemLink:
    """One answer to check, as the error summary links to it."""

    key: str
    """The item, whose question has the id `question-<key>`."""
    number: int | None
    """The question's number on the form; None for a question known by its name."""
    name: str | None
    """An importance question's dimension; None for a numbered question and the comment."""


@dataclass(frozen=True)
class Problems:
    """Answers that have the same problem: one line of the error summary."""

    message: str
    """What is wrong with each of them (translated)."""
    links: tuple[ProblemLink, ...]
    """Them, in the order of the form."""


@dataclass(frozen=True)
class SurveyContext:
    """The survey form: the questions, the answers so far, and what is wrong with them."""

    link: LinkView
    """The invitation's state, partner and cycle, as much as may be shown."""
    questionnaire: Questionnaire
    """The instrument's questions, in the form's language, about the partner."""
    answers: FormAnswers
    """What the respondent answered so far (a draft, or the form as posted)."""
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
    """Characters the comment may have."""
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
    preview: bool = False
    """An administrator's preview of the questionnaire: shown exactly, answered by nobody."""

    @property
    def problems(self) -> tuple[Problems, ...]:
        """The errors grouped by message, in the order their first question appears, so a
        summary names each problem once and links to its questions by number."""
        q = self.questionnaire
        grouped: dict[str, list[ProblemLink]] = {}
        for key, message in self.errors.items():
            link = ProblemLink(key, q.numbers.get(key), q.importance_name(key))
            grouped.setdefault(message, []).append(link)
        return tuple(Problems(message, tuple(links)) for message, links in grouped.items())
