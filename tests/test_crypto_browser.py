"""The browser half of bwlive's end-to-end encryption (web/e2ee.js, web/e2ee-worker.js,
web/keystore.js), run in real Chromium against the Python reference and
tests/crypto_vectors.json (docs/PROTOCOL.md §1-3), and against RFC 9605's own vectors
(tests/data/rfc9605-test-vectors.json).

web/ is served statically the way ``bwlive serve`` lays it out: the operator page at
``/`` and the files at ``/web/*``. Nothing here needs the server's API.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest
from aiohttp import web

from bwlive_rtc.crypto.acknowledgement import AcknowledgementOpener, AcknowledgementRefused
from bwlive_rtc.crypto.b64 import b64url_decode, b64url_encode
from bwlive_rtc.crypto.content_key import KeyEnvelope
from bwlive_rtc.crypto.rfc9605 import decode_header, encode_header
from bwlive_rtc.crypto.sframe import FrameDecryptor, Kind, clear_prefix_length
from bwlive_rtc.crypto.system_key import SystemKeyPair
from tests.processes import ADMIN_EMAIL, ADMIN_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
VECTORS = json.loads((ROOT / "tests" / "crypto_vectors.json").read_text())
RFC9605 = json.loads((ROOT / "tests" / "data" / "rfc9605-test-vectors.json").read_text())
STREAM_IDS = ["v2-suite5", "v2-suite4", "v1"]
DEFAULT = VECTORS["streams"][0]  # what cameras make now: v2, suite 5
CONTENT_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
BLANK = '<!doctype html><title>blank</title><link rel="icon" href="data:,">'

# Imports web/e2ee.js into a page and opens the vectors' stream keys with the link key;
# `contentKey` and `cipher` are the default stream's (v2, suite 5).
SETUP_JS = """
const e2ee = await import('/web/e2ee.js');
const link = await e2ee.importLinkKey(e2ee.b64uDecode(v.system_private_pkcs8));
const streams = [];
for (const s of v.streams) {
  const key = await e2ee.unwrapContentKey(s.envelope, link.privateKey);
  streams.push({...s, key, cipher: new e2ee.FrameCipher(key)});
}
const {key: contentKey, cipher, frames} = streams[0];
const b64 = (bytes) => e2ee.b64uEncode(bytes);
const unb64 = (text) => e2ee.b64uDecode(text);
"""


def run_js(page, body: str, arg=None):
    """Evaluate ``body`` (an async function body with ``v`` = VECTORS, ``arg``) in the page."""
    return page.evaluate(
        f"async ([v, arg]) => {{ {SETUP_JS}\n{body} }}", [VECTORS, arg]
    )


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def base_url():
    """web/ served on 127.0.0.1 (port 0) from an aiohttp server in a background thread."""

    async def index(_request):
        return web.FileResponse(WEB / "index.html", headers={"Content-Type": "text/html"})

    async def blank(_request):
        return web.Response(text=BLANK, content_type="text/html")

    async def web_file(request):
        path = (WEB / request.match_info["name"]).resolve()
        if WEB.resolve() not in path.parents or not path.is_file():
            raise web.HTTPNotFound()
        content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        return web.Response(body=path.read_bytes(), headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/blank", blank)
    app.router.add_get("/web/{name:.+}", web_file)

    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    started = threading.Event()
    address: list[str] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        host, port = runner.addresses[0][:2]
        address.append(f"http://{host}:{port}")
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="web-static", daemon=True)
    thread.start()
    assert started.wait(10), "static server did not start"
    yield address[0]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def page(browser, base_url):
    """A fresh context (own IndexedDB) on a blank page of the static server's origin."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base_url}/blank")
    yield page
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


# ---------------------------------------------------------------- (a) link key


def test_link_key_id_and_thumbprint(page):
    result = run_js(
        page,
        """return {keyId: link.keyId, thumbprint: link.thumbprint,
                   extractable: link.privateKey.extractable, usages: link.privateKey.usages,
                   algorithm: link.privateKey.algorithm};""",
    )
    assert result["keyId"] == VECTORS["system_key_id"]
    assert result["thumbprint"] == VECTORS["system_thumbprint"]
    assert result["extractable"] is False
    assert result["usages"] == ["deriveBits"]
    assert result["algorithm"] == {"name": "ECDH", "namedCurve": "P-256"}


