"""The camera's position sources: GPX replay at 1 Hz, a simulated loss of the fix, and
clear refusals for a bad track."""
from __future__ import annotations

from pathlib import Path

import pytest

from bwlive_rtc.camera.gps import GpxTrack, LosesFix, SimpleWalk, read_gpx

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", ["dam-square", "canal-ring", "central-station"])
def test_sample_tracks_are_walks_in_amsterdam(name: str) -> None:
    points = read_gpx(DATA / f"{name}.gpx")
    assert len(points) >= 100
    assert all(52.3 < lat < 52.4 and 4.8 < lon < 5.0 for lat, lon in points)


def test_gpx_replay_loops_and_marks_each_fix() -> None:
    track = GpxTrack(DATA / "dam-square.gpx")
    fixes = [track.fix() for _ in range(len(track.points) + 2)]
    assert all(fix["fix"] is True and fix["type"] == "position" for fix in fixes)
    assert (fixes[0]["lat"], fixes[0]["lon"]) == pytest.approx(track.points[0])
    assert (fixes[-1]["lat"], fixes[-1]["lon"]) == pytest.approx(track.points[1])  # looped


def test_losing_the_fix_for_a_while() -> None:
    lost_now = LosesFix(SimpleWalk(), after_s=0.0, for_s=60.0).fix()
    assert lost_now["fix"] is False and set(lost_now) == {"type", "fix", "t"}
    assert LosesFix(SimpleWalk(), after_s=0.0, for_s=0.0).fix()["fix"] is True  # the loss is over
    assert LosesFix(SimpleWalk(), after_s=60.0).fix()["fix"] is True  # not yet


def test_a_lost_fix_carries_the_last_one(monkeypatch: pytest.MonkeyPatch) -> None:
    source = LosesFix(SimpleWalk(), after_s=1.0)
    had = source.fix()
    assert had["fix"] is True
    monkeypatch.setattr(source, "after_s", 0.0)  # the fix is lost from now on
    lost = source.fix()
    assert lost["fix"] is False and "lat" not in lost
    assert lost["last"] == {name: had[name] for name in ("lat", "lon", "accuracy", "t")}
    assert "last" not in LosesFix(SimpleWalk(), after_s=0.0).fix()  # never had one


def test_walks_of_different_cameras_start_apart() -> None:
    a, b = SimpleWalk(seed="Alex Jansen").fix(), SimpleWalk(seed="Sam de Vries").fix()
    assert (a["lat"], a["lon"]) != (b["lat"], b["lon"])


def test_a_bad_track_is_refused_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "empty.gpx").write_text('<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk/></gpx>')
    (tmp_path / "broken.gpx").write_text("<gpx><trk>")
    (tmp_path / "no-lat.gpx").write_text('<gpx><trk><trkseg><trkpt lon="4.9"/></trkseg></trk></gpx>')
    for track, words in [("empty.gpx", "no track points"), ("broken.gpx", "not a GPX file"),
                         ("no-lat.gpx", "without a numeric lat and lon")]:
        with pytest.raises(ValueError, match=words):
            GpxTrack(tmp_path / track)  # the agent makes its source before connecting
    with pytest.raises(FileNotFoundError):
        GpxTrack(tmp_path / "missing.gpx")
