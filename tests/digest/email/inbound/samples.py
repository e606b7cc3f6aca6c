"""Bounce, complaint and unsubscribe mails as real MTAs and mailbox providers send them (RFC 3464, RFC 5965).

The DSN layouts follow RFC 3464 §2 and Postfix's bounce(8) output; the Exim text is Exim 4's
"Mail delivery failed" body; the ARF report follows RFC 5965 §2 (as Yahoo/AOL feedback loops send it).
"""

from __future__ import annotations

ORIGINAL = """Return-Path: <{return_path}>
From: paperbell <digest@paperbell.test>
To: {rcpt}
Subject: paperbell: 2 new papers
Message-ID: <pb.1.abc@paperbell.test>
List-Unsubscribe: <https://paperbell.test/unsubscribe/{token}>

(digest body)
"""


def dsn(rcpt: str, action: str, status: str, diagnostic: str, original_return_path: str) -> bytes:
    return f"""Return-Path: <>
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {original_return_path}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"
Message-Id: <20260302090000.1@mx.example.org>

This is a MIME-encapsulated message.

--B1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{rcpt}>: host mx2.example.org[192.0.2.7] said: {diagnostic}

--B1
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: 4F1A2B3C
Arrival-Date: Mon,  2 Mar 2026 09:00:00 +0000 (UTC)

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: {action}
Status: {status}
Remote-MTA: dns; mx2.example.org
Diagnostic-Code: smtp; {diagnostic}

--B1
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: paperbell <digest@paperbell.test>
To: {rcpt}
Subject: paperbell: 2 new papers

--B1--
""".replace("\n", "\r\n").encode()


def exim_bounce(rcpt: str, original_return_path: str) -> bytes:
    return f"""Return-path: <>
From: Mail Delivery System <Mailer-Daemon@mx.example.net>
To: {original_return_path}
Subject: Mail delivery failed: returning message to sender
Auto-Submitted: auto-replied

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {rcpt}
    SMTP error from remote mail server after RCPT TO:<{rcpt}>:
    host mx.example.net [198.51.100.5]: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown

------ This is a copy of the message, including all the headers. ------

From: paperbell <digest@paperbell.test>
To: {rcpt}
Subject: paperbell: 2 new papers

(digest body)
""".replace("\n", "\r\n").encode()


def arf(rcpt: str, token: str, return_path: str) -> bytes:
    original = ORIGINAL.format(rcpt=rcpt, token=token, return_path=return_path)
    return f"""From: <staff@fbl.example.com>
Date: Mon, 2 Mar 2026 10:00:00 +0000
Subject: FW: paperbell: 2 new papers
To: <fbl@bounces.paperbell.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.1 on Mon, 2 Mar 2026 09:00:00 +0000.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <{return_path}>
Original-Rcpt-To: <{rcpt}>
Arrival-Date: Mon, 2 Mar 2026 09:00:00 +0000
Source-IP: 192.0.2.1

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

{original}
--part1_13d.2e68ed54_boundary--
""".replace("\n", "\r\n").encode()


def plain(subject: str, to: str, body: str = "Please stop.") -> bytes:
    return f"From: someone@example.org\r\nTo: {to}\r\nSubject: {subject}\r\n\r\n{body}\r\n".encode()
