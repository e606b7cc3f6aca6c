"""Matrix channel: a bot account posting paper alerts to rooms as `org.matrix.custom.html` messages."""
