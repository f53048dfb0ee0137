"""The web face: Litestar controllers, one per area, and the application factory (`app`).

`auth` signs people in and provides each handler its `viewer` (dependency injection);
`reach` is where every page and API route authorises; `contexts` holds one typed context
per page; `survey` serves respondents' links; `workspaces`, `meetings` and `scorecards`
the signed-in pages; `workspace_api` their JSON and CSV twins; `api` the administrators'
cycle API; `health` the health check.

May import: every domain package and `surveys.infra`; never `surveys.cli` (the import
contracts in pyproject.toml check it). Handlers parse, authorise, call one domain function
and render: no query, filter, sort or pagination here.
"""
