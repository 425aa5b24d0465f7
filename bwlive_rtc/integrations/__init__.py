"""SOC integrations: stream events POSTed as signed JSON to receivers that admins add.

``feature`` is the app feature (routes and lifecycle); ``store`` keeps integrations and
the persistent delivery queue in SQLite; ``delivery`` drains the queue in the background
with retries; ``signing`` and ``payload`` say what goes over the wire.
"""
