"""The web inbox at ``/``: static files (``static/``) and the few routes that serve them."""
