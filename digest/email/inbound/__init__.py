"""Bounces and complaints coming back: the `paperbell run --role inbound` SMTP/LMTP server and the
bounce webhook of mail relays, both classifying what they receive and acting on it the same way."""
