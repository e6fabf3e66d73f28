// Renders /api/v1/openapi.json with the vendored Swagger UI: offline, no validator badge
// (it would call validator.swagger.io), requests made with the token given to "Authorize".
window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
