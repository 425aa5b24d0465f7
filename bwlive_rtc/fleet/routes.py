"""Admin API for the fleet: camera users, profiles, networks and cameras (added, changed,
deleted, reassigned), revocation, and the key changes an admin confirms. Every object is addressed by id within the caller's
organisation (the store refuses any other organisation's id, as "no such …")."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, access, organisation
from ..kernel.appkeys import EVENTS
from ..kernel.audit import audit
from ..kernel.errors import BadRequest
from ..kernel.events import CAMERA_REVOKED
from ..kernel.requests import body, path, read_body, read_path
from .requests import (
    CameraChange,
    CameraPath,
    CameraUserChange,
    CameraUserPath,
    KeyChangeConfirmation,
    NetworkChange,
    NetworkPath,
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
    """Rename a profile, or switch its streaming or location on or off."""
    change = await read_body(request, ProfileChange)
    fleet, organisation_id = request.app[FLEET].fleet, organisation(request)
    profile_id = read_path(request, ProfilePath).profile_id
    if change.name is not None:
        old = fleet.rename("profiles", organisation_id, profile_id, change.name)
        audit(request, "profile renamed", profile=change.name, old_name=old)
    if change.streaming is not None or change.location is not None or change.name is None:
        profile = fleet.set_profile_switches(organisation_id, profile_id, change.streaming, change.location)
        audit(request, "profile changed", profile=profile.name, **change.model_dump(exclude_none=True))
    return web.json_response({"id": profile_id})


@routes.delete("/api/fleet/profiles/{profile_id}")
@access(Access.ADMIN)
@path(ProfilePath)
async def delete_profile(request: web.Request) -> web.Response:
    """Delete a profile (and its networks); one a camera user has is refused (409)."""
    profile = request.app[FLEET].fleet.delete_profile(organisation(request), read_path(request, ProfilePath).profile_id)
    audit(request, "profile deleted", profile=profile.name)
    return web.json_response({"deleted": profile.id})


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
    """Rename a camera user, or give them another profile from now on."""
    change = await read_body(request, CameraUserChange)
    fleet, organisation_id = request.app[FLEET].fleet, organisation(request)
    user_id = read_path(request, CameraUserPath).user_id
    if change.name is None and change.profile_id is None:
        raise BadRequest("send a new name or profile_id")
    if change.name is not None:
        old = fleet.rename("camera_users", organisation_id, user_id, change.name)
        audit(request, "camera user renamed", camera_user=change.name, old_name=old)
    if change.profile_id is not None:
        user, profile = fleet.assign_profile(organisation_id, user_id, change.profile_id)
        audit(request, "camera user's profile changed", camera_user=user.name, profile=profile.name)
    return web.json_response({"id": user_id})


@routes.delete("/api/fleet/camera-users/{user_id}")
@access(Access.ADMIN)
@path(CameraUserPath)
async def delete_camera_user(request: web.Request) -> web.Response:
    """Delete a camera user (and their own networks); one who still has cameras is refused (409)."""
    user = request.app[FLEET].fleet.delete_camera_user(organisation(request), read_path(request, CameraUserPath).user_id)
    audit(request, "camera user deleted", camera_user=user.name)
    return web.json_response({"deleted": user.id})


@routes.post("/api/fleet/cameras")
@access(Access.ADMIN)
@body(NewCamera)
async def add_camera(request: web.Request) -> web.Response:
    new = await read_body(request, NewCamera)
    camera = request.app[FLEET].fleet.add_camera(organisation(request), new.serial, new.model, new.camera_user_id,
                                                 new.system_id)
    audit(request, "camera added", serial=camera.serial, system_id=camera.system_id)
    return web.json_response({"id": camera.id, "system_id": camera.system_id}, status=201)


@routes.patch("/api/fleet/cameras/{camera_id}")
@access(Access.ADMIN)
@path(CameraPath)
@body(CameraChange)
async def reassign_camera(request: web.Request) -> web.Response:
    """Give the camera to another camera user (``null``: to none)."""
    change = await read_body(request, CameraChange)
    fleet, organisation_id = request.app[FLEET].fleet, organisation(request)
    camera = fleet.reassign(organisation_id, read_path(request, CameraPath).camera_id, change.camera_user_id)
    user = fleet.camera_user(organisation_id, camera.camera_user_id)
    audit(request, "camera reassigned", serial=camera.serial, camera_user=user.name if user else None)
    return web.json_response({"id": camera.id, "camera_user_id": camera.camera_user_id})


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


@routes.patch("/api/fleet/networks/{network_id}")
@access(Access.ADMIN)
@path(NetworkPath)
@body(NetworkChange)
async def change_network(request: web.Request) -> web.Response:
    """A new SSID and/or password (given to cameras at their next dock)."""
    change = await read_body(request, NetworkChange)
    network_id = read_path(request, NetworkPath).network_id
    ssid = request.app[FLEET].fleet.change_network(organisation(request), network_id, change.ssid, change.password)
    audit(request, "Wi-Fi network changed", ssid=ssid, password_changed=change.password is not None)
    return web.json_response({"id": network_id})


@routes.delete("/api/fleet/networks/{network_id}")
@access(Access.ADMIN)
@path(NetworkPath)
async def delete_network(request: web.Request) -> web.Response:
    network_id = read_path(request, NetworkPath).network_id
    ssid = request.app[FLEET].fleet.delete_network(organisation(request), network_id)
    audit(request, "Wi-Fi network deleted", ssid=ssid)
    return web.json_response({"deleted": network_id})
