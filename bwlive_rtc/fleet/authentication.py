"""Which camera is calling: the device credential in ``Authorization: Bearer``, checked on
every camera request (the kernel's ``CAMERA_AUTHENTICATOR``), with camera requests
rate-limited per address and per camera. Handlers read the camera with ``camera(request)``."""
from __future__ import annotations

from aiohttp import web

from ..kernel.clock import Clock
from ..kernel.errors import BadRequest, Forbidden, Unauthorized
from ..kernel.rate_limit import RateLimit
from .credentials import CredentialError
from .docking import Docking
from .store import Camera

CAMERA = web.RequestKey("camera", Camera)
CREDENTIAL_QUERY = "credential"  # where clients used to put it; refused, URLs end up in logs
ADDRESS_BURST, ADDRESS_PER_MINUTE = 100, 60.0  # many cameras may share an address (NAT)
CAMERA_BURST, CAMERA_PER_MINUTE = 10, 10.0  # a reconnecting camera backs off far below this


class CameraCredentials:
    """Admits a request whose bearer credential names a camera in service."""

    def __init__(self, docking: Docking, clock: Clock) -> None:
        self.docking = docking
        self.clock = clock
        self.per_address = RateLimit(clock, ADDRESS_BURST, ADDRESS_PER_MINUTE)
        self.per_camera = RateLimit(clock, CAMERA_BURST, CAMERA_PER_MINUTE)

    async def __call__(self, request: web.Request) -> None:
        self.per_address.check(request.remote or "unknown", "this address")
        if CREDENTIAL_QUERY in request.query:
            raise BadRequest("send the device credential in the Authorization header, never in the URL")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("this camera has no device credential: dock it to get one",
                               headers={"WWW-Authenticate": "Bearer"})
        try:
            found = self.docking.identify(token.strip(), self.clock.now())
        except CredentialError as exc:
            raise Forbidden(str(exc)) from None
        self.per_camera.check(found.id, "this camera")
        request[CAMERA] = found


def camera(request: web.Request) -> Camera:
    """The camera behind a request (set for every route of level CAMERA)."""
    return request[CAMERA]
