"""bwlive: end-to-end-encrypted live video, audio and GPS from body-worn cameras."""
