"""The ASGI entry point for uvicorn: `web.asgi:app`, configured from the environment."""

import gc

from web.app import create_app

app = create_app()


def _freeze_heap() -> None:
    """What is alive once the server has started (modules, templates, the app) lives as long as the
    process: out of the collector's sight, a full collection no longer walks some 150,000 objects
    in the middle of a burst of requests (it took about 100 ms, most of the pages' p95)."""
    gc.collect()
    gc.freeze()


app.on_startup.append(_freeze_heap)
