"""The 👍/👎 links of digest mail over real HTTP: GET/HEAD change nothing, POST votes, bad tokens refused."""

from __future__ import annotations

import httpx

from digest.runtime.web_app import web_app
from digest.services import feedback
from digest.services import subscribers as subscriber_service
from digest.services.tokens import Purpose, make_token
from digest.services.vote_links import vote_token, vote_urls
from digest.settings import Settings
from storage.db import Database
from tests.digest.email.conftest import add_papers
from tests.digest.web.serve import serve


async def test_vote_links_get_shows_post_records_withdraw(settings: Settings, db: Database) -> None:
    reader = subscriber_service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    assert reader.id is not None
    (paper,) = add_papers(db, [("Sparse autoencoders at scale", "We train SAEs.")])
    async with serve(web_app(settings, db)) as base, httpx.AsyncClient() as http:
        up, down = (url.replace(settings.public_url, base) for url in vote_urls(settings, reader.id, reader.address,
                                                                               paper))
        page = await http.get(up)
        assert page.status_code == 200 and "Sparse autoencoders at scale" in page.text and 'method="post"' in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        assert (await http.head(down)).status_code == 200
        assert feedback.votes_for(db, reader.id) == {}  # link scanners prefetch: nothing recorded
        done = await http.post(up)
        assert done.status_code == 200 and "👍 recorded" in done.text and "1 👍, 0 👎 — ranking learned" in done.text
        await http.post(down)
        assert feedback.votes_for(db, reader.id) == {paper: -1}
        manage = await http.get(f"{base}/manage/{make_token(settings, Purpose.MANAGE, reader.id, reader.address)}")
        assert "Your 👍/👎: 0 👍, 1 👎 — ranking learned" in manage.text
        again = await http.get(up)
        assert "Your vote now: 👎" in again.text and "Withdraw my vote" in again.text
        withdraw = up.rsplit("/", 1)[0] + "/withdraw"
        assert (await http.post(withdraw)).status_code == 200
        assert feedback.votes_for(db, reader.id) == {}


async def test_bad_vote_links_are_refused(settings: Settings, db: Database) -> None:
    reader = subscriber_service.add_subscriber(db, settings, "email", "ada@example.org", confirmed=True)
    other = subscriber_service.add_subscriber(db, settings, "email", "bob@example.org", confirmed=True)
    assert reader.id is not None and other.id is not None
    (paper,) = add_papers(db, [("A paper", "abstract")])
    good = vote_token(settings, reader.id, reader.address, paper)
    forged = vote_token(settings, other.id, reader.address, paper)  # bob's id signed for ada's address
    cases = {
        f"/vote/{good[:-3]}xyz/up": "not valid",
        f"/vote/{good}/sideways": "not valid",
        f"/vote/{forged}/up": "not valid",
        f"/vote/{vote_token(settings, reader.id, reader.address, paper + 99)}/up": "no longer stored",
        f"/vote/{vote_token(settings, reader.id + 99, reader.address, paper)}/up": "no longer exists",
        f"/vote/{reader.id}.{paper + 1}.{good.rsplit('.', 1)[1]}/up": "not valid",  # signature moved to a paper
        "/vote/..../up": "not valid",
    }
    async with serve(web_app(settings, db)) as base, httpx.AsyncClient() as http:
        for path, reason in cases.items():
            response = await http.post(base + path)
            assert response.status_code == 400 and reason in response.text, path
    assert feedback.votes_for(db, reader.id) == {} and feedback.votes_for(db, other.id) == {}
