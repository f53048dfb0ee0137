"""Rapport's domain and web: tables, survey life-cycle, the Litestar app and the CLI."""

import os

# Piccolo finds its engine through a module named by PICCOLO_CONF; pointing it
# inside the package keeps the installed `rapport` command working from any
# directory (the root piccolo_conf.py only serves Piccolo's own CLI).
os.environ.setdefault("PICCOLO_CONF", "surveys.piccolo_conf")
