"""Inbound mail: the `paperbell run --role inbound` SMTP/LMTP server, bounce/complaint parsing and actions."""
