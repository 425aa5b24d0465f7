"""Admin API for the fleet: camera users, profiles, networks, cameras, revocation, and the
key changes an admin confirms. Every object is addressed by id within the caller's
organisation (the store refuses any other organisation's id, as "no such …")."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, access, organisation
from ..kernel.appkeys import EVENTS
from ..kernel.audit import audit
from ..kernel.events import CAMERA_REVOKED
from ..kernel.requests import body, path, read_body, read_path
from .requests import (
    CameraPath,
    CameraUserChange,
    CameraUserPath,
    KeyChangeConfirmation,
    NewCamera,
    NewCameraUser,
    NewNetwork,
    NewProfile,
    ProfileChange,
    ProfilePath,
)
from .service import FLEET

routes = web.RouteTableDef()

@routes.get("/api/fleet")
@access(Access.ADMIN)
async def list_fleet(request: web.Request) -> web.Response:
    return web.json_response(request.app[FLEET].fleet.list(organisation(request)))


@routes.post("/api/fleet/profiles")
@access(Access.ADMIN)
@body(NewProfile)
async def add_profile(request: web.Request) -> web.Response:
    new = await read_body(request, NewProfile)
    profile = request.app[FLEET].fleet.add_profile(organisation(request), new.name, new.streaming, new.location)
    audit(request, "profile added", profile=profile.name)
    return web.json_response({"id": profile.id}, status=201)


@routes.patch("/api/fleet/profiles/{profile_id}")
@access(Access.ADMIN)
@path(ProfilePath)
@body(ProfileChange)
async def change_profile(request: web.Request) -> web.Response:
    """Switch a profile's streaming or location on or off."""
    change = await read_body(request, ProfileChange)
    profile = request.app[FLEET].fleet.set_profile_switches(
        organisation(request), read_path(request, ProfilePath).profile_id, change.streaming, change.location)
    audit(request, "profile changed", profile=profile.name, **change.model_dump(exclude_none=True))
    return web.json_response({"id": profile.id})


@routes.post("/api/fleet/camera-users")
@access(Access.ADMIN)
@body(NewCameraUser)
async def add_camera_user(request: web.Request) -> web.Response:
    new = await read_body(request, NewCameraUser)
    user = request.app[FLEET].fleet.add_camera_user(organisation(request), new.name, new.profile_id)
    audit(request, "camera user added", name=user.name)
    return web.json_response({"id": user.id}, status=201)


@routes.patch("/api/fleet/camera-users/{user_id}")
@access(Access.ADMIN)
@path(CameraUserPath)
@body(CameraUserChange)
async def assign_profile(request: web.Request) -> web.Response:
    """The camera user's profile from now on."""
    change = await read_body(request, CameraUserChange)
    user, profile = request.app[FLEET].fleet.assign_profile(
        organisation(request), read_path(request, CameraUserPath).user_id, change.profile_id)
    audit(request, "camera user's profile changed", camera_user=user.name, profile=profile.name)
    return web.json_response({"id": user.id, "profile_id": profile.id})


@routes.post("/api/fleet/cameras")
@access(Access.ADMIN)
@body(NewCamera)
async def add_camera(request: web.Request) -> web.Response:
    new = await read_body(request, NewCamera)
    camera = request.app[FLEET].fleet.add_camera(organisation(request), new.serial, new.model, new.camera_user_id,
                                                 new.system_id)
    audit(request, "camera added", serial=camera.serial, system_id=camera.system_id)
    return web.json_response({"id": camera.id, "system_id": camera.system_id}, status=201)


@routes.post("/api/fleet/cameras/{camera_id}/revoke")
@access(Access.ADMIN)
@path(CameraPath)
async def revoke_camera(request: web.Request) -> web.Response:
    """Revoke a camera: it cannot publish again, and its live stream ends now."""
    camera = request.app[FLEET].fleet.revoke(organisation(request), read_path(request, CameraPath).camera_id)
    request.app[EVENTS].emit(CAMERA_REVOKED, camera.id)
    audit(request, "camera revoked", serial=camera.serial)
    return web.json_response({"revoked": camera.serial})


@routes.get("/api/fleet/key-changes")
@access(Access.ADMIN)
async def list_key_changes(request: web.Request) -> web.Response:
    """Cameras whose system key was replaced since they docked, with both thumbprints."""
    changes = request.app[FLEET].docking.key_changes(organisation(request))
    return web.json_response({"key_changes": [change.describe() for change in changes]})


@routes.post("/api/fleet/cameras/{camera_id}/key-change")
@access(Access.ADMIN)
@path(CameraPath)
@body(KeyChangeConfirmation)
async def confirm_key_change(request: web.Request) -> web.Response:
    """Confirm, by the new key's thumbprint, that the camera takes its system's new key."""
    confirmation = await read_body(request, KeyChangeConfirmation)
    change = request.app[FLEET].docking.confirm_key_change(
        organisation(request), read_path(request, CameraPath).camera_id, confirmation.thumbprint)
    audit(request, "camera key change confirmed", serial=change.camera.serial, system=change.system.name,
          old_thumbprint=change.old_thumbprint, new_thumbprint=change.new_thumbprint)
    return web.json_response(change.describe())


@routes.post("/api/fleet/networks")
@access(Access.ADMIN)
@body(NewNetwork)
async def add_network(request: web.Request) -> web.Response:
    """A network for a profile or a camera user; the password is given to docking cameras
    and never shown again."""
    new = await read_body(request, NewNetwork)
    network_id = request.app[FLEET].fleet.add_network(organisation(request), new.ssid, new.password,
                                                      profile_id=new.profile_id, camera_user_id=new.camera_user_id)
    audit(request, "Wi-Fi network added", ssid=new.ssid)
    return web.json_response({"id": network_id}, status=201)
