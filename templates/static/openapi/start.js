// Rapport's API reference: Swagger UI (vendored beside this file) on the schema this
// server describes. A file, not an inline script: the pages' security policy allows
// scripts from Rapport only.
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-schema"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
