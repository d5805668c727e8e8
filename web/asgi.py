"""The ASGI entry point for uvicorn: `web.asgi:app`, configured from the environment."""

from web.app import create_app

app = create_app()
