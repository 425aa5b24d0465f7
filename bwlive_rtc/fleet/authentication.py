"""Which camera is calling: the device credential in ``Authorization: Bearer``, checked on
every camera request (the kernel's ``CAMERA_AUTHENTICATOR``), with camera requests
rate-limited per address and per camera. Handlers read the camera with ``camera(request)``."""
from __future__ import annotations

import math

from aiohttp import web

from ..crypto.signing import Certificate
from ..kernel.clock import Clock
from ..kernel.errors import BadRequest, Forbidden, TooManyRequests, Unauthorized
from ..kernel.rate import RateLimiter
from .credentials import CredentialError
from .docking import Docking
from .store import Camera

CAMERA = web.RequestKey("camera", Camera)
CERTIFICATE = web.RequestKey("certificate", Certificate)
CREDENTIAL = web.RequestKey("credential", str)
CREDENTIAL_QUERY = "credential"  # where clients used to put it; refused, URLs end up in logs
ADDRESS_BURST, ADDRESS_PER_SECOND = 100, 1.0  # many cameras may share an address (NAT)
CAMERA_BURST, CAMERA_PER_SECOND = 10, 1 / 6  # a reconnecting camera backs off far below this


class CameraCredentials:
    """Admits a request whose bearer credential names a camera in service."""

    def __init__(self, docking: Docking, clock: Clock) -> None:
        self.docking = docking
        self.clock = clock

        def seconds() -> float:  # on the app clock, which tests move
            return clock.now().timestamp()

        self.per_address = RateLimiter(ADDRESS_BURST, ADDRESS_PER_SECOND, seconds)
        self.per_camera = RateLimiter(CAMERA_BURST, CAMERA_PER_SECOND, seconds)

    async def __call__(self, request: web.Request) -> None:
        limit(self.per_address, request.remote or "unknown", "this address")
        if CREDENTIAL_QUERY in request.query:
            raise BadRequest("send the device credential in the Authorization header, never in the URL")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("this camera has no device credential: dock it to get one",
                               headers={"WWW-Authenticate": "Bearer"})
        try:
            found, certificate = self.docking.identify(token.strip(), self.clock.now())
        except CredentialError as exc:
            raise Forbidden(str(exc)) from None
        limit(self.per_camera, found.id, "this camera")
        request[CAMERA] = found
        request[CERTIFICATE] = certificate
        request[CREDENTIAL] = token.strip()


def limit(limiter: RateLimiter, key: str, who: str) -> None:
    """429 with ``Retry-After`` when ``who`` (words for the client) must wait."""
    wait = limiter.take(key)
    if wait:
        seconds = math.ceil(wait - 1e-9)  # float rounding must not add a second to the promise
        raise TooManyRequests(f"too many requests from {who}: try again in {seconds} s",
                              headers={"Retry-After": str(seconds)})


def camera(request: web.Request) -> Camera:
    """The camera behind a request (set for every route of level CAMERA)."""
    return request[CAMERA]


def certificate(request: web.Request) -> Certificate:
    """The certificate the camera behind a request presented: its device key."""
    return request[CERTIFICATE]


def credential(request: web.Request) -> str:
    """The credential (certificate token) exactly as the camera presented it."""
    return request[CREDENTIAL]
