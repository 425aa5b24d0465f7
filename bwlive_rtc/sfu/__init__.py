"""The selective forwarding unit: Router, Producer (a camera), Consumer (a viewer).

It forwards encrypted RTP packets as they come; it never decodes and holds no key.
"""
