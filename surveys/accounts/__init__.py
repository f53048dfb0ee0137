"""Accounts of the people who sign in to review results (passwords, grants, sessions,
one-time links, API tokens) and the policy that says what each may reach.

May import: `surveys.infra`, `surveys.directory`.
"""
