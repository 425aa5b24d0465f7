"""The operator console in the lab's Chromium (viewer host), and what tests read from it."""
from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Page

from tests.processes import Server
from tests.test_browser_live import READ_CODE_JS

# While playing: the burned-in frame number (tests/test_browser_live.py's reader)
# and the inbound video's and audio's getStats counters, sampled every 100 ms in the page.
PLAYBACK_TEMPLATE = """
async (seconds) => {
  const read = READ_CODE;
  const tile = document.querySelector('.tile[data-stream-id] video');
  const pc = window.bwliveLabPeers.filter((p) => p.getReceivers().some((r) => r.track.kind === 'video')).at(-1);
  const samples = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const code = read(tile);
    const stats = {};
    (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') stats[s.kind] = s; });
    samples.push({t: performance.now(), frame: code && code.frame, video: stats.video || null, audio: stats.audio || null});
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return samples;
}
"""
PLAYBACK_JS = PLAYBACK_TEMPLATE.replace("READ_CODE", READ_CODE_JS)
# A reader for a picture without a burned-in number (a phone's camera): how many times the
# picture changed so far, by the pixels of a 32×24 thumbnail compared with the last one's.
PICTURE_CHANGES_JS = """
(video) => {
  if (!video.videoWidth) return null;
  window.bwliveThumb ??= Object.assign(document.createElement('canvas'), {width: 32, height: 24});
  const ctx = window.bwliveThumb.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(video, 0, 0, 32, 24);
  let hash = 0;
  for (const value of ctx.getImageData(0, 0, 32, 24).data) hash = (Math.imul(hash, 31) + value) >>> 0;
  if (hash !== window.bwliveLastPicture) {
    window.bwliveLastPicture = hash;
    window.bwlivePictureChanges = (window.bwlivePictureChanges ?? 0) + 1;
  }
  return {frame: window.bwlivePictureChanges};
}
"""

# Keeps every RTCPeerConnection the page makes, so the test can read getStats.
KEEP_PEERS_JS = """
window.bwliveLabPeers = [];
const Original = window.RTCPeerConnection;
window.RTCPeerConnection = class extends Original {
  constructor(...args) { super(...args); window.bwliveLabPeers.push(this); }
};
"""


def open_lab_console(browser: Browser, server: Server, url: str) -> tuple[BrowserContext, Page]:
    """A fresh profile signed in as the test admin (the server's own session cookie: the
    Playwright driver cannot reach the lab), on ``url``."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    name, value = server.cookie.split("=", 1)
    context.add_cookies([{"name": name, "value": value, "url": server.url}])
    context.add_init_script(KEEP_PEERS_JS)
    page = context.new_page()
    page.goto(url)
    page.evaluate("window.bwlive.ready")
    return context, page


def watch(page: Page, stream_id: str) -> None:
    """Open the stream's tile and wait until it plays."""
    page.click(f'button.stream[data-stream-id="{stream_id}"]')
    page.wait_for_selector(f'.tile[data-stream-id="{stream_id}"][data-state="live"]', timeout=20_000)


def playback(page: Page, seconds: float, reader: str = READ_CODE_JS) -> list[dict]:
    """Samples (every 100 ms) of the open tile's frame number (what ``reader`` reads from
    its video) and getStats counters."""
    return page.evaluate(PLAYBACK_TEMPLATE.replace("READ_CODE", reader), seconds)


def start_playback(page: Page, seconds: float) -> None:
    """``playback`` in the background, so several pages sample at once; ``collect`` it."""
    page.evaluate(f"(seconds) => {{ window.bwliveLabSamples = ({PLAYBACK_JS})(seconds); }}", seconds)


def collect(page: Page) -> list[dict]:
    return page.evaluate("window.bwliveLabSamples")
