"""The domain: layer schemas, the store, import, the demo city and the analyses. Knows nothing of Dash."""
