"""Fault cases, the smaller ones: webhook forgeries and replays, a forged log line, login CSRF, `config show`.

Run: `python bench/faults/small_cases.py --paperbell /work/wt/faults-old/.venv/bin/paperbell`.
Starts a local HTTP server holding a self-signed "SNS" certificate (so a correctly signed SNS message can be
made, with PAPERBELL_WEBHOOK_SNS_CERT_URL_PATTERN pointing at it) and `paperbell run --role web` with a
webhook secret and a Mailgun signing key (fresh SQLite data dir or `--database-url`). Then:
  sns_unsigned        an SNS bounce with no signature: status
  sns_replay          one correctly signed SNS bounce posted twice: both statuses
  mailgun_bad_hmac    a Mailgun complaint signed with the wrong key: status
  mailgun_replay      a correctly signed Mailgun complaint posted twice: both statuses
  log_forging         a signed SNS SubscriptionConfirmation whose SubscribeURL holds "\\nCRITICAL paperbell: forged
                      line": status, and whether the service log has a line starting with the forged text
  reader_cross_site   GET /reader/<token> as a link from another site (Sec-Fetch-Site: cross-site): status and
                      whether the answer sets the reader cookie (the token is minted by the install's own
                      `reader_path`, as its manage page does)
  config_show         `paperbell config show` with PAPERBELL_DATABASE_URL=postgresql://u:S3cretPw@db:notaport/x
                      (a URL that does not parse): exit status and whether the password is printed
Prints ONE JSON line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import Service, base_env, emit, fresh_dir, measure, parser

SECRET = "hook-secret-0123456789"
MAILGUN_KEY = "mailgun-signing-key-0123"
# https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html: the keys signed, in order
SIGNED = {"Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
          "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                                       "Type")}


class CertServer:
    """Serves one self-signed certificate over local HTTP and signs SNS bodies with its key."""

    def __init__(self) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.bench.amazonaws.com")])
        now = datetime.now(UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=1)).sign(self.key, hashes.SHA256()))
        pem = cert.public_bytes(serialization.Encoding.PEM)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(pem)))
                self.end_headers()
                self.wfile.write(pem)

            def log_message(self, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.cert_url = f"http://127.0.0.1:{self.server.server_address[1]}/sns/SimpleNotificationService-b.pem"
        self.pattern = r"http://127\.0\.0\.1:\d+/sns/[^?#]+\.pem"

    def sign(self, body: dict[str, Any]) -> dict[str, Any]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signed = {**body, "SignatureVersion": "1", "SigningCertURL": self.cert_url, "MessageId": str(uuid.uuid4()),
                  "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")}
        text = "".join(f"{k}\n{signed[k]}\n" for k in SIGNED[signed["Type"]] if k in signed).encode()
        signed["Signature"] = base64.b64encode(self.key.sign(text, padding.PKCS1v15(), hashes.SHA1())).decode()
        return signed


def _post(url: str, body: dict[str, Any]) -> int:
    import urllib.error
    import urllib.request

    auth = "Basic " + base64.b64encode(f"x:{SECRET}".encode()).decode()
    request = urllib.request.Request(url + "/webhooks/bounce", data=json.dumps(body).encode(),
                                     headers={"Authorization": auth, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _mailgun(key: str, token: str) -> dict[str, Any]:
    stamp = str(int(time.time()))
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": stamp, "token": token, "signature": signature},
            "event-data": {"event": "complained", "recipient": "mg@example.org"}}


def _bounce(address: str) -> dict[str, Any]:
    message = {"notificationType": "Bounce", "mail": {}, "bounce": {
        "bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": [{"emailAddress": address}]}}
    return {"Type": "Notification", "TopicArn": "arn:aws:sns:eu-west-1:1:ses-bounces", "Message": json.dumps(message)}


def _reader_cookie(paperbell: str, env: dict[str, str], url: str) -> dict[str, Any]:
    import http.client
    import urllib.parse

    python = str(Path(paperbell).parent / "python")
    mint = ("import types; from digest.settings import Settings; from digest.web.reader_routes import reader_path; "
            "print(reader_path(Settings(), types.SimpleNamespace(id=1, address='reader@example.org')))")
    path = subprocess.run([python, "-c", mint], env=env, capture_output=True, text=True, check=True).stdout.strip()
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    conn.request("GET", path, headers={"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.test/"})
    answer = conn.getresponse()  # redirects not followed: the cookie would be on this answer
    answer.read()
    cookies = answer.headers.get_all("Set-Cookie") or []
    conn.close()
    return {"status": answer.status, "sets_cookie": any(cookie.startswith("pb_reader") for cookie in cookies),
            "set_cookie_names": sorted(cookie.split("=", 1)[0] for cookie in cookies)}


def main() -> None:
    opts = parser(__doc__).parse_args()
    work = fresh_dir("small")
    certs = CertServer()
    env = base_env(work / "data", opts.database_url, PAPERBELL_WEBHOOK_SECRET=SECRET,
                   PAPERBELL_WEBHOOK_MAILGUN_SIGNING_KEY=MAILGUN_KEY,
                   PAPERBELL_WEBHOOK_SNS_CERT_URL_PATTERN=certs.pattern)
    pb = opts.paperbell
    for address in ("reader@example.org", "ses-hard@example.org", "mg@example.org"):
        measure([pb, "subscribers", "add", address, "--confirmed"], env, 120)
    results: dict[str, Any] = {}
    with Service(pb, env, ["web"], work / "svc.log") as svc:
        results["sns_unsigned"] = _post(svc.url, {**_bounce("ses-hard@example.org"), "MessageId": "m1",
                                                  "Timestamp": "2026-03-02T09:00:00.000Z", "SignatureVersion": "1"})
        signed = certs.sign(_bounce("ses-hard@example.org"))
        results["sns_replay"] = [_post(svc.url, signed), _post(svc.url, signed)]
        results["mailgun_bad_hmac"] = _post(svc.url, _mailgun("wrong-key", "tok-0"))
        good = _mailgun(MAILGUN_KEY, "tok-1")
        results["mailgun_replay"] = [_post(svc.url, good), _post(svc.url, good)]
        forged = certs.sign({"Type": "SubscriptionConfirmation", "TopicArn": "arn:aws:sns:eu-west-1:1:t", "Token": "t",
                             "Message": "confirm",
                             "SubscribeURL": f"{certs.cert_url}?x\nCRITICAL paperbell: forged line"})
        status = _post(svc.url, forged)
        time.sleep(1)
        log = (work / "svc.log").read_text(errors="replace").splitlines()
        results["log_forging"] = {"status": status,
                                  "forged_line_in_log": any(line.startswith("CRITICAL paperbell: forged")
                                                            for line in log)}
        results["reader_cross_site"] = _reader_cookie(pb, {**env, "PAPERBELL_PUBLIC_URL": svc.url}, svc.url)
    bad_url = "postgresql+psycopg://u:S3cretPw@db.example.org:notaport/x"
    shown = measure([pb, "config", "show"], {**env, "PAPERBELL_DATABASE_URL": bad_url}, 60)
    results["config_show"] = {"rc": shown["rc"], "password_printed": "S3cretPw" in shown["output"]}
    certs.server.shutdown()
    emit("small_cases", pb, results)


if __name__ == "__main__":
    main()
