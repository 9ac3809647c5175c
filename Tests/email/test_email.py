"""A mailbox as a channel, end to end: IMAP polling from dovecot, replies through a STARTTLS +
AUTH submission server, threading, automatic mail and bounces, and Parley's SMTP listener."""
import base64
import email
import imaplib
import smtplib
import time

import pytest

from conftest import MAILBOX, channel_body


def append(servers, raw):
    """Delivers a message into the mailbox the way an MTA would leave it (IMAP APPEND)."""
    imap = imaplib.IMAP4("127.0.0.1", servers["dovecot"].port)
    imap.login(*MAILBOX)
    status, _ = imap.append("INBOX", None, None, raw if isinstance(raw, bytes) else raw.encode())
    assert status == "OK"
    imap.logout()


def mail(lines):
    return "\r\n".join(lines).encode()


@pytest.fixture(scope="module")
def channel(servers):
    parley = servers["parley"]
    wrong_smtp = parley.call("POST", "/api/v1/channels", channel_body(servers, smtpPassword="nope"), expect=422)
    assert "SMTP" in wrong_smtp["error"]["message"] and "535" in wrong_smtp["error"]["message"]
    wrong_imap = parley.call("POST", "/api/v1/channels", channel_body(servers, imapPassword="nope"), expect=422)
    assert "IMAP" in wrong_imap["error"]["message"]
    created = parley.call("POST", "/api/v1/channels", channel_body(servers), expect=201)
    assert "smtpPassword" in created["credentialKeys"] and "mailbox-secret" not in str(created)
    return created


def test_mail_of_every_shape_arrives_whole(servers, channel):
    parley = servers["parley"]
    append(servers, mail(["From: Plain Pat <pat@customer.example>", "To: support@shop.example", "Subject: Plain question",
                          "Message-ID: <plain-1@customer.example>", "", "Is the shop open on Sunday?"]))
    body = base64.encodebytes("Grüße, wo bleibt meine Bestellung? 📦".encode()).decode()
    append(servers, mail(["From: =?utf-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@customer.example>", "Subject: =?utf-8?B?QmVzdGVsbHVuZyDinJM=?=",
                          "Message-ID: <b64-1@customer.example>", "MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=m", "",
                          "--m", "Content-Type: multipart/alternative; boundary=a", "", "--a", "Content-Type: text/plain; charset=utf-8",
                          "Content-Transfer-Encoding: base64", "", body, "--a", "Content-Type: text/html; charset=utf-8", "", "<p>html</p>", "--a--",
                          "--m", "Content-Type: image/png; name=photo.png", "Content-Disposition: attachment; filename=photo.png",
                          "Content-Transfer-Encoding: base64", "", "iVBORw0KGgo=", "--m--"]))
    latin = "Voil\xe0, le colis est ab\xeem\xe9.".encode("latin-1")
    qp = latin.replace(b"\xe0", b"=E0").replace(b"\xee", b"=EE").replace(b"\xe9", b"=E9")
    append(servers, mail(["From: chloe@customer.example", "Subject: =?ISO-8859-1?Q?Colis_ab=EEm=E9?=", "Message-ID: <qp-1@customer.example>",
                          "Content-Type: text/plain; charset=ISO-8859-1", "Content-Transfer-Encoding: quoted-printable", ""]) + b"\r\n" + qp)

    pat = parley.wait("Pat's mail", lambda: parley.contact("pat@customer.example"))
    assert parley.messages(pat["id"])[0]["text"] == "Is the shop open on Sunday?"
    assert parley.messages(pat["id"])[0]["details"]["subject"] == "Plain question"
    joerg = parley.wait("Jörg's mail", lambda: parley.contact("joerg@customer.example"))
    assert joerg["name"] == "Jörg Müller"
    message = parley.messages(joerg["id"])[0]
    assert message["text"] == "Grüße, wo bleibt meine Bestellung? 📦"
    assert message["details"]["subject"] == "Bestellung ✓"
    assert message["details"]["attachments"].startswith("photo.png (image/png")
    chloe = parley.wait("Chloé's mail", lambda: parley.contact("chloe@customer.example"))
    assert parley.messages(chloe["id"])[0]["text"] == "Voilà, le colis est abîmé."
    conversation = parley.call("GET", f"/api/v1/contacts/{pat['id']}/conversation")
    assert conversation["status"] == "open"


