"""Cycles: one survey wave (`cycle`), the invitations and secret links it sends
(`invitations`), its life-cycle from creation to closing and reopening (`life_cycle`),
the letters it mails, one per person and round (`letters`), what opening would do
(`preview`) and how far its people got (`progress`).

May import: `surveys.infra`, `surveys.directory`, `surveys.instruments`.
"""
