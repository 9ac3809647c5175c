import Foundation
import ParleyChannels
import Testing

@Suite("Email: MIME parsing and writing")
struct MIMETests {
    static func mail(_ lines: [String]) -> [UInt8] { Array(lines.joined(separator: "\r\n").utf8) }

    @Test func multipartAlternativeWithQuotedPrintableLatin1AndEncodedWords() {
        var raw = Self.mail([
            "From: =?ISO-8859-1?Q?Jos=E9_Garc=EDa?= <Jose@Example.com>",
            "To: support@shop.example",
            "Subject: =?utf-8?B?wr9Ew7NuZGUgZXN0w6E=?= =?utf-8?Q?_mi_pedido=3F?=",
            "Message-ID: <abc@mail.example>",
            "In-Reply-To: <parley.1.7@shop.example>",
            "References: <first@mail.example>\r\n <parley.1.7@shop.example>",
            "Date: Mon, 30 Nov 2026 10:00:00 +0100",
            "MIME-Version: 1.0",
            "Content-Type: multipart/alternative; boundary=\"b1\"",
            "",
            "--b1",
            "Content-Type: text/plain; charset=ISO-8859-1",
            "Content-Transfer-Encoding: quoted-printable",
            "", "",
        ])
        raw += Array("El pedido no lleg=F3, =\r\nse=F1or.\r\n\r\nOn Sun, 29 Nov 2026, Shop <support@shop.example> wrote:\r\n> Your order shipped.\r\n".utf8).map { $0 }
        raw += Self.mail(["--b1", "Content-Type: text/html; charset=utf-8", "", "<p>ignored</p>", "--b1--", ""])
        let email = ParsedEmail(raw)
        #expect(email.from == EmailAddress(name: "José García", address: "jose@example.com"))
        #expect(email.subject == "¿Dónde está mi pedido?")
        #expect(email.messageId == "abc@mail.example")
        #expect(email.inReplyTo == ["parley.1.7@shop.example"])
        #expect(email.references == ["first@mail.example", "parley.1.7@shop.example"])
        #expect(email.text == "El pedido no llegó, señor.")
        #expect(email.date == Date(timeIntervalSince1970: 1_796_029_200))
        #expect(!email.isAutomatic)
        #expect(email.bounce == nil)
    }

    @Test func base64MixedWithAttachmentHTMLOnlyAndWindows1252() {
        let body = Data("Grüße aus Köln 👋\nSee the invoice.".utf8).base64EncodedString(options: .lineLength76Characters)
        let mixed = ParsedEmail(Self.mail([
            "From: anna@example.de", "Subject: Rechnung", "Content-Type: multipart/mixed; boundary=outer", "",
            "--outer", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "", body,
            "--outer", "Content-Type: application/pdf; name=\"invoice.pdf\"", "Content-Disposition: attachment; filename*=utf-8''Rechnung%20M%C3%A4rz.pdf",
            "Content-Transfer-Encoding: base64", "", "JVBERi0xLjQK", "--outer--",
        ]))
        #expect(mixed.text == "Grüße aus Köln 👋\nSee the invoice.")
        #expect(mixed.attachments == [.init(filename: "Rechnung März.pdf", contentType: "application/pdf", size: 9)])

        let html = ParsedEmail(Self.mail([
            "From: b@example.com", "Content-Type: text/html; charset=windows-1252", "", "",
        ]) + [0x3C, 0x70, 0x3E] + Array("It".utf8) + [0x92] + Array("s &amp; <b>fine</b><br>thanks</p><script>x()</script>".utf8))
        #expect(html.text == "It’s & fine\nthanks")
    }

