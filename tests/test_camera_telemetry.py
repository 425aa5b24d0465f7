"""The camera's sealed status message (issue 13): battery, signal, local recording and the
capture time of its last video frame, for the operators' tile stats."""
from __future__ import annotations

from bwlive_rtc.camera.telemetry import SimulatedRadio, help_request, status


def test_status_names_the_last_frame_in_the_cameras_clock() -> None:
    radio = SimulatedRadio("Sam de Vries", battery=87)
    message = status(radio, 1_700_000_000_500, True, (42, 1_700_000_000.25), clock_offset=2.0)
    assert message["type"] == "status" and message["t"] == 1_700_000_000_500
    assert message["battery"] == 87 and message["recording"] is True
    assert -62 <= int(message["signal"]) <= -54  # type: ignore[call-overload]
    assert message["frame"] == {"ctr": 42, "t": 1_700_000_002_250}  # capture time + the camera's offset


def test_no_frame_yet_and_a_help_request() -> None:
    message = status(SimulatedRadio("x"), 5, False, None, clock_offset=0.0)
    assert "frame" not in message and message["battery"] == 100
    assert help_request(7) == {"type": "help", "t": 7}
