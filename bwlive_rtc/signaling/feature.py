"""The signaling feature: WHIP for cameras, WHEP for viewers."""
from ..kernel.feature import Feature
from . import whep, whip

FEATURE = Feature("signaling", (whip.routes, whep.routes))
