"""The Jinja environment for what is rendered outside a request: e-mails and scorecards.

The web pages use Litestar's own engine over the same folder; both escape HTML, both
translate through `surveys.infra.i18n`, and both keep the direction controls of what
people typed inside what they typed (`contained_direction`): see `prepared`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from surveys.infra.i18n import LanguageOf, install_i18n, language_in_context

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


OPENERS = {
    "\u202a": "\u202c",  # left-to-right embedding … pop directional formatting
    "\u202b": "\u202c",  # right-to-left embedding
    "\u202d": "\u202c",  # left-to-right override
    "\u202e": "\u202c",  # right-to-left override
    "\u2066": "\u2069",  # left-to-right isolate … pop directional isolate
    "\u2067": "\u2069",  # right-to-left isolate
    "\u2068": "\u2069",  # first strong isolate
}
"""Unicode's direction controls that open a run, with the character that closes it."""
_CONTROLS = frozenset(OPENERS) | {"\u202c", "\u2069"}


def contained_direction(text: str) -> str:
    """`text` with every direction control it opens closed at its end.

    A right-to-left override (U+202E) typed in a comment, a reply, a reason or a name
    would otherwise reverse everything printed after it on the same line of a page or a
    PDF ("Tier 1 ‮ reason" turning what follows backwards). Closing what the text opens
    keeps its effect inside the text, as `<bdi>` would, and works as well inside an
    attribute, an e-mail or a scorecard. Text without such controls is returned as is.
    """
    if _CONTROLS.isdisjoint(text):
        return text
    open_runs: list[str] = []
    for character in text:
        if character in OPENERS:
            open_runs.append(character)
        elif character == "\u202c" and open_runs and OPENERS[open_runs[-1]] == "\u202c":
            open_runs.pop()
        elif character == "\u2069" and "\u2069" in (OPENERS[o] for o in open_runs):
            while OPENERS[open_runs.pop()] != "\u2069":  # closes the embeddings inside it too
                pass
    return text + "".join(OPENERS[o] for o in reversed(open_runs))


def _finalized(value: Any) -> Any:
    """What `{{ value }}` prints: people's text with its direction controls contained."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return contained_direction(value)
    return value


def signed(change: int | None) -> str:
    """A change as every template prints it: "+4", "-3", "0", or "—" when there is none.

    The number is `scoring.trends.shown_change`'s, already whole: a template that rounded
    a float itself would print "-0" for -0.3 and could disagree with the page beside it.
    """
    if change is None:
        return "—"
    return f"{change:+d}" if change else "0"


def prepared(
    environment: Environment, language_of: LanguageOf = language_in_context
) -> Environment:
    """`environment` translating (surveys.infra.i18n) into the language `language_of`
    finds, containing direction controls, and printing changes one way (`signed`)."""
    environment.finalize = _finalized
    environment.filters["signed"] = signed
    return install_i18n(environment, language_of, _finalized)


@cache
def environment() -> Environment:
    """The environment, built once per process: HTML escaped, missing values an error."""
    return prepared(
        Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,
        )
    )
