"""The evidence feature: recordings as packages with their chain of custody, and verified."""
from ..kernel.feature import Feature
from .routes import lifecycle, routes

FEATURE = Feature("evidence", (routes,), lifecycle)
