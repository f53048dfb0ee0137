"""`/schema`: the API's reference, drawn by Swagger UI from files Rapport serves itself.

Litestar's own pages fetch their scripts, styles, fonts and icon from public CDNs and
start them with an inline script; the security policy (surveys.web.headers) allows
neither, and a reader of an installation's API reference should not be announced to a
third party. The Swagger UI bundle is kept in templates/static/openapi (its licence
beside it; `make swagger-ui` refreshes it) and started by a script file of ours.
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

ASSETS = "/static/openapi"


class SchemaPage(OpenAPIRenderPlugin):
    """The API reference page at `/schema`, with every asset served by Rapport."""

    def __init__(self) -> None:
        super().__init__(path="/", favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        """The page: Swagger UI's stylesheet and bundle, and our start script."""
        title = escape(str(openapi_schema["info"]["title"]))
        schema = escape(self.get_openapi_json_route(request))
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API reference</title>
<link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
<script src="{ASSETS}/swagger-ui-bundle.js" defer></script>
<script src="{ASSETS}/start.js" defer></script>
</head>
<body>
<div id="swagger-ui" data-schema="{schema}"></div>
</body>
</html>
""".encode()
