"""The camera fleet of a system: camera users, cameras, profiles, Wi-Fi networks, docking
and the device credentials cameras publish with."""
