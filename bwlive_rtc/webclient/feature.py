"""The web client feature: pages, modules and the server's time."""
from ..kernel.feature import Feature
from .routes import routes

FEATURE = Feature("webclient", (routes,))
