"""`config show` never prints a secret, whatever shape the URL has (properties over generated passwords)."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from digest.settings import Settings

# passwords as people paste them: any printable character, including the ones URLs reserve (@ : / ? #)
PASSWORDS = st.text(alphabet=string.ascii_letters + string.digits + "@:/?#%!$&'()*+,;=[]~-._", min_size=8,
                    max_size=40).filter(lambda p: p.strip(".-_~") == p)


@given(password=PASSWORDS)
@example(password="postgres")  # also a substring of the scheme
@example(password="p@ss/w?rd#x")
def test_database_url_password_never_shown(password: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    url = f"postgresql+psycopg://reader:{password}@db.example.org:5432/paperbell"
    shown = Settings(data_dir=Path(tmp_path_factory.getbasetemp()), database_url=url).redacted()
    # the whole password is replaced, whatever it holds (a substring test would trip on "postgres" itself)
    masked = "postgresql+psycopg://reader:********@db.example.org:5432/paperbell"
    assert shown["PAPERBELL_DATABASE_URL"] == masked
    assert shown["(database)"] == masked


@pytest.mark.parametrize(("url", "hidden"), [
    ("postgresql+psycopg://u:s3cr3t-pass@h/db", "s3cr3t-pass"),
    ("postgresql+psycopg://u:p@ss@word@h/db", "ss@word"),  # an unescaped @ inside the password
    ("postgresql+psycopg://h/db?password=s3cr3t-pass", "s3cr3t-pass"),
    ("postgresql+psycopg://tok3n-only@h/db", "tok3n-only"),
])
def test_known_shapes(url: str, hidden: str, tmp_path: Path) -> None:
    shown = Settings(data_dir=tmp_path, database_url=url).redacted()
    assert hidden not in str(shown["(database)"])
    assert shown["(database)"].endswith(("h/db", "h/db?password=********"))
