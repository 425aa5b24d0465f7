"""End-to-end encryption: the system key pair, content-key wrapping, frame encryption."""
