"""Cycles: one survey wave (`cycle`), the invitations and secret links it sends
(`invitations`), and its life-cycle from creation to closing, with the letters it mails
(`life_cycle`).

May import: `surveys.infra`, `surveys.directory`, `surveys.instruments`.
"""