def test_link_key_id_matches_python_for_fresh_keys(page):
    pairs = [SystemKeyPair.generate() for _ in range(3)]
    ids = page.evaluate(
        """async (keys) => {
            const e2ee = await import('/web/e2ee.js');
            const out = [];
            for (const k of keys) out.push((await e2ee.importLinkKey(e2ee.b64uDecode(k))).keyId);
            return out;
        }""",
        [b64url_encode(p.pkcs8_der()) for p in pairs],
    )
    assert ids == [p.public.key_id for p in pairs]


def test_link_key_rejects_garbage(page):
    message = page.evaluate(
        """async () => {
            const e2ee = await import('/web/e2ee.js');
            try { await e2ee.importLinkKey(new Uint8Array([1, 2, 3])); return null; }
            catch (error) { return error.message; }
        }"""
    )
    assert message == "the key in the link is not a P-256 private key"


# ---------------------------------------------------------------- (b) envelope, (c) decryption


def test_unwrap_envelope_gives_the_stream_key(page):
    """The unwrapped key is non-extractable, so it is compared by what it does: it
    encrypts exactly like the vectors' raw secret imported in the test, for each stream."""
    result = run_js(
        page,
        """
        const out = [];
        const plain = new TextEncoder().encode('{"probe":1}');
        for (const s of streams) {
            const fromJsonText = await e2ee.unwrapContentKey(JSON.stringify(s.envelope), link.privateKey);
            const raw = await e2ee.importStreamKey(unb64(s.secret), {version: s.legacy ? 1 : 2, suite: s.suite});
            const outputs = [];
            for (const key of [s.key, fromJsonText, raw]) {
                outputs.push(b64(await new e2ee.FrameCipher(key).encryptFrame('camera_data', plain, 42n)));
            }
            out.push({outputs, version: s.key.version, suite: s.key.suite,
                      extractable: s.key.secret.extractable, algorithm: s.key.secret.algorithm.name});
        }
        return out;
        """,
    )
    assert [(r["version"], r["suite"]) for r in result] == [(2, 5), (2, 4), (1, 4)]
    for stream in result:
        assert stream["extractable"] is False
        assert stream["algorithm"] == "HKDF"
        assert len(set(stream["outputs"])) == 1
    assert len({stream["outputs"][0] for stream in result}) == 3


@pytest.mark.parametrize("index", range(3), ids=STREAM_IDS)
def test_decrypts_every_python_frame(page, index):
    plaintexts = run_js(
        page,
        """
        const out = [];
        const s = streams[arg];
        for (const f of s.frames) out.push(b64(await s.cipher.decryptFrame(f.kind, unb64(f.encrypted))));
        return out;
        """,
        index,
    )
    assert plaintexts == [frame["plaintext"] for frame in VECTORS["streams"][index]["frames"]]


# ---------------------------------------------------------------- (d) encryption


@pytest.mark.parametrize("index", range(3), ids=STREAM_IDS)
def test_encrypts_byte_identical_to_vectors(page, index):
    encrypted = run_js(
        page,
        """
        const out = [];
        const s = streams[arg];
        for (const f of s.frames) {
            out.push(b64(await s.cipher.encryptFrame(f.kind, unb64(f.plaintext), BigInt(f.counter), BigInt(f.sender))));
        }
        return out;
        """,
        index,
    )
    assert encrypted == [frame["encrypted"] for frame in VECTORS["streams"][index]["frames"]]


@pytest.mark.parametrize("counter", [1, 8, 255, 256, 65_537, 2**40 + 3, 2**64 - 1])
def test_python_decrypts_browser_frames_with_fresh_counters(page, counter):
    encrypted = run_js(
        page,
        """
        const out = [];
        for (const f of frames) {
            out.push(b64(await cipher.encryptFrame(f.kind, unb64(f.plaintext), BigInt(arg), BigInt(f.sender))));
        }
        return out;
        """,
        str(counter),
    )
    decryptor = FrameDecryptor(KeyEnvelope.from_json(DEFAULT["envelope"]).open(SystemKeyPair.from_link(VECTORS["link"])))
    for frame, data in zip(DEFAULT["frames"], encrypted):
        kind = Kind[frame["kind"].upper()]
        data = b64url_decode(data)
        assert decryptor.decrypt(kind, data) == b64url_decode(frame["plaintext"])
        kid = int(frame["sender"]) << 2 | int(kind)
        assert decode_header(data, clear_prefix_length(kind, data))[:2] == (kid, counter)


