"""The panels of the counter's main screen."""
