"""A signed-in HTTP client for the server's API: session cookie plus CSRF header."""
from __future__ import annotations

from typing import Any

import aiohttp

from ..protocol import CSRF_HEADER


class ApiClient:
    """``await ApiClient.signed_in(url, email, password)``; then ``client.request(...)``."""

    def __init__(self, server: str) -> None:
        self.server = server.rstrip("/")
        # unsafe=True: keep cookies from an IP-address host such as 127.0.0.1
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf_token: str | None = None
        self.session: dict[str, Any] = {}

    @classmethod
    async def signed_in(cls, server: str, email: str, password: str) -> ApiClient:
        client = cls(server)
        async with client.http.post(client.server + "/api/session", json={"email": email, "password": password}) as response:
            body = await response.json()
            if response.status != 200:
                await client.close()
                raise PermissionError(f"sign-in refused ({response.status}): {body.get('error')}")
        client.session = body
        client.csrf_token = body["csrf_token"]
        client.http.headers[CSRF_HEADER] = client.csrf_token  # sent with every request
        return client

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """Like aiohttp's ``request``; ``url`` may be a path on the server."""
        return self.http.request(method, url if "://" in url else self.server + url, **kwargs)

    async def close(self) -> None:
        await self.http.close()
