"""Licenses (SPEC §6): signed license files, camera usage averaged over 7 days, the trial."""
