"""Route handlers, one module per audience: citizens' pages, sign-in, staff, and the JSON API."""
