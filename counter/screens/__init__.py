"""The counter terminal's screens: sign-in, the desk, and the forms opened from it."""