def test_a_restart_neither_loses_nor_repeats_mail(servers, channel):
    parley = servers["parley"]
    append(servers, mail(["From: rita@customer.example", "Subject: First", "Message-ID: <r-1@customer.example>", "", "one"]))
    rita = parley.wait("Rita's first mail", lambda: parley.contact("rita@customer.example"))
    parley.stop()
    # Mail that arrives while Parley is down is caught up after the restart, once.
    for n in range(2, 5):
        append(servers, mail(["From: rita@customer.example", f"Subject: Mail {n}", f"Message-ID: <r-{n}@customer.example>", "", f"number {n}"]))
    parley.start()
    parley.wait("the backlog", lambda: len(parley.messages(rita["id"])) == 4)
    time.sleep(1.5)  # a few more polls
    assert [m["text"] for m in parley.messages(rita["id"])] == ["one", "number 2", "number 3", "number 4"]


def test_replies_thread_in_the_customers_client(servers, channel):
    parley, sink = servers["parley"], servers["submission"].sink
    append(servers, mail(["From: Dana <dana@customer.example>", "Subject: Where is order 77?", "Message-ID: <dana-1@customer.example>",
                          "References: <older@customer.example>", "", "Hello, any news?"]))
    dana = parley.wait("Dana's mail", lambda: parley.contact("dana@customer.example"))
    sent = parley.call("POST", f"/api/v1/contacts/{dana['id']}/messages", {"channelId": channel["id"], "text": "It ships today.\n.\nBest, Shop"}, expect=201)
    message_id = sent["message"]["id"]
    parley.wait("the reply to be sent", lambda: any(m["id"] == message_id and m["status"] == "sent" for m in parley.messages(dana["id"])))
    received = sink.messages[-1]
    assert received["tls"] and received["login"] == MAILBOX[0], "STARTTLS, then AUTH"
    assert received["to"] == ["dana@customer.example"] and received["from"] == MAILBOX[0]
    parsed = email.message_from_bytes(received["data"])
    assert parsed["Subject"] == "Re: Where is order 77?"
    assert parsed["In-Reply-To"] == "<dana-1@customer.example>"
    assert parsed["References"].split() == ["<older@customer.example>", "<dana-1@customer.example>"]
    ours = parsed["Message-ID"]
    plain = next(p for p in parsed.walk() if p.get_content_type() == "text/plain")
    assert plain.get_payload(decode=True).decode() == "It ships today.\r\n.\r\nBest, Shop"

    # Her colleague answers our message from another address: the same contact's thread.
    append(servers, mail(["From: ops@customer.example", "Subject: Re: Where is order 77?", "Message-ID: <ops-1@customer.example>",
                          f"In-Reply-To: {ours}", "", "Thanks!\r\n\r\nOn Mon, Shop wrote:\r\n> It ships today."]))
    parley.wait("the colleague's reply in Dana's thread", lambda: [m["text"] for m in parley.messages(dana["id"])][-1:] == ["Thanks!"])


def test_a_temporary_refusal_is_retried(servers, channel):
    parley, sink = servers["parley"], servers["submission"].sink
    append(servers, mail(["From: hal@customer.example", "Subject: Retry me", "Message-ID: <hal-1@customer.example>", "", "Hi"]))
    hal = parley.wait("Hal's mail", lambda: parley.contact("hal@customer.example"))
    sink.fail_next = 1
    sent = parley.call("POST", f"/api/v1/contacts/{hal['id']}/messages", {"channelId": channel["id"], "text": "Second try"}, expect=201)
    parley.wait("the retried send", lambda: any(m["id"] == sent["message"]["id"] and m["status"] == "sent" for m in parley.messages(hal["id"])),
                timeout=30)
    assert sink.fail_next == 0


