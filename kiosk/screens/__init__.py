"""One module per kiosk screen, in the order a visitor meets them."""
