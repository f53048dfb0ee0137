"""The deployment files say only what Rapport does: every setting the environment template
sets exists, and every command a unit starts is a `rapport` command."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from surveys.cli import main
from surveys.infra.settings import SETTINGS

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_the_environment_template_sets_only_real_settings() -> None:
    known = {setting.env for setting in SETTINGS}
    template = (DEPLOY / "rapport.env.example").read_text()
    named = re.findall(r"^([A-Z_]+)=", template, flags=re.MULTILINE)
    assert named and set(named) <= known, set(named) - known
    for required in ("DATABASE_URL", "RAPPORT_PUBLIC_URL", "RAPPORT_SECRET_KEY"):
        assert required in named


def test_every_unit_starts_a_rapport_command_that_exists() -> None:
    units = sorted(DEPLOY.glob("*.service"))
    assert {u.name for u in units} >= {"rapport-web.service", "rapport-worker@.service"}
    for unit in units:
        [start] = re.findall(r"^ExecStart=(.+)$", unit.read_text(), flags=re.MULTILINE)
        words = shlex.split(start)
        if words[0] == "/bin/sh":  # the backup's file name carries the date
            words = shlex.split(words[-1].replace("$(", "").replace(")", ""))
        assert words[0].endswith("/rapport"), start
        command = [w for w in words[1:] if not w.startswith("/")][:1]
        result = CliRunner().invoke(main, [*command, "--help"])
        assert result.exit_code == 0, (unit.name, result.output)
