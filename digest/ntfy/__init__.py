"""The ntfy channel: a topic per subscriber, papers published as phone notifications (docs/guides/ntfy.md).

`spec.SPEC` is what the composition root registers (it builds `channel.ntfy_channel`); `render` shapes
notifications within ntfy's limits; `client.NtfyPlatform` publishes them for the shared loop
(digest.services.posting).
"""
