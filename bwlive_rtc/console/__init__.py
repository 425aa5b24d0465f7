"""The operator's console on the server: shared groups of camera users, acknowledgements
and the map's settings."""
