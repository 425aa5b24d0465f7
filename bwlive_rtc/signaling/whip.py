"""WHIP ingest (RFC 9725) for cameras: POST an offer, DELETE the session's resource to stop.

The kernel has admitted the camera by its credential (``fleet.authentication``) before a
handler runs; the WHIP extension values come from headers only (docs/PROTOCOL.md §4)."""
from __future__ import annotations

import re
from datetime import datetime

from aiohttp import web

from ..crypto.content_key import CURRENT_ENVELOPE, KeyEnvelope
from ..crypto.signing import SignatureError, StreamManifest, envelope_digest, verify_whip_proof
from ..fleet.authentication import camera, certificate, credential
from ..fleet.credentials import CredentialError
from ..fleet.service import FLEET
from ..kernel.access import Access, access
from ..kernel.appkeys import CLOCK, EVENTS, SETTINGS
from ..kernel.errors import BadRequest, Forbidden, NotFound
from ..kernel.events import STREAM_HELP_REQUESTED, StreamEvent
from ..kernel.requests import body_text, path, read_path
from ..licensing.service import LICENSING
from ..protocol import CAMERA_TIME_HEADER, KEY_HEADER, MANIFEST_HEADER, PROOF_HEADER
from ..streams.hub import ROUTER, STREAM_HUB
from .ice_servers import with_ice_servers
from .requests import WhipResourcePath
from .sdp_body import SDP, created, read_offer
from .sessions import WHIP_SESSIONS

routes = web.RouteTableDef()
MILLISECONDS = re.compile(r"[0-9]{1,15}")  # 15 digits reach the year 33658
MANIFEST_TIME_SLACK_MS = 2000  # a manifest starts at the publish's camera time, give or take


def _camera_time(request: web.Request, now: datetime) -> int:
    """The camera's time (``Bwlive-Camera-Time``, ms since the epoch); a camera that does
    not say it or whose clock is off by more than the tolerance is refused."""
    stated = request.headers.get(CAMERA_TIME_HEADER, "").strip()
    if not MILLISECONDS.fullmatch(stated):
        raise BadRequest(f"send the camera's clock in the {CAMERA_TIME_HEADER} header, in milliseconds since 1970")
    offset = int(stated) / 1000 - now.timestamp()
    tolerance = request.app[SETTINGS].clock_tolerance_s
    if abs(offset) > tolerance:
        direction = "ahead of" if offset > 0 else "behind"
        raise BadRequest(
            f"the camera's clock is {abs(offset):.0f} s {direction} the server's (tolerance {tolerance:.0f} s): "
            "set its time (NTP) and try again"
        )
    return int(stated)


def _check_proof(request: web.Request, offer: str, envelope_header: str, camera_time_ms: int,
                 resumes: str | None = None) -> None:
    """The publish (or the resume of stream ``resumes``) is signed by the device key the
    camera's certificate names (``Bwlive-Proof``): a copied credential file alone does not
    publish."""
    proof = request.headers.get(PROOF_HEADER, "").strip()
    if not proof:
        raise Forbidden(f"this camera did not sign its publish ({PROOF_HEADER} header): "
                        "update the camera and dock it again")
    try:
        verify_whip_proof(certificate(request), proof, offer.encode(), envelope_header, camera_time_ms, resumes)
    except SignatureError as exc:
        raise Forbidden(str(exc)) from None


def _check_manifest(request: web.Request, envelope: KeyEnvelope, camera_time_ms: int) -> str:
    """The stream's manifest (``Bwlive-Manifest``): signed by the device key of the
    presented certificate, which it must carry itself, naming this publish's envelope and
    time. Browsers check it again up to the system key; the server keeps it with the stream."""
    token = request.headers.get(MANIFEST_HEADER, "").strip()
    if not token:
        raise Forbidden(f"this camera did not sign its stream ({MANIFEST_HEADER} header): "
                        "update the camera and dock it again")
    presented = certificate(request)
    try:
        manifest, _ = StreamManifest.verify_for(token, presented)
    except SignatureError as exc:
        raise Forbidden(f"the stream manifest is refused: {exc}") from None
    if manifest.certificate != credential(request):
        raise Forbidden(f"the stream manifest carries another certificate than the credential of camera "
                        f"{presented.serial}")
    if manifest.envelope != envelope_digest(envelope.to_json()):
        raise BadRequest(f"the stream manifest names another key envelope than the {KEY_HEADER} header")
    if abs(manifest.started_at - camera_time_ms) > MANIFEST_TIME_SLACK_MS:
        raise BadRequest(f"the stream manifest starts at {manifest.started_at}, not at the publish's "
                         f"{CAMERA_TIME_HEADER} {camera_time_ms} (±{MANIFEST_TIME_SLACK_MS} ms)")
    return token


