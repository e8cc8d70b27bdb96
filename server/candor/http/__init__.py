"""The only place that imports Starlette: the app, the websocket endpoint and the HTTP API."""
