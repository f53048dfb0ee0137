"""Rapport's domain and its two faces, the web and the CLI; see docs/architecture.md.

Layers, bottom to top (the import contracts in pyproject.toml keep them):

- `infra`: engine and transactions, settings, errors, i18n, templating, mail; no table;
- the domain, bottom to top: `charts` (geometry, no table), `directory` (with the audit
  log), `accounts`, `instruments`, `cycles`, `responses`, `results`, `workspaces`,
  `scorecards`, `world`: tables beside their operations;
- the faces: `web` (Litestar pages and API) and `cli` (the `rapport` command), which never
  import each other;
- `piccolo_app`: the list of every table, for Piccolo's migrations.
"""

import os

# Piccolo finds its engine through a module named by PICCOLO_CONF; pointing it
# inside the package keeps the installed `rapport` command working from any
# directory (the root piccolo_conf.py only serves Piccolo's own CLI).
os.environ.setdefault("PICCOLO_CONF", "surveys.piccolo_conf")