@routes.post("/whip")
@access(Access.CAMERA)
@body_text(SDP)
async def publish(request: web.Request) -> web.Response:
    """A docked camera starts a stream (replacing its own stream that has gone quiet)."""
    publisher = camera(request)
    camera_time_ms = _camera_time(request, request.app[CLOCK].now())
    try:
        camera_user = request.app[FLEET].docking.admit(publisher)
    except CredentialError as exc:
        raise Forbidden(str(exc)) from None
    envelope_header = request.headers.get(KEY_HEADER, "").strip()
    try:
        envelope = KeyEnvelope.from_header(envelope_header)
    except ValueError as exc:
        raise BadRequest(f"the {KEY_HEADER} header is not a key envelope: {exc}") from None
    if envelope.version != CURRENT_ENVELOPE:  # v1 is read for old recordings, never sealed for a new stream
        raise BadRequest(f"the {KEY_HEADER} header is a v{envelope.version} key envelope: new streams need "
                         f"v{CURRENT_ENVELOPE} (per-sender keys, cipher suite named); update the camera")
    request.app[FLEET].docking.check_stream_key(publisher, envelope.key_id)
    organisations, refusal = request.app[LICENSING].streaming_organisations([publisher.organisation_id])
    if not organisations:
        raise Forbidden(f"this camera cannot stream now: {refusal}")
    offer = await read_offer(request)
    _check_proof(request, offer, envelope_header, camera_time_ms)
    manifest = _check_manifest(request, envelope, camera_time_ms)
    sessions = request.app[WHIP_SESSIONS]
    async with sessions.publishing(publisher.id):
        producer, answer = await request.app[ROUTER].publish(offer, camera_user, envelope.to_json(), organisations,
                                                             manifest)
        session = sessions.open(publisher.id, producer, camera_time_ms)
    return with_ice_servers(created(answer, session.location), request.app[SETTINGS], publisher.id,
                            request.app[CLOCK].now().timestamp())


@routes.route("OPTIONS", "/whip")
@access(Access.CAMERA)
async def ice_servers(request: web.Request) -> web.Response:
    """The ICE servers (``Link`` headers) for a camera to gather with before its offer."""
    return with_ice_servers(web.Response(status=204), request.app[SETTINGS], camera(request).id,
                            request.app[CLOCK].now().timestamp())


@routes.post("/whip/{stream_id}/{secret}")
@access(Access.CAMERA)
@path(WhipResourcePath)
@body_text(SDP)
async def resume(request: web.Request) -> web.Response:
    """The camera continues its running stream over a new connection (its path broke or
    changed): same stream, key, manifest and counters; the server splices the new uplink
    into the stream once it connects (PROTOCOL §4.1). The proof binds this offer to this
    stream, signed by the device key, later than the stream's last publish or resume."""
    resource = read_path(request, WhipResourcePath)
    publisher = camera(request)
    camera_time_ms = _camera_time(request, request.app[CLOCK].now())
    try:
        request.app[FLEET].docking.admit(publisher)
    except CredentialError as exc:
        raise Forbidden(str(exc)) from None
    session = request.app[WHIP_SESSIONS].find(resource.stream_id, resource.secret, publisher.id)
    offer = await read_offer(request)
    envelope_header = request.headers.get(KEY_HEADER, "").strip()
    _check_proof(request, offer, envelope_header, camera_time_ms, resumes=session.stream_id)
    async with request.app[WHIP_SESSIONS].resuming(session, camera_time_ms) as producer:
        if request.headers.get(MANIFEST_HEADER, "").strip() != producer.manifest:
            raise Forbidden(f"a resume carries the running stream's manifest ({MANIFEST_HEADER}); "
                            "this one names another stream")
        try:
            envelope = KeyEnvelope.from_header(envelope_header).to_json()
        except ValueError as exc:
            raise BadRequest(f"the {KEY_HEADER} header is not a key envelope: {exc}") from None
        if envelope != producer.key_envelope:
            raise Forbidden(f"a resume keeps the running stream's key ({KEY_HEADER}); this one names another")
        answer = await request.app[ROUTER].resume(producer.id, offer)
    return with_ice_servers(web.Response(status=200, text=answer, content_type=SDP,
                                         headers={"Location": session.location}),
                            request.app[SETTINGS], publisher.id, request.app[CLOCK].now().timestamp())


@routes.delete("/whip/{stream_id}/{secret}")
@access(Access.CAMERA)
@path(WhipResourcePath)
async def unpublish(request: web.Request) -> web.Response:
    """The camera ends its own stream, at the resource URL it was given."""
    resource = read_path(request, WhipResourcePath)
    session = request.app[WHIP_SESSIONS].find(resource.stream_id, resource.secret, camera(request).id)
    await request.app[ROUTER].unpublish(session.stream_id)
    return web.json_response({"ended": session.stream_id})


@routes.post("/whip/{stream_id}/{secret}/help")
@access(Access.CAMERA)
@path(WhipResourcePath)
async def request_help(request: web.Request) -> web.Response:
    """The wearer asks for help (long press), told in clear at the stream's resource URL:
    every browser of the organisation shows the alarm until someone acknowledges the
    stream, and SOC integrations get ``stream.help_requested``. What the wearer's camera
    adds (where, why) travels sealed on the data channel, for key holders only. A request
    while one waits changes nothing (``"new": false``)."""
    resource = read_path(request, WhipResourcePath)
    session = request.app[WHIP_SESSIONS].find(resource.stream_id, resource.secret, camera(request).id)
    producer = request.app[ROUTER].producers.get(session.stream_id)
    if producer is None:
        raise NotFound("this stream has ended: start streaming to ask for help")
    now = request.app[CLOCK].now()
    new = await request.app[STREAM_HUB].request_help(producer.id, now.isoformat())
    if new:
        request.app[EVENTS].publish(StreamEvent(STREAM_HELP_REQUESTED, producer.id, producer.camera, now))
    return web.json_response({"stream_id": producer.id, "new": new})
