"""The phone camera (web/camera.html) as the glass-to-glass source: headless Chromium pairs
with a code made in the bench's data directory, `bwlive camera dock-phones` docks it,
and it streams with its one button. Everything after the picture is the product's path:
Chromium's VP8 encoder, the sender-side SFrame worker, the signed WHIP publish.

The picture: Chromium's fake camera cannot carry a capture time, so this bench (only)
answers the page's getUserMedia video with a canvas stream on which the frame number and
the capture time are drawn as bwlive_rtc.camera.framecode burns them into the agent's
test pattern (blocks of 16 px from (64, 8)), at 30 fps, 640x480; the audio is Chromium's
fake microphone.

    python bench/phone_camera.py --server URL --data-dir DIR --keys-dir DIR

prints "phone streaming" once live and streams until terminated.
"""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path

# getUserMedia answers with a canvas drawing the frame code (framecode.py's layout); audio stays the fake device's
CANVAS_CAMERA_JS = """(() => {
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const canvas = Object.assign(document.createElement('canvas'), { width: 640, height: 480 });
    const ctx = canvas.getContext('2d');
    let frame = 0;
    const draw = () => {
      const words = [frame, Date.now() % 2 ** 32];
      words.push((words[0] ^ words[1] ^ 0x5a5a5a5a) >>> 0);
      ctx.fillStyle = '#404040';
      ctx.fillRect(0, 0, 640, 480);
      words.forEach((word, row) => {
        for (let bit = 0; bit < 32; bit++) {
          ctx.fillStyle = (word >>> (31 - bit)) & 1 ? '#ebebeb' : '#101010';
          ctx.fillRect(64 + bit * 16, 8 + row * 16, 16, 16);
        }
      });
      frame += 1;
    };
    draw();
    setInterval(draw, 1000 / 30);
    const video = canvas.captureStream(30).getVideoTracks();
    const audio = constraints.audio ? (await real({ audio: true })).getAudioTracks() : [];
    return new MediaStream([...video, ...audio]);
  };
})()"""


def pairing_code(data_dir: Path, camera_user: str) -> str:
    """A pairing code for a new camera user of the bench organisation (as the admin page makes one)."""
    from bwlive_rtc.cli.services import open_services
    from bwlive_rtc.kernel.config import Settings

    with open_services(Settings(data_dir=data_dir)) as services:
        fleet = services.fleet.fleet
        organisation = next(iter(fleet.db["organisations"].rows))["id"]
        profile = fleet.add_profile(organisation, "Phones")
        user = fleet.add_camera_user(organisation, camera_user, profile.id)
        return services.fleet.pairings.create(organisation, user.id, "bench").code


def stream_from_phone(server: str, data_dir: Path, keys_dir: Path) -> None:
    """A phone camera streaming to ``server`` until SIGTERM."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.chromium import launch

    code = pairing_code(data_dir, "phone")
    with sync_playwright() as playwright:
        browser = launch(playwright, flags=("--use-fake-device-for-media-stream",
                                            "--disable-features=WebRtcHideLocalIpsWithMdns"))
        try:
            context = browser.new_context(permissions=["camera", "microphone"])
            context.add_init_script(CANVAS_CAMERA_JS)
            page = context.new_page()
            page.goto(f"{server}/web/camera.html#pair={code}")
            page.click("#pair-form button[type=submit]")
            page.locator('body[data-state="waiting"]').wait_for(state="attached", timeout=15_000)
            subprocess.run([sys.executable, "-m", "bwlive_rtc", "camera", "dock-phones", "--data-dir", str(data_dir),
                            "--keys-dir", str(keys_dir)], check=True, stdout=subprocess.DEVNULL)
            page.locator('body[data-state="ready"]').wait_for(state="attached", timeout=15_000)
            page.click("#go")
            page.locator('body[data-state="live"]').wait_for(state="attached", timeout=30_000)
            print("phone streaming", flush=True)
            stopping = False

            def stop(*_: object) -> None:
                nonlocal stopping
                stopping = True

            signal.signal(signal.SIGTERM, stop)
            while not stopping:
                page.wait_for_timeout(200)
        finally:
            browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--keys-dir", type=Path, required=True)
    options = parser.parse_args()
    stream_from_phone(options.server, options.data_dir, options.keys_dir)
