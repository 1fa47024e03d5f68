"""The counter-staff terminal (Textual), started with ``lobby counter``."""
