"""An integrator's backend: keeps the bwlive API key and gives its own pages viewer tokens."""
import os

import aiohttp
from aiohttp import web


def token_backend(bwlive: str, api_key: str, origin: str) -> web.Application:
    async def token(request: web.Request) -> web.Response:
        # Here: check that your user is signed in to *your* site, and decide what they may see.
        wanted = {"origin": origin, "minutes": 5, "scope": {"streams": ["*"]}}
        async with aiohttp.ClientSession() as http, http.post(
                f"{bwlive}/api/tokens", json=wanted, headers={"Authorization": f"Bearer {api_key}"}) as answer:
            return web.json_response(await answer.json(), status=answer.status)

    app = web.Application()
    app.router.add_post("/bwlive-token", token)
    return app


if __name__ == "__main__":  # BWLIVE_URL=https://bwlive.example BWLIVE_API_KEY=bwk_... SITE_ORIGIN=https://vms.example
    web.run_app(token_backend(os.environ["BWLIVE_URL"], os.environ["BWLIVE_API_KEY"], os.environ["SITE_ORIGIN"]))
