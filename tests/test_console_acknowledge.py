"""The server's side of an acknowledgement: recorded as the signed-in user's, pushed to
every browser of the organisation with the stream list, and emitted on the event bus
(what SOC integrations listen to). Viewers may acknowledge too (SPEC §4)."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bwlive_rtc.crypto.acknowledgement import seal_acknowledgement, viewer_sender
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.system_key import SystemKeyPair
from bwlive_rtc.kernel.appkeys import EVENTS
from bwlive_rtc.kernel.config import Settings
from bwlive_rtc.kernel.events import STREAM_ACKNOWLEDGED
from bwlive_rtc.server import start_server
from bwlive_rtc.viewer.session import ApiClient
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD, Camera, bootstrap_admin
from tests.test_groups import invite


async def test_acknowledgement_is_recorded_pushed_and_emitted(tmp_path: Path) -> None:
    keys = SystemKeyPair.generate()
    keys.save(tmp_path / "keys")
    bootstrap_admin(tmp_path / "data", tmp_path / "keys")
    runner, port = await start_server(Settings(port=0, keys_dir=tmp_path / "keys", data_dir=tmp_path / "data"))
    events: list = []
    runner.app[EVENTS].on(STREAM_ACKNOWLEDGED, events.append)
    camera = Camera(tmp_path, f"http://127.0.0.1:{port}", tmp_path / "keys", "Jip Mulder")
    admin = await ApiClient.signed_in(f"http://127.0.0.1:{port}", ADMIN_EMAIL, ADMIN_PASSWORD)
    viewer = await invite(admin, "vic@example.test", "Vic Viewer", "viewer")
    try:
        await asyncio.to_thread(camera.wait_for, "streaming")
        async with admin.http.ws_connect(admin.server + "/api/streams/ws") as socket:
            (stream,) = (await socket.receive_json(timeout=5))["streams"]
            assert stream["camera"] == "Jip Mulder" and stream["acknowledged"] is None
            stream_key = KeyEnvelope.from_json(stream["key_envelope"]).open(keys)
            sealed = seal_acknowledgement(viewer_sender(stream_key), int(time.time() * 1000))
            async with viewer.request("POST", f"/api/streams/{stream['id']}/acknowledge", json={"sealed": sealed}) as response:
                assert response.status == 200, await response.text()
                answer = await response.json()
            assert answer["by"] == "Vic Viewer"
            await asyncio.to_thread(camera.wait_for, "acknowledged: by Vic Viewer", 5)
            pushed = await socket.receive_json(timeout=5)
            (stream,) = pushed["streams"]
            assert stream["acknowledged"] == {"by": "Vic Viewer", "at": answer["at"]}
        assert [(e.stream_id, e.camera, e.details) for e in events] == [(stream["id"], "Jip Mulder", {"by": "Vic Viewer"})]
        async with admin.request("GET", "/api/organisation/audit") as response:
            actions = [entry["action"] for entry in (await response.json())["entries"]]
        assert "stream acknowledged" in actions
    finally:
        await viewer.close()
        await admin.close()
        camera.stop()
        await runner.cleanup()
