"""Admin API for the fleet: camera users, profiles, networks, cameras, revocation."""
from __future__ import annotations

from aiohttp import web

from ..kernel.access import Access, access, organisation
from ..kernel.audit import audit
from ..kernel.requests import json_object
from .service import FLEET

routes = web.RouteTableDef()


@routes.get("/api/fleet")
@access(Access.ADMIN)
async def list_fleet(request: web.Request) -> web.Response:
    return web.json_response(request.app[FLEET].fleet.list(organisation(request)))


@routes.post("/api/fleet/profiles")
@access(Access.ADMIN)
async def add_profile(request: web.Request) -> web.Response:
    body = await json_object(request)
    profile = request.app[FLEET].fleet.add_profile(
        organisation(request), str(body.get("name", "")),
        streaming=bool(body.get("streaming", True)), location=bool(body.get("location", True)))
    audit(request, "profile added", profile=profile.name)
    return web.json_response({"id": profile.id}, status=201)


@routes.patch("/api/fleet/profiles/{profile_id}")
@access(Access.ADMIN)
async def change_profile(request: web.Request) -> web.Response:
    body = await json_object(request)
    fleet = request.app[FLEET].fleet
    profile = fleet.profile(request.match_info["profile_id"])
    if profile is None or profile.name not in {p["name"] for p in fleet.list(organisation(request))["profiles"]}:
        raise web.HTTPNotFound(text="no such profile in this organisation")
    fleet.set_profile_switches(profile.id, streaming=body.get("streaming"), location=body.get("location"))
    audit(request, "profile changed", profile=profile.name, **{k: body[k] for k in ("streaming", "location") if k in body})
    return web.json_response({"id": profile.id})


@routes.post("/api/fleet/camera-users")
@access(Access.ADMIN)
async def add_camera_user(request: web.Request) -> web.Response:
    body = await json_object(request)
    user_id = request.app[FLEET].fleet.add_camera_user(
        organisation(request), str(body.get("name", "")), body.get("profile_id"))
    audit(request, "camera user added", name=body.get("name"))
    return web.json_response({"id": user_id}, status=201)


@routes.post("/api/fleet/cameras")
@access(Access.ADMIN)
async def add_camera(request: web.Request) -> web.Response:
    body = await json_object(request)
    camera = request.app[FLEET].fleet.add_camera(
        organisation(request), str(body.get("serial", "")), str(body.get("model", "")),
        body.get("camera_user_id"))
    audit(request, "camera added", serial=camera.serial)
    return web.json_response({"id": camera.id}, status=201)


@routes.post("/api/fleet/cameras/{camera_id}/revoke")
@access(Access.ADMIN)
async def revoke_camera(request: web.Request) -> web.Response:
    fleet = request.app[FLEET].fleet
    camera = fleet.camera(request.match_info["camera_id"])
    if camera is None or camera.organisation_id != organisation(request):
        raise web.HTTPNotFound(text="no such camera in this organisation")
    fleet.revoke(camera.id)
    audit(request, "camera revoked", serial=camera.serial)
    return web.json_response({"revoked": camera.serial})




@routes.patch("/api/fleet/camera-users/{user_id}")
@access(Access.ADMIN)
async def assign_profile(request: web.Request) -> web.Response:
    """Body {"profile_id": ...}: the camera user's profile from now on."""
    body = await json_object(request)
    fleet, org = request.app[FLEET].fleet, organisation(request)
    user = fleet.camera_user(request.match_info["user_id"])
    profile = fleet.profile(body.get("profile_id"))
    if user is None or user["organisation_id"] != org:
        raise web.HTTPNotFound(text="no such camera user in this organisation")
    if profile is None or profile.id not in {p["id"] for p in fleet.list(org)["profiles"]}:
        raise web.HTTPBadRequest(text="choose one of this organisation's profiles")
    fleet.assign_profile(user["id"], profile.id)
    audit(request, "camera user's profile changed", camera_user=user["name"], profile=profile.name)
    return web.json_response({"id": user["id"], "profile_id": profile.id})


@routes.post("/api/fleet/networks")
@access(Access.ADMIN)
async def add_network(request: web.Request) -> web.Response:
    """Body {"ssid", "password", and "profile_id" or "camera_user_id"}; the password is
    given to docking cameras and never shown again."""
    body = await json_object(request)
    network_id = request.app[FLEET].fleet.add_network(
        organisation(request), str(body.get("ssid", "")), str(body.get("password", "")),
        profile_id=body.get("profile_id"), camera_user_id=body.get("camera_user_id"))
    audit(request, "Wi-Fi network added", ssid=body.get("ssid"))
    return web.json_response({"id": network_id}, status=201)
