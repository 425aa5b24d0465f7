"""The recordings feature: every stream recorded, kept, purged and played back."""
from ..kernel.feature import Feature
from .api import lifecycle, routes

FEATURE = Feature("recordings", (routes,), lifecycle)
