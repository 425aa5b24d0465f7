"""Live streams: the SFU router in the app, the live list, stream rows and events."""
