"""Litestar controllers, one per area, and the application factory."""
