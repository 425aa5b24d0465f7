"""Signaling: WHIP (cameras publish) and WHEP (browsers subscribe), SDP over HTTP."""
