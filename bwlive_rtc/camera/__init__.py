"""The camera agent: capture, encode (VP8/Opus), encrypt per frame, uplink over WHIP."""
