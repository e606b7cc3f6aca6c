"""The Discord channel: everything of Discord below the bot's front end.

`channel.DiscordChannel` is what the runtime delivers through. `delivery` (due → claim → render →
post → record, idempotent parts), `placement` and `placer` (where a message goes: channel, role
mention, forum post, thread, webhook, DM, and the HTTP requests for it), `targets` (a channel's
options), `render` and `styles` (embeds within Discord's limits), `components` (the 👍/👎 buttons),
`votes`, `guilds` (per-server settings and stats), `sample` (/admin test) and `search` (/search).
"""
