"""Widgets the kiosk screens share."""
