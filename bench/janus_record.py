"""Keeps Janus's videoroom recording while a benchmark runs, so that Janus is measured as
bwlive ships (every stream recorded). The shared tool creates its room without
``record``; this switches recording on (``enable_recording``) whenever the room exists,
every second, until killed. Janus writes its raw ``.mjr`` files into ``--rec-dir``.

    python bench/janus_record.py [--url http://127.0.0.1:8088/janus] [--room 4242] --rec-dir DIR
"""
from __future__ import annotations

import argparse
import asyncio
import secrets
from typing import Any

import aiohttp


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    body["transaction"] = secrets.token_hex(6)
    async with http.post(url, json=body) as response:
        reply: dict[str, Any] = await response.json(content_type=None)
    if reply.get("janus") == "error":
        raise RuntimeError(f"janus: {reply.get('error')}")
    return reply


async def keep_recording(url: str, room: int, rec_dir: str) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        session = (await post(http, url, {"janus": "create"}))["data"]["id"]
        handle = (await post(http, f"{url}/{session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"}))["data"]["id"]
        handle_url, recording = f"{url}/{session}/{handle}", False

        async def ask(body: dict[str, Any]) -> dict[str, Any]:
            reply = await post(http, handle_url, {"janus": "message", "body": body})
            data: dict[str, Any] = reply.get("plugindata", {}).get("data", {})
            return data

        while True:
            exists = (await ask({"request": "exists", "room": room})).get("exists", False)
            if exists:
                # the room is re-created for each configuration: point it at the directory and
                # switch recording on again (publishers joining later are recorded too)
                for body in ({"request": "edit", "room": room, "new_rec_dir": rec_dir},
                             {"request": "enable_recording", "room": room, "record": True}):
                    data = await ask(body)
                    if "error" in data:
                        raise RuntimeError(f"janus refused {body['request']}: {data['error']}")
                if not recording:
                    print(f"janus room {room}: recording into {rec_dir}", flush=True)
            recording = bool(exists)
            await asyncio.sleep(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8088/janus")
    parser.add_argument("--room", type=int, default=4242)
    parser.add_argument("--rec-dir", required=True)
    args = parser.parse_args()
    asyncio.run(keep_recording(args.url, args.room, args.rec_dir))


if __name__ == "__main__":
    main()
