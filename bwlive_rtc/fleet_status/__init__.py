"""The cameras' status for admins: the fleet's records joined with the live streams."""
