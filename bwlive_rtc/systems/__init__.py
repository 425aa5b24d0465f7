"""Systems: the on-premises camera fleets of an organisation, each with its end-to-end
public key, and the one-time codes with which they join (SPEC §6)."""
