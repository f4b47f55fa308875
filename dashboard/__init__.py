"""The Dash app: pages, components, thin callbacks, auth, i18n. Imports ``layers`` and ``geo``."""