# ---------------------------------------------------------------- (d') RFC 9605 vectors


def test_every_rfc9605_header_vector(page):
    """All 289 `header` vectors of RFC 9605 Appendix C through web/e2ee.js, both ways."""
    results = page.evaluate(
        """async (vectors) => {
            const e2ee = await import('/web/e2ee.js');
            const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
            const unhex = (text) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
            return vectors.map(({kid, ctr, encoded}) => {
                const back = e2ee.decodeHeader(unhex(encoded + 'ff'));
                return [hex(e2ee.encodeHeader(BigInt(kid), BigInt(ctr))), String(back.kid), String(back.ctr), back.length];
            });
        }""",
        [{"kid": str(v["kid"]), "ctr": str(v["ctr"]), "encoded": v["encoded"]} for v in RFC9605["header"]],
    )
    assert len(results) == 289
    for vector, (encoded, kid, ctr, length) in zip(RFC9605["header"], results):
        assert (encoded, int(kid), int(ctr), length) == (vector["encoded"], int(vector["kid"]), int(vector["ctr"]),
                                                         len(vector["encoded"]) // 2), vector


def test_every_rfc9605_aes_gcm_vector(page):
    """The suite-4 and suite-5 `sframe` vectors: web/e2ee.js derives the vector's salt,
    encrypts to its ciphertext and decrypts to its plaintext; altered metadata fails."""
    vectors = [v for v in RFC9605["sframe"] if v["cipher_suite"] in (4, 5)]
    results = page.evaluate(
        """async (vectors) => {
            const e2ee = await import('/web/e2ee.js');
            const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
            const unhex = (text) => Uint8Array.from(text.match(/../g) ?? [], (h) => parseInt(h, 16));
            const out = [];
            for (const v of vectors) {
                const base = await crypto.subtle.importKey('raw', unhex(v.base_key), 'HKDF', false, ['deriveBits', 'deriveKey']);
                const key = await e2ee.deriveKidKey(v.cipher_suite, base, BigInt(v.kid));
                const ct = await e2ee.sframeEncrypt(key, BigInt(v.ctr), unhex(v.metadata), unhex(v.pt));
                const pt = await e2ee.sframeDecrypt(key, unhex(v.metadata), unhex(v.ct));
                let altered = 'opened';
                try { await e2ee.sframeDecrypt(key, unhex(v.metadata + '00'), unhex(v.ct)); }
                catch (error) { altered = error.name; }
                out.push({suite: v.cipher_suite, salt: hex(key.salt), ct: hex(ct), pt: hex(pt), altered});
            }
            return out;
        }""",
        [{k: str(val) if k in ("kid", "ctr") else val for k, val in v.items()} for v in vectors],
    )
    assert [r["suite"] for r in results] == [4, 5]
    for vector, result in zip(vectors, results):
        assert result == {"suite": vector["cipher_suite"], "salt": vector["sframe_salt"], "ct": vector["ct"],
                          "pt": vector["pt"], "altered": "DecryptError"}


# ---------------------------------------------------------------- (d'') acknowledgements


def test_browser_acknowledgements_open_on_the_camera_once(browser, base_url):
    """web/e2ee.js seals acknowledgements under one random sender id per page load with
    counters from 0; the Python camera opens each once; another page is another sender."""
    seal_js = """async ([v, count]) => {
        const e2ee = await import('/web/e2ee.js');
        const link = await e2ee.importLinkKey(e2ee.b64uDecode(v.system_private_pkcs8));
        const cipher = new e2ee.FrameCipher(await e2ee.unwrapContentKey(v.streams[0].envelope, link.privateKey));
        const out = [];
        for (let i = 0; i < count; i++) out.push(await e2ee.sealAcknowledgement(cipher, Date.now()));
        return out;
    }"""
    sealed = []
    for _ in range(2):  # two page loads
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{base_url}/blank")
        sealed.append(page.evaluate(seal_js, [VECTORS, 3]))
        context.close()
    headers = [[decode_header(b64url_decode(s))[:2] for s in page_sealed] for page_sealed in sealed]
    kids = {kid for page_headers in headers for kid, _ in page_headers}
    assert len(kids) == 2 and all(kid & 3 == Kind.OPERATOR_DATA for kid in kids)
    assert [[ctr for _, ctr in page_headers] for page_headers in headers] == [[0, 1, 2], [0, 1, 2]]
    stream_key = KeyEnvelope.from_json(DEFAULT["envelope"]).open(SystemKeyPair.from_link(VECTORS["link"]))
    opener = AcknowledgementOpener(FrameDecryptor(stream_key))
    now = int(time.time() * 1000)
    for page_sealed in sealed:
        for one in page_sealed:
            assert abs(opener.open(one, now) - now) < 30_000
    with pytest.raises(AcknowledgementRefused, match="replay"):
        opener.open(sealed[0][1], now)


def test_header_codec_matches_python(page):
    values = [0, 1, 7, 8, 255, 256, 65_535, 65_536, 2**32, 2**56, 2**64 - 1]
    cases = [(kid, ctr) for kid in values for ctr in values]
    result = page.evaluate(
        """async (cases) => {
            const e2ee = await import('/web/e2ee.js');
            return cases.map(([kid, ctr]) => {
                const header = e2ee.encodeHeader(BigInt(kid), BigInt(ctr));
                const padded = new Uint8Array([9, 9, ...header, 7]);
                const back = e2ee.decodeHeader(padded, 2);
                return [e2ee.b64uEncode(header), String(back.kid), String(back.ctr), back.length];
            });
        }""",
        [[str(kid), str(ctr)] for kid, ctr in cases],
    )
    for (kid, ctr), (header, back_kid, back_ctr, length) in zip(cases, result):
        expected = encode_header(kid, ctr)
        assert b64url_decode(header) == expected
        assert (int(back_kid), int(back_ctr), length) == (kid, ctr, len(expected))


def test_clear_prefix_lengths(page):
    lengths = page.evaluate(
        """async () => {
            const {clearPrefixLength: n} = await import('/web/e2ee.js');
            return [n('video', 0x50), n('video', 0x51), n('audio', 0xfc),
                    n('camera_data', 0x7b), n('operator_data', 0x7b)];
        }"""
    )
    assert lengths == [10, 3, 1, 0, 0]


# ---------------------------------------------------------------- (e) failures


def test_tampered_frames_fail(page):
    """Flipping one bit anywhere (clear prefix, header, ciphertext, tag) is detected,
    and so are truncation and a frame presented as another kind."""
    errors = run_js(
        page,
        """
        const results = [];
        const attempt = async (own, kind, bytes) => {
            try { await own.decryptFrame(kind, bytes); results.push('decrypted'); }
            catch (error) { results.push(error.name); }
        };
        for (const f of streams.flatMap((s) => s.frames.map((frame) => ({...frame, cipher: s.cipher})))) {
            const good = unb64(f.encrypted);
            // positions: first byte, SFrame config byte region, middle, last (tag)
            for (const at of [0, 10, good.length >> 1, good.length - 1]) {
                if (f.kind === 'video' && at === 0) continue;  // would change the prefix length
                const bad = good.slice();
                bad[Math.min(at, bad.length - 1)] ^= 0x04;
                await attempt(f.cipher, f.kind, bad);
            }
            await attempt(f.cipher, f.kind, good.subarray(0, good.length - 1));
            await attempt(f.cipher, f.kind === 'audio' ? 'video' : 'audio', good);
        }
        await attempt(cipher, 'video', new Uint8Array(0));
        return results;
        """,
    )
    assert errors and set(errors) == {"DecryptError"}


def test_wrong_keys_fail(page):
    """Another content key cannot decrypt the frames; another system key cannot open
    the envelope."""
    other = SystemKeyPair.generate()
    result = run_js(
        page,
        """
        const wrong = new e2ee.FrameCipher(await e2ee.importStreamKey(new Uint8Array(32).fill(0xa5)));
        const frameErrors = [];
        for (const f of frames) {
            try { await wrong.decryptFrame(f.kind, unb64(f.encrypted)); frameErrors.push('decrypted'); }
            catch (error) { frameErrors.push(`${error.name}: ${error.message}`); }
        }
        const otherLink = await e2ee.importLinkKey(unb64(arg));
        let envelopeError = 'opened';
        try { await e2ee.unwrapContentKey(v.streams[0].envelope, otherLink.privateKey); }
        catch (error) { envelopeError = `${error.name}: ${error.message}`; }
        return {frameErrors, envelopeError};
        """,
        b64url_encode(other.pkcs8_der()),
    )
    assert result["frameErrors"] == [
        "DecryptError: frame authentication failed (wrong key or altered frame)"
    ] * len(DEFAULT["frames"])
    assert result["envelopeError"].startswith("DecryptError: the content key envelope cannot be opened")


def test_malformed_or_downgraded_envelope_fails(page):
    """Malformed envelopes, unsupported suites, and a v2 envelope relabelled to suite 4
    or presented as v1 (the suite is in the AAD: no downgrade) are refused."""
    errors = run_js(
        page,
        """
        const out = [];
        const env = v.streams[0].envelope;
        const {suite, ...withoutSuite} = env;
        for (const bad of [{...env, v: 3}, {...env, epk: 'AAAA'}, {...env, ct: '!!'}, '{', {...env, suite: 1},
                           {...env, suite: '5'}, withoutSuite, {...env, suite: 4}, {...withoutSuite, v: 1}]) {
            try { await e2ee.unwrapContentKey(bad, link.privateKey); out.push('opened'); }
            catch (error) { out.push(`${error.name}: ${error.message}`); }
        }
        return out;
        """,
    )
    assert [e.split(":")[0] for e in errors] == ["DecryptError"] * 9
    assert "unsupported SFrame cipher suite 1" in errors[4]
    assert errors[-2:] == ["DecryptError: the content key envelope cannot be opened with this key "
                           f"(kid {VECTORS['system_key_id']})"] * 2


# ---------------------------------------------------------------- receive worker


def test_worker_drops_until_key_then_decrypts_and_reports(page):
    """The worker (createEncodedStreams path, fed with frame-like objects) passes on
    decrypted frames only: nothing before the key, nothing that fails to decrypt."""
    result = run_js(
        page,
        """
        const worker = new Worker('/web/e2ee-worker.js', {type: 'module'});
        const reports = [];
        worker.onmessage = ({data}) => reports.push(data);
        let source;
        const readable = new ReadableStream({start(c) { source = c; }});
        const delivered = [];
        const writable = new WritableStream({write(frame) { delivered.push(b64(new Uint8Array(frame.data))); }});
        worker.postMessage({type: 'streams', readable, writable, kind: 'video'}, [readable, writable]);
        const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
        const until = async (test) => { for (let i = 0; i < 100 && !test(); i++) await sleep(20); };
        const video = frames.filter((f) => f.kind === 'video');
        const send = (bytes) => source.enqueue({data: bytes.slice().buffer});

        send(unb64(video[0].encrypted));               // before the key: dropped
        send(unb64(video[1].encrypted));
        await sleep(300);
        worker.postMessage({type: 'key', key: contentKey});
        await sleep(100);
        for (const f of video) send(unb64(f.encrypted));
        await until(() => reports.length >= 1);
        for (let i = 0; i < 5; i++) {                   // garbage: dropped, then 'failed'
            const bad = unb64(video[2].encrypted);
            bad[20] ^= 1;
            send(bad);
        }
        await until(() => reports.length >= 2);
        send(unb64(video[1].encrypted));               // recovers
        await until(() => reports.length >= 3);
        worker.terminate();
        return {reports, delivered};
        """,
    )
    video = [frame for frame in DEFAULT["frames"] if frame["kind"] == "video"]
    assert result["delivered"] == [f["plaintext"] for f in video] + [video[1]["plaintext"]]
    states = [(r["state"], r["decrypted"], r["failed"], r["dropped"]) for r in result["reports"]]
    assert states == [("ok", 1, 0, 2), ("failed", 3, 5, 2), ("ok", 4, 5, 2)]
    assert all(r["kind"] == "video" for r in result["reports"])


# Real VP8 frames through the worker: a canvas track is encrypted by a sender transform
# and received over a loopback peer connection, as the operator page receives it.
LOOPBACK_JS = """
const [mode, rightKey] = arg;
const senderSource = `
  import { FrameCipher } from '${location.origin}/web/e2ee.js';
  let cipher = null;
  let counter = 0n;
  onmessage = ({data}) => { cipher = new FrameCipher(data.key); };
  onrtctransform = ({transformer: t}) => t.readable.pipeThrough(new TransformStream({
    async transform(frame, out) {
      if (!cipher) return;
      frame.data = (await cipher.encryptFrame('video', frame.data, counter++)).buffer;
      out.enqueue(frame);
    }})).pipeTo(t.writable);`;
const encryptor = new Worker(URL.createObjectURL(new Blob([senderSource], {type: 'text/javascript'})), {type: 'module'});
encryptor.postMessage({key: await e2ee.importStreamKey(unb64(v.streams[0].secret))});

const decryptor = new Worker('/web/e2ee-worker.js', {type: 'module'});
const reports = [];
decryptor.onmessage = ({data}) => reports.push(data);

const canvas = Object.assign(document.createElement('canvas'), {width: 320, height: 240});
const g = canvas.getContext('2d');
let hue = 0;
const painter = setInterval(() => { g.fillStyle = `hsl(${hue += 7} 70% 50%)`; g.fillRect(0, 0, 320, 240); }, 33);
const track = canvas.captureStream(30).getVideoTracks()[0];

const receiverPc = new RTCPeerConnection(mode === 'streams' ? {encodedInsertableStreams: true} : {});
const senderPc = new RTCPeerConnection();
receiverPc.onicecandidate = ({candidate}) => candidate && senderPc.addIceCandidate(candidate);
senderPc.onicecandidate = ({candidate}) => candidate && receiverPc.addIceCandidate(candidate);
const video = document.createElement('video');
video.muted = true;
document.body.append(video);
const receiving = receiverPc.addTransceiver('video', {direction: 'recvonly'});
if (mode === 'script') {
  receiving.receiver.transform = new RTCRtpScriptTransform(decryptor, {kind: 'video', tileId: 't1'});
}
receiverPc.ontrack = ({track: received, receiver}) => {
  if (mode === 'streams') {
    const {readable, writable} = receiver.createEncodedStreams();
    decryptor.postMessage({type: 'streams', readable, writable, kind: 'video'}, [readable, writable]);
  }
  video.srcObject = new MediaStream([received]);
  video.play();
};
await receiverPc.setLocalDescription(await receiverPc.createOffer());
await senderPc.setRemoteDescription(receiverPc.localDescription);
const sending = senderPc.getTransceivers()[0];
sending.sender.transform = new RTCRtpScriptTransform(encryptor, {kind: 'video'});  // before the track
sending.direction = 'sendonly';
await sending.sender.replaceTrack(track);
await senderPc.setLocalDescription(await senderPc.createAnswer());
await receiverPc.setRemoteDescription(senderPc.localDescription);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
await sleep(1000);  // frames flow before the key arrives
let key = contentKey;
if (!rightKey) key = await e2ee.importStreamKey(new Uint8Array(32).fill(7));
decryptor.postMessage({type: 'key', key});
for (let i = 0; i < 100 && !(rightKey ? video.videoWidth > 0 : reports.length > 0); i++) await sleep(50);
if (!rightKey) await sleep(1000);
const stats = [...(await receiverPc.getStats()).values()].find((s) => s.type === 'inbound-rtp');
const result = {reports, width: video.videoWidth, framesDecoded: stats?.framesDecoded ?? 0};
clearInterval(painter);
senderPc.close();
receiverPc.close();
return result;
"""


@pytest.mark.parametrize("mode", ["script", "streams"])
def test_worker_on_real_video_with_late_key(page, mode):
    """RTCRtpScriptTransform and the createEncodedStreams fallback: frames that flow
    before the key are dropped, then the stream decodes (the worker asks for a key frame)."""
    result = run_js(page, LOOPBACK_JS, [mode, True])
    assert result["width"] == 320
    assert result["framesDecoded"] > 0
    first = result["reports"][0]
    assert (first["state"], first["kind"]) == ("ok", "video")
    assert first["dropped"] > 0


@pytest.mark.parametrize("mode", ["script", "streams"])
def test_worker_on_real_video_with_wrong_key_shows_nothing(page, mode):
    result = run_js(page, LOOPBACK_JS, [mode, False])
    assert [r["state"] for r in result["reports"]] == ["failed"]
    assert result["reports"][0]["decrypted"] == 0
    assert result["framesDecoded"] == 0
    assert result["width"] == 0


# ---------------------------------------------------------------- (f) keystore and the page


@pytest.fixture
def console(browser, server):
    """A fresh context signed in to the real server as the test admin: (page, server URL)."""
    context = browser.new_context()
    response = context.request.post(f"{server.url}/api/session", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert response.ok, response.text()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, server.url
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


def test_link_with_key_is_stored_and_removed_from_address_bar(console):
    page, base_url = console
    link = VECTORS["link"].replace(VECTORS["link_base"], base_url)
    page.goto(link)
    page.evaluate("window.bwlive.ready")
    assert page.url == f"{base_url}/"
    assert "#" not in page.evaluate("location.href")
    stored = page.evaluate(
        """(keyId) => new Promise((resolve, reject) => {
            const open = indexedDB.open('bwlive');
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const get = open.result.transaction('keys').objectStore('keys').get(keyId);
                get.onsuccess = () => {
                    const r = get.result;
                    resolve(r && {keyId: r.keyId, thumbprint: r.thumbprint, addedAt: r.addedAt,
                                  isKey: r.privateKey instanceof CryptoKey,
                                  extractable: r.privateKey.extractable,
                                  usages: r.privateKey.usages});
                };
            };
        })""",
        VECTORS["system_key_id"],
    )
    assert stored is not None
    assert stored["keyId"] == VECTORS["system_key_id"]
    assert stored["thumbprint"] == VECTORS["system_thumbprint"]
    assert stored["isKey"] is True
    assert stored["extractable"] is False
    assert stored["usages"] == ["deriveBits"]
    assert page.locator("#keys .thumbprint").all_text_contents() == [VECTORS["system_thumbprint"]]
    assert page.locator("#banner").is_hidden()

    # the stored key survives a reload and still opens the envelope
    page.reload()
    page.evaluate("window.bwlive.ready")
    opened = page.evaluate(
        """async ([keyId, envelope]) => {
            const {getKey, listKeys} = await import('/web/keystore.js');
            const {unwrapContentKey} = await import('/web/e2ee.js');
            const record = await getKey(keyId);
            await unwrapContentKey(envelope, record.privateKey);
            return (await listKeys()).map((k) => k.keyId);
        }""",
        [VECTORS["system_key_id"], DEFAULT["envelope"]],
    )
    assert opened == [VECTORS["system_key_id"]]


def test_bad_link_key_is_reported_and_removed(console):
    page, base_url = console
    page.goto(f"{base_url}/#key=not-a-key")
    page.evaluate("window.bwlive.ready")
    assert "#" not in page.evaluate("location.href")
    assert "could not be used" in page.locator("#banner").inner_text()
    assert page.evaluate("window.bwlive.keys.length") == 0
    # window.bwlive is a read-only view of the page's state
    assert page.evaluate("""() => {
        'use strict';
        try { window.bwlive.keys = ['forged']; } catch (error) { return error.name; }
        return 'assigned';
    }""") == "TypeError"
    assert page.evaluate("window.bwlive = null; window.bwlive.keys.length") == 0


def test_page_without_key_shows_banner(console):
    page, base_url = console
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{base_url}/")
    page.evaluate("window.bwlive.ready")
    banner = page.locator("#banner")
    assert banner.is_visible()
    assert banner.inner_text() == (
        "No decryption key in this browser. Open the link with key your administrator gave you."
    )
    assert page.locator("#keys").is_hidden()
    page.screenshot(path=str(Path("/tmp") / "bwlive-no-key.png"))


def test_protected_link_vector_in_the_browser(page):
    """web/link-key.js opens the Python-made `#pkey=` link and makes the identical one."""
    result = page.evaluate(
        """async (v) => {
            const lk = await import('/web/link-key.js');
            const e2ee = await import('/web/e2ee.js');
            const fragment = v.protected_link.split('#')[1];
            const {protected: blob} = lk.parseFragment(fragment);
            const pkcs8 = await lk.decryptProtected(blob, v.protected_link_passphrase);
            let wrong = null;
            try { await lk.decryptProtected(blob, 'not the passphrase'); } catch (error) { wrong = error.name; }
            const again = await lk.encryptProtected(pkcs8, v.protected_link_passphrase, {
                salt: Uint8Array.from({length: 16}, (_, i) => 100 + i),
                iv: Uint8Array.from({length: 12}, (_, i) => 200 + i),
            });
            return {pkcs8: e2ee.b64uEncode(pkcs8), wrong, link: lk.protectedLink(v.link_base, again),
                    plain: lk.keyLink(v.link_base, pkcs8)};
        }""",
        VECTORS,
    )
    assert result["pkcs8"] == VECTORS["system_private_pkcs8"]
    assert result["wrong"] == "WrongPassphraseError"
    assert result["link"] == VECTORS["protected_link"]
    assert result["plain"] == VECTORS["link"]
