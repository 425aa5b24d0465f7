"""What the fleet API reads: one model per body and per path (strict: ``"no"`` is not a
boolean, ``null`` is not a name, serials and SSIDs are bounded)."""
from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from ..kernel.requests import Id, Name, RequestModel

Serial = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                          pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
Model = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Ssid = Annotated[str, StringConstraints(max_length=32)]  # IEEE 802.11: at most 32 octets
Password = Annotated[str, StringConstraints(max_length=128)]
Thumbprint = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Fa-f ]{32,40}$")]


class NewProfile(RequestModel):
    name: Name
    streaming: bool = True
    location: bool = True


class ProfileChange(RequestModel):
    name: Name | None = None
    streaming: bool | None = None
    location: bool | None = None


class NewCameraUser(RequestModel):
    name: Name
    profile_id: Id | None = None


class CameraUserChange(RequestModel):
    name: Name | None = None
    profile_id: Id | None = None


class NewCamera(RequestModel):
    serial: Serial
    model: Model = ""
    camera_user_id: Id | None = None
    system_id: Id | None = None  # default: the organisation's first system


class NewNetwork(RequestModel):
    ssid: Ssid
    password: Password = ""
    profile_id: Id | None = None
    camera_user_id: Id | None = None


class CameraChange(RequestModel):
    camera_user_id: Id | None  # required: null takes the camera from its camera user


class NetworkChange(RequestModel):
    ssid: Ssid | None = None
    password: Password | None = None


class KeyChangeConfirmation(RequestModel):
    thumbprint: Thumbprint  # the new key's, as the admin compared it


class ProfilePath(RequestModel):
    profile_id: Id


class CameraUserPath(RequestModel):
    user_id: Id


class CameraPath(RequestModel):
    camera_id: Id


class NetworkPath(RequestModel):
    network_id: Id


PairingCodeText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=32,
                                                   pattern=r"^[A-Za-z0-9-]+$")]
B64uKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]


class NewPairing(RequestModel):
    camera_user_id: Id


class Redemption(RequestModel):
    code: PairingCodeText
    device_key: B64uKey  # raw Ed25519 public key, base64url


class Pickup(RequestModel):
    pickup: Secret
