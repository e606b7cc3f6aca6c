"""The Matrix channel as the composition root registers it: its subscriber kind, settings and listener.

Light on purpose (no matrix-nio): every command imports it to know the channel is there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from digest.services.channel_specs import ChatKind, ChatSpec, Listen, own_settings
from digest.services.chat_targets import TargetShape

if TYPE_CHECKING:
    from digest.matrix.settings import MatrixSettings
    from digest.services.channels import Channel
    from digest.settings import Settings
    from storage.db import Database

ROOM = "matrix_room"  # a room id (!opaque:server)

# https://spec.matrix.org/v1.11/appendices/#room-ids: !opaque_id:server_name, at most 255 bytes
_SHAPE = TargetShape(re.compile(r"![\x21-\x39\x3b-\x7e]{1,200}:[A-Za-z0-9.\-]{1,230}(:[0-9]{1,5})?"),
                     "a Matrix room id (!opaque:server.org)", "Matrix")


def _settings() -> type[MatrixSettings]:
    """The package's settings class (imported here: pydantic is not loaded for `paperbell --help`)."""
    from digest.matrix.settings import MatrixSettings

    return MatrixSettings


def _ready(settings: Settings) -> bool:
    return (isinstance(settings, _settings()) and bool(settings.matrix_homeserver)
            and settings.matrix_access_token is not None)


def _build(settings: Settings, db: Database) -> Channel:
    from digest.matrix.channel import matrix_channel

    return matrix_channel(own_settings(settings, _settings()), db)


def _listener(settings: Settings, db: Database) -> Listen:
    """The bot account's ear: /sync, answering `!paperbell` commands and the vote reactions."""
    from digest.matrix.api import MatrixClient
    from digest.matrix.listener import MatrixListener

    own = own_settings(settings, _settings())
    assert own.matrix_homeserver and own.matrix_access_token is not None  # `_ready`
    account = MatrixClient(own.matrix_homeserver, own.matrix_user_id or "",
                           own.matrix_access_token.get_secret_value(), device_id=own.matrix_device_id)
    return MatrixListener(own, db, account).run


SPEC = ChatSpec(
    name="matrix", label="Matrix", kinds=(ChatKind(ROOM, _SHAPE, needs=("matrix_access_token",)),),
    settings=_settings, ready=_ready, build=_build, library=("nio", "matrix-nio"), listener=_listener,
    votes=True,
)
