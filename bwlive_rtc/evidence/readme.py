"""The README the receiving party reads first in an evidence package."""
from __future__ import annotations

from typing import Any

from ..crypto.system_signing import SigningPublicKey

TEXT = """\
bwlive evidence package
=======================

Recording {id} of camera user {camera}, started {started_at}, {segments} segments.
System signing key in this package: thumbprint {thumbprint}

What this package holds
-----------------------
segments/NNNNNN.rtp        The recording, byte for byte as the server stored it: the camera's
                           encrypted video and audio frames (RTP packets), its encrypted GPS
                           positions and its signed checkpoints, each with its arrival time.
manifest.token             The camera's stream manifest, signed with the camera's device key:
                           its serial, camera user, organisation, start time and the hash of
                           the stream's key envelope.
certificate.token          The camera's certificate, signed with the system's signing key: this
                           device key is camera SERIAL of the organisation, for six days.
system-signing-public.pem  The system's public signing key as the server knows it.
checkpoints.jsonl          The camera's checkpoints, extracted from the segments: at least every
                           second the camera signed a hash of every frame and position it had
                           encrypted since the one before, chained to the manifest.
positions.jsonl            The encrypted GPS positions, extracted from the segments.
audit.jsonl                The server's audit log entries about this recording (viewed, played,
                           acknowledged, exported), oldest first.
recording.json             The server's description of the recording and its segments.

The frames and positions are end-to-end encrypted: the key envelope in recording.json opens
only with the system's private key, which the server never held.

How to verify
-------------
1. Get the system's signing key thumbprint from the system's administrator by a channel you
   trust (on the system host: `bwlive system keys show`), or its public key file
   (system-signing-public.pem from the system's keys directory). Do NOT trust the key in
   this package without comparing its thumbprint.
2. Run, with bwlive installed (no server, no network needed):

       bwlive evidence verify PACKAGE.zip --thumbprint "XXXX XXXX ..."
   or  bwlive evidence verify PACKAGE.zip --signing-key system-signing-public.pem

   It exits 0 and prints "Verified: ..." when every check passes, else it exits 1 and
   names the first thing that is wrong in one sentence.

What is checked, in this order
------------------------------
* The certificate is signed by the system key and was valid when the stream started; the
  manifest is signed by the certificate's device key, names the same camera, and names the
  recording's key envelope.
* Every segment is present, in order, intact (checksums), of this recording, and its
  arrival times never go back.
* The checkpoints form one unbroken chain from the manifest (none missing, none reordered),
  dated from the stream's start on, within the certificate's validity.
* Every frame and position in the segments is, byte for byte, one the camera signed.
* No frame or position the camera signed is missing (but those before the recording's
  first key frame, in the stream's first seconds, and those of the last half second after
  the camera's last checkpoint, which it never got to sign).
* The arrival times keep pace with the camera's signed clock (within 5 s).
* checkpoints.jsonl, positions.jsonl and certificate.token agree with the segments and the
  manifest.

What a pass proves: the camera holding the certified device key recorded these frames and
positions, in this order, at these times, and none were added, altered, reordered or
left out after it signed them, between the start and the last checkpoint the verifier names.
A camera that stops its stream signs a closing checkpoint: "complete: the camera closed the
stream" means nothing was cut off the end. Without it ("the camera did not close the
stream") the camera was lost or the recording was cut short after the time named: compare
the signed span with the recording you expect. recording.json and
audit.jsonl are the server's word and are not signed by the camera.
"""


def readme(recording: dict[str, Any], signing_key: SigningPublicKey | None, segments: int) -> str:
    return TEXT.format(id=recording.get("id"), camera=recording.get("camera"), started_at=recording.get("started_at"),
                       segments=segments, thumbprint=signing_key.thumbprint if signing_key else "(none known)")
