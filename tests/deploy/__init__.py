"""Deployment: the built wheel in a fresh venv, a systemd unit, replicas behind a real nginx."""
