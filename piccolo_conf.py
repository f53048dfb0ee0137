"""Entry point for Piccolo's own CLI (`piccolo migrations new surveys --auto`) from the root."""

from surveys.piccolo_conf import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
