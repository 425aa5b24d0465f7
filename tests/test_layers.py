"""The floors of the house (docs/ARCHITECTURE.md): no import goes up a floor, features do
not import clients, clients do not import features, and features import each other
without cycles. Read from the source with ``ast``, so the check covers every module."""
from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import bwlive_rtc

PACKAGE = Path(bwlive_rtc.__file__).parent
KERNEL, MEDIA, FEATURES, ROOT = 0, 1, 2, 3
FLOORS = {
    "kernel": KERNEL, "protocol": KERNEL, "storage": KERNEL,
    "crypto": MEDIA, "sfu": MEDIA, "aiortc_adapter": MEDIA, "workers": MEDIA,
    "auth": FEATURES, "systems": FEATURES, "fleet": FEATURES, "licensing": FEATURES, "streams": FEATURES,
    "signaling": FEATURES, "console": FEATURES, "recordings": FEATURES, "evidence": FEATURES, "integrations": FEATURES,
    "webclient": FEATURES, "fleet_status": FEATURES, "embedding": FEATURES, "camera": FEATURES, "viewer": FEATURES,
    "app": ROOT, "server": ROOT, "media_worker": ROOT, "cli": ROOT, "__main__": ROOT,
}
CLIENTS = {"camera", "viewer"}


def _room(module: str) -> str:
    """``bwlive_rtc.sfu.router`` → ``sfu``."""
    return module.split(".")[1]


def _module_name(path: Path, root: Path = PACKAGE.parent) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path = PACKAGE.parent) -> set[str]:
    """The bwlive_rtc modules ``path`` imports (relative imports resolved)."""
    name = _module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            found.add(target)
    return {module for module in found if module.startswith("bwlive_rtc.")}


def _edges() -> list[tuple[str, str, str]]:
    """(importing module, its room, imported room) for every import between rooms."""
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "web" in path.relative_to(PACKAGE).parts[:1]:
            continue
        module = _module_name(path)
        if module == "bwlive_rtc":
            continue
        for imported in _imports(path):
            if _room(imported) != _room(module):
                edges.append((module, _room(module), _room(imported)))
    return edges


def test_every_room_has_a_floor() -> None:
    rooms = {path.relative_to(PACKAGE).parts[0].removesuffix(".py") for path in PACKAGE.glob("*")
             if path.suffix == ".py" or (path / "__init__.py").exists()}
    assert rooms - {"__init__", "web"} <= set(FLOORS), f"rooms without a floor: {rooms - set(FLOORS) - {'__init__', 'web'}}"


def test_no_import_goes_up_a_floor() -> None:
    upward = [f"{module} imports {room}" for module, own, room in _edges() if FLOORS[room] > FLOORS[own]]
    assert upward == []


def test_clients_and_server_features_stay_apart() -> None:
    crossing = [f"{module} imports {room}" for module, own, room in _edges()
                if FLOORS[own] == FEATURES and FLOORS[room] == FEATURES and (own in CLIENTS) != (room in CLIENTS)]
    assert crossing == []


def test_features_import_each_other_without_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for _module, own, room in _edges():
        if FLOORS[own] == FLOORS[room] == FEATURES:
            graph.setdefault(own, set()).add(room)
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"features import each other in a cycle: {exc.args[1]}") from None


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """Relative imports are resolved, so an upward one cannot slip through."""
    probe = tmp_path / "bwlive_rtc" / "kernel" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("from ..app import create_app\nfrom . import errors\nfrom ..sfu.router import Router\n")
    assert _imports(probe, tmp_path) == {"bwlive_rtc.app", "bwlive_rtc.kernel", "bwlive_rtc.sfu.router"}
