"""The aiohttp application: app factory, keys, middlewares, static web client."""
