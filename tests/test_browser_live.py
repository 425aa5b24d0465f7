"""The operator page in real Chromium against the real server and camera agent processes."""
from __future__ import annotations

from playwright.sync_api import Browser, BrowserContext, Page

from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD

# Reads the frame code (bwlive_rtc/camera/framecode.py) from the tile's <video>.
READ_CODE_JS = """
(video) => {
  if (!video.videoWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = video.videoWidth; canvas.height = video.videoHeight;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(video, 0, 0);
  const words = [];
  for (let row = 0; row < 3; row++) {
    let word = 0;
    for (let bit = 0; bit < 32; bit++) {
      const px = ctx.getImageData(64 + bit * 16 + 5, 8 + row * 16 + 5, 6, 6).data;
      let sum = 0;
      for (let i = 0; i < px.length; i += 4) sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
      word = ((word << 1) | (sum / (px.length / 4) > 128 ? 1 : 0)) >>> 0;
    }
    words.push(word);
  }
  if (((words[0] ^ words[1] ^ 0x5A5A5A5A) >>> 0) !== words[2]) return null;
  return {frame: words[0], captureMs: words[1], decoded: video.getVideoPlaybackQuality().totalVideoFrames};
}
"""

AUDIO_LEVEL_JS = """
async (video) => {
  const ctx = new AudioContext();
  await ctx.resume();
  const source = ctx.createMediaStreamSource(video.srcObject);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 2048;
  source.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  let peak = 0;
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const s of samples) sum += s * s;
    peak = Math.max(peak, Math.sqrt(sum / samples.length));
  }
  await ctx.close();
  return peak;
}
"""


def open_console(browser: Browser, url: str, console: list[str] | None = None) -> tuple[BrowserContext, Page]:
    """A fresh browser profile, signed in as the test admin, on ``url``; the page's console
    warnings and errors go to ``console`` from the start."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    base = url.split("/#")[0].rstrip("/")
    response = context.request.post(f"{base}/api/session", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.ok, response.text()
    page = context.new_page()
    if console is not None:
        page.on("console", lambda message: console.append(message.text) if message.type in ("warning", "error") else None)
    page.goto(url)
    page.evaluate("window.bwlive.ready")
    return context, page


def open_tile(page: Page, stream_id: str) -> dict:
    """Click the stream; returns the click-to-first-frame time measured in the page."""
    page.click(f'button.stream[data-stream-id="{stream_id}"]')
    tile = page.locator(f'.tile[data-stream-id="{stream_id}"]')
    tile.wait_for()
    return tile


def frame_codes(page: Page, stream_id: str, seconds: float) -> list[dict]:
    video = page.locator(f'.tile[data-stream-id="{stream_id}"] video')
    codes = []
    for _ in range(int(seconds / 0.2)):
        code = video.evaluate(READ_CODE_JS)
        if code:
            codes.append(code)
        page.wait_for_timeout(200)
    return codes


def test_operator_watches_decrypted_video_and_hears_audio(
        server, start_camera, system_keys: SystemKeyPair, browser: Browser) -> None:
    start_camera("Alex Jansen")
    stream = server.wait_for_stream("Alex Jansen")
    context, page = open_console(browser, system_keys.link(server.url))
    try:
        assert "#key=" not in page.url  # the key left the address bar for IndexedDB
        assert page.locator("#keys .thumbprint").first.inner_text() == system_keys.public.thumbprint
        tile = open_tile(page, stream["id"])
        page.wait_for_selector(f'.tile[data-stream-id="{stream["id"]}"][data-state="live"]', timeout=10_000)
        codes = frame_codes(page, stream["id"], 3)
        assert len(codes) >= 8, f"burned-in code readable in only {len(codes)} samples"
        numbers = [c["frame"] for c in codes]
        assert numbers == sorted(numbers) and numbers[-1] - numbers[0] >= 30
        level = tile.locator("video").evaluate(AUDIO_LEVEL_JS)
        assert level > 0.01, f"audio is silent (rms {level})"
        assert "52." in tile.locator(".tile-position").inner_text()  # decrypted GPS position
    finally:
        context.close()


def test_two_browsers_and_a_late_joiner(server, start_camera, system_keys: SystemKeyPair, browser: Browser) -> None:
    start_camera("Sam de Vries")
    stream = server.wait_for_stream("Sam de Vries")
    first_ctx, first = open_console(browser, system_keys.link(server.url))
    second_ctx, second = open_console(browser, system_keys.link(server.url))
    try:
        open_tile(first, stream["id"])
        first.wait_for_selector(f'.tile[data-stream-id="{stream["id"]}"][data-state="live"]', timeout=10_000)
        first.wait_for_timeout(2500)  # the second browser joins mid-stream, long after a keyframe
        second.evaluate(
            """(id) => { window.clickedAt = performance.now();
                         document.querySelector(`button.stream[data-stream-id="${id}"]`).click(); }""",
            stream["id"],
        )
        video = second.locator(f'.tile[data-stream-id="{stream["id"]}"] video')
        video.wait_for()
        joined_after_ms = video.evaluate(
            """(video) => new Promise((resolve) => video.requestVideoFrameCallback(
                   () => resolve(performance.now() - window.clickedAt)))"""
        )
        assert joined_after_ms < 1000, f"first picture {joined_after_ms:.0f} ms after clicking"
        both = [frame_codes(page, stream["id"], 2) for page in (first, second)]
        for codes in both:
            assert len(codes) >= 5 and codes[-1]["frame"] > codes[0]["frame"]
    finally:
        first_ctx.close()
        second_ctx.close()


def test_wrong_or_missing_key_gives_a_clear_message_and_no_picture(server, start_camera, browser: Browser) -> None:
    start_camera("Robin Bakker")
    stream = server.wait_for_stream("Robin Bakker")
    other_key = SystemKeyPair.generate()
    for url, error, words in [
        (other_key.link(server.url), "other-key", "another key"),
        (server.url + "/", "no-key", "Open the link with key"),
    ]:
        context, page = open_console(browser, url)
        try:
            open_tile(page, stream["id"])
            tile = page.locator(f'.tile[data-stream-id="{stream["id"]}"][data-state="error"]')
            tile.wait_for(timeout=10_000)
            assert tile.get_attribute("data-error") == error
            assert words.lower() in tile.locator(".tile-message").inner_text().lower()
            page.wait_for_timeout(1500)
            decoded = tile.locator("video").evaluate("(v) => v.getVideoPlaybackQuality().totalVideoFrames")
            assert decoded == 0
        finally:
            context.close()
