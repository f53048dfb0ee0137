"""The Jinja environment for what is rendered outside a request: e-mails and scorecards.

The web pages use Litestar's own engine over the same folder; both escape HTML, and both
translate through `surveys.infra.i18n`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from surveys.infra.i18n import install_i18n

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@cache
def environment() -> Environment:
    """The environment, built once per process: HTML escaped, missing values an error."""
    return install_i18n(
        Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,
        )
    )