def test_automatic_mail_and_bounces(servers, channel):
    parley = servers["parley"]
    append(servers, mail(["From: eve@customer.example", "Subject: Help", "Message-ID: <eve-1@customer.example>", "", "Help please"]))
    eve = parley.wait("Eve's mail", lambda: parley.contact("eve@customer.example"))
    parley.call("POST", f"/api/v1/contacts/{eve['id']}/conversation/close", {}, expect=200)
    append(servers, mail(["From: eve@customer.example", "Subject: Out of office", "Auto-Submitted: auto-replied",
                          "Message-ID: <eve-auto@customer.example>", "", "I am away until Monday."]))
    parley.wait("the auto-reply stored", lambda: len(parley.messages(eve["id"])) == 2)
    assert parley.call("GET", f"/api/v1/contacts/{eve['id']}/conversation")["status"] == "closed", "an auto-reply reopens nothing"
    assert parley.messages(eve["id"])[-1]["details"]["automatic"] == "true"

    sent = parley.call("POST", f"/api/v1/contacts/{eve['id']}/messages", {"channelId": channel["id"], "text": "Are you there?"}, expect=201)
    parley.wait("sent", lambda: any(m["id"] == sent["message"]["id"] and m["status"] == "sent" for m in parley.messages(eve["id"])))
    ours = email.message_from_bytes(servers["submission"].sink.messages[-1]["data"])["Message-ID"]
    append(servers, mail(["From: MAILER-DAEMON@mx.customer.example", "To: support@shop.example", "Subject: Undelivered Mail Returned to Sender",
                          "Message-ID: <dsn-1@mx.customer.example>", "Content-Type: multipart/report; report-type=delivery-status; boundary=r", "",
                          "--r", "Content-Type: text/plain", "", "Delivery failed.",
                          "--r", "Content-Type: message/delivery-status", "", "Reporting-MTA: dns; mx.customer.example", "",
                          "Final-Recipient: rfc822; eve@customer.example", "Action: failed", "Status: 5.2.2", "Diagnostic-Code: smtp; 552 mailbox full",
                          "--r", "Content-Type: text/rfc822-headers", "", f"Message-ID: {ours}", "--r--"]))
    failed = parley.wait("the bounce", lambda: next((m for m in parley.messages(eve["id"]) if m["id"] == sent["message"]["id"] and m["status"] == "failed"), None))
    assert "5.2.2" in failed["providerErrorText"]
    assert parley.contact("mailer-daemon@mx.customer.example") is None, "a bounce is no conversation"


def test_the_smtp_listener(servers, channel):
    parley = servers["parley"]
    with smtplib.SMTP("127.0.0.1", parley.smtp_port, timeout=30) as smtp:
        smtp.ehlo("mx.customer.example")
        code, _ = smtp.docmd("MAIL FROM:<fay@customer.example>")
        assert code == 250
        code, reply = smtp.docmd("RCPT TO:<someone-else@shop.example>")
        assert code == 550, reply
        smtp.rset()
        smtp.sendmail("fay@customer.example", [MAILBOX[0]], mail(["From: Fay <fay@customer.example>", "Subject: Via MX",
                                                                  "Message-ID: <fay-1@customer.example>", "", "..dots kept", "Delivered by SMTP."]))
        with pytest.raises(smtplib.SMTPSenderRefused):
            smtp.sendmail("big@customer.example", [MAILBOX[0]], b"Subject: big\r\n\r\n" + b"x" * (30 << 20))
    fay = parley.wait("Fay's mail", lambda: parley.contact("fay@customer.example"))
    assert parley.messages(fay["id"])[0]["text"] == "..dots kept\nDelivered by SMTP.", "dot-stuffing undone exactly once"

    with smtplib.SMTP("127.0.0.1", parley.smtp_port, timeout=60) as smtp:
        # A 1 MB header and a body whose last line has no line end: best effort, no crash.
        smtp.sendmail("gil@customer.example", [MAILBOX[0]], b"X-Huge: " + b"h" * (1 << 20) + b"\r\nFrom: gil@customer.example\r\n"
                      b"Message-ID: <gil-1@customer.example>\r\n\r\nstill readable")
    gil = parley.wait("Gil's mail", lambda: parley.contact("gil@customer.example"))
    assert parley.messages(gil["id"])[0]["text"] == "still readable"
    assert parley.call("GET", "/healthz")["status"] == "ok"
