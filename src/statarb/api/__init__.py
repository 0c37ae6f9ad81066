"""The HTTP and WebSocket API of the engine (``create_app(settings)``)."""

from statarb.api.app import create_app

__all__ = ["create_app"]
