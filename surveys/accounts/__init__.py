"""Accounts of the people who sign in to review results (passwords, grants, sessions,
one-time links, API tokens: `credentials`), what each may reach (`policy`), how accounts
are given, changed and taken away by administrators (`administration`, which the console
and `rapport admin|accounts` both call), and the e-mail carrying a one-time link or an
invitation (`sign_in_mail`).

May import: `surveys.infra`, `surveys.directory`.
"""
