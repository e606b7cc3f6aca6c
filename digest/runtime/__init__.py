"""The running service (`paperbell run`): scheduler, leader election, senders, metrics, composition root.

`digest.runtime.app.run_service` is the one place that builds Settings → Database → services and
wires them; the CLI (`digest.cli.run_cmd`) calls it.
"""
