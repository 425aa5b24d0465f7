"""The compiled fan-out (fanout.c, built by fanout_build.py): cffi's ffi and lib."""
from typing import Any

ffi: Any
lib: Any
