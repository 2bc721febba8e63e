// Swagger UI over this service's own OpenAPI document. Everything is served by the service
// itself (no CDN); the validator badge, which would call validator.swagger.io, is off.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false,
  tryItOutEnabled: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout"
})
