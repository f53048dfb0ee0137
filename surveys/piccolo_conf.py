"""Piccolo's configuration: the engine from DATABASE_URL and Rapport's one app."""

from piccolo.conf.apps import AppRegistry

from surveys.infra.database import configured_engine

DB = configured_engine()

APP_REGISTRY = AppRegistry(apps=["surveys.piccolo_app"])