    @Test func automaticMailAndBouncesAreRecognised() {
        let vacation = ParsedEmail(Self.mail(["From: c@example.com", "Auto-Submitted: auto-replied", "Subject: Out of office", "", "Back Monday."]))
        #expect(vacation.isAutomatic)
        #expect(ParsedEmail(Self.mail(["From: list@example.com", "Precedence: bulk", "", "news"])).isAutomatic)
        let bounce = ParsedEmail(Self.mail([
            "From: MAILER-DAEMON@mx.example", "Subject: Undelivered Mail Returned to Sender",
            "Content-Type: multipart/report; report-type=delivery-status; boundary=r", "",
            "--r", "Content-Type: text/plain", "", "Sorry.",
            "--r", "Content-Type: message/delivery-status", "", "Reporting-MTA: dns; mx.example", "",
            "Final-Recipient: rfc822; nobody@customer.example", "Action: failed", "Status: 5.1.1",
            "Diagnostic-Code: smtp; 550 5.1.1 user unknown",
            "--r", "Content-Type: text/rfc822-headers", "", "Message-ID: <parley.3.41@shop.example>", "Subject: Re: order", "--r--",
        ]))
        #expect(bounce.bounce == .init(originalMessageId: "parley.3.41@shop.example", recipient: "nobody@customer.example", status: "5.1.1",
                                       diagnostic: "smtp; 550 5.1.1 user unknown"))
    }

    @Test func malformedMailNeverCrashesAndGivesWhatItCan() {
        #expect(ParsedEmail(Array("just some text without headers".utf8)).text == "just some text without headers")
        let unterminated = ParsedEmail(Array("From: a@b.c\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain\n\nhello\n".utf8))
        #expect(unterminated.text == "hello")
        let huge = ParsedEmail(Array(("X-Big: " + String(repeating: "a", count: 1 << 20) + "\r\nFrom: d@e.f\r\n\r\nbody").utf8))
        #expect(huge.from?.address == "d@e.f")
        #expect(huge.text == "body")
        #expect(ParsedEmail(Array("Subject: =?utf-8?B?!!!?= =?x?Q?=ZZ?=\r\n\r\n".utf8)).subject.count < 40)
        // Bytes of every kind, nested boundaries that never end: the parser stays bounded.
        var generator = SystemRandomNumberGenerator()
        for round in 0..<200 {
            var bytes = Array("Content-Type: multipart/mixed; boundary=z\r\n\r\n".utf8)
            for _ in 0..<(round % 20) { bytes += Array("--z\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n".utf8) }
            bytes += (0..<Int.random(in: 0...2000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = ParsedEmail(bytes)
        }
    }

    @Test func outgoingMailThreadsAndSurvivesARoundTrip() {
        let email = OutgoingEmail(from: EmailAddress(name: "Tienda Ñandú", address: "support@shop.example"),
                                  to: EmailAddress(name: "José", address: "jose@example.com"),
                                  subject: OutgoingEmail.replySubject("¿Dónde está mi pedido?"),
                                  text: "Hola José,\n.\n..starts with dots <b>not bold</b> = fine\n\nSaludos",
                                  messageId: "parley.1.9@shop.example", inReplyTo: "abc@mail.example",
                                  references: ["first@mail.example", "abc@mail.example"])
        let rendered = email.rendered()
        #expect(!rendered.contains { $0 > 127 }, "7-bit clean")
        let parsed = ParsedEmail(rendered)
        #expect(parsed.subject == "Re: ¿Dónde está mi pedido?")
        #expect(parsed.from == EmailAddress(name: "Tienda Ñandú", address: "support@shop.example"))
        #expect(parsed.messageId == "parley.1.9@shop.example")
        #expect(parsed.inReplyTo == ["abc@mail.example"])
        #expect(parsed.references == ["first@mail.example", "abc@mail.example"])
        #expect(parsed.text == "Hola José,\n.\n..starts with dots <b>not bold</b> = fine\n\nSaludos")
        #expect(OutgoingEmail.replySubject("RE: x") == "RE: x")
        let html = MIMEPart(parsing: rendered).parts.first { $0.contentType.type == "text/html" }
        #expect(html?.text.contains("&lt;b&gt;not bold&lt;/b&gt;") == true, "the HTML part escapes the text")
    }
}
