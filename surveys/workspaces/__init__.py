"""Workspaces: the reads behind the signed-in pages and their API twins.

- `portfolio`: a sponsor's portfolio; `portfolio_view`: its page's filters, sort and pages;
- `reviews`: a sponsor's tier review, with the sponsor's name;
- `site_view`: what a site sees of a published cycle, and a network's sites side by side;
- `institution_trends`: trends across institutions, for relationship managers;
- `meeting_pack`: a relationship's review meeting: agenda and action items;
- `places`: the workspaces a home page lists, and organisations named by slug;
- `scored`: the scored cycles read (lists paginate with `surveys.infra.pagination`).

Each read takes what the viewer may reach (surveys.accounts.policy) and returns frozen
dataclasses that a page or an API route shows as they are.
May import: `scoring`, `surveys.infra`, `surveys.charts` and every domain package below it
(directory, accounts, instruments, cycles, responses, results); never `surveys.web`.
"""
