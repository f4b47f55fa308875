"""One module per page; Dash imports them as ``dashboard.pages.<name>`` (see ``dashboard.app``)."""
