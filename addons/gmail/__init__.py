"""Google Workspace add-on (HTTP runtime) for Gmail."""
