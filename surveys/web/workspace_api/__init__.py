"""The workspaces as JSON for BI tools, and every table as CSV.

Each route asks the same reach helper as its page (surveys.web.reach) and reads through the
same domain function, so the API shows exactly what the page shows: hidden cells are null,
never estimated. A personal API token or the browser's session authenticates (the
controller provides its `viewer` with surveys.web.auth.api_viewer); lists are paginated
(surveys.infra.pagination); each `/csv` twin returns the whole table as a download.

- `_routes`: the controller, WorkspaceAPI;
- `_schemas`: what the routes answer (named in the OpenAPI document);
- `_csv`: tables as CSV downloads.

May import: what `surveys.web` may (the domain and `surveys.infra`) and `surveys.web.auth`
and `surveys.web.reach`.
"""

from surveys.web.workspace_api._routes import WorkspaceAPI

__all__ = ["WorkspaceAPI"]
