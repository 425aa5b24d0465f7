"""The browser client: static pages and ES modules served at ``/web`` (not Python code)."""
