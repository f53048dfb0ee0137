"""Workspaces: the reads behind the signed-in pages and their API twins: a sponsor's
portfolio (`portfolio`), a site's and a network's view (`site_view`), and trends across
institutions (`institution_trends`).

Each returns frozen dataclasses that a page or an API route shows as they are.
May import: `scoring`, `surveys.infra` and every domain package below it (directory,
accounts, instruments, cycles, responses, results).
"""
