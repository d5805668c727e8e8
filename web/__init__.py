"""Kyoso's web layer: the Litestar app, its Jinja + htmx pages, the JSON API and the `kyoso` CLI."""
