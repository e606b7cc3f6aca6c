"""Fixtures the web front's tests share: a real SMTP server double and settings that send mail to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from digest.settings import Settings
from tests.digest.email.smtp_double import SmtpDouble
from tests.digest.web.front import mail_settings


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpDouble]:
    double = await SmtpDouble().start()
    yield double
    await double.stop()


@pytest.fixture
def web_settings(settings: Settings, smtp: SmtpDouble) -> Settings:
    return mail_settings(settings, smtp.port)
