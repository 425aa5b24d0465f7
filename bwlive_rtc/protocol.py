"""Names on the wire that cameras, viewers, the server and the bench must agree on
(docs/PROTOCOL.md). Constants only: every floor may import this module."""

KEY_HEADER = "Bwlive-Content-Key"  # WHIP: the stream's key envelope (sealed to the system key)
CAMERA_TIME_HEADER = "Bwlive-Camera-Time"  # WHIP: the camera's clock, ms since 1970
PROOF_HEADER = "Bwlive-Proof"  # WHIP: the device key's signature over offer, key envelope and camera time
MANIFEST_HEADER = "Bwlive-Manifest"  # WHIP: the stream manifest token, signed by the device key
SESSION_COOKIE = "bwlive_session"  # a signed-in browser's session
CSRF_HEADER = "X-CSRF-Token"  # every state-changing request of a signed-in browser
DATA_CHANNEL_LABEL = "bwlive"  # positions (camera → viewers); the server's relayed acknowledgements (→ camera)
ACKNOWLEDGE = "acknowledge"  # type of an acknowledgement, sealed by a browser and relayed by the server
CHECKPOINT = "checkpoint"  # type of a clear data message carrying a checkpoint token (camera -> viewers)
TOKEN_SUBPROTOCOL = "bwlive.bearer"  # WebSocket: offered with the viewer token as the next subprotocol
SESSION_TOKEN_PREFIX = "bws_"  # a console session signed in from another origin: a bearer token, never a cookie
API_KEY_PREFIX = "bwk_"  # every API key starts so; it mints viewer tokens and is refused anywhere else
