"""The operator's console feature: groups, acknowledgements, map settings."""
from ..kernel.feature import Feature
from .routes import lifecycle, routes

FEATURE = Feature("console", (routes,), lifecycle)
