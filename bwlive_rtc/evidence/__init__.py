"""Evidence: one recording as a self-contained package with its chain of custody, and its verification."""
