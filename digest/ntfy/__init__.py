"""The ntfy channel: a topic per subscriber, papers published as phone notifications (docs/guides/ntfy.md).

`channel.ntfy_channel` is what the composition root registers; `render` shapes notifications within
ntfy's limits; `client.NtfyPlatform` publishes them for the shared loop (digest.services.posting).
"""
