import Foundation
import ParleyChannels
import ParleyCore
@testable import ParleyServer
import ParleyStore
import ParleyTestSupport
import Synchronization
import Testing

/// Issue #15 on email: the files of a customer's mail are kept with its message, and an agent's
/// file goes out as a MIME part.
@Suite("Attachments: email")
struct AttachmentEmailTests {
    @Test(arguments: TestBackend.all)
    func anEmailsFilesAreKeptAndAReplyCarriesOne(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            try await EmailIngestTests.withSupportChannel(api) { outbox, channelId, channel in
                let photo = AttachmentInboundTests.png("email")
                let mail = EmailIngestTests.mail([
                    "From: Dana <dana@customer.example>", "Subject: Broken lid", "Message-ID: <lid@customer.example>", "MIME-Version: 1.0",
                    "Content-Type: multipart/mixed; boundary=\"b1\"", "", "--b1", "Content-Type: text/plain; charset=utf-8", "", "See the photo.",
                    "--b1", "Content-Type: image/png; name=\"lid.png\"", "Content-Transfer-Encoding: base64", "Content-Disposition: attachment; filename=\"lid.png\"",
                    "", Data(photo).base64EncodedString(),
                    "--b1", "Content-Type: image/jpeg", "Content-Transfer-Encoding: base64", "Content-Disposition: attachment; filename=\"fake.jpg\"",
                    "", Data(AttachmentInboundTests.pdf).base64EncodedString(), "--b1--", "",
                ])
                guard case .stored(let messageId, true) = try await EmailIngest(services: api.services).ingest(mail, channel: channel) else {
                    Issue.record("not stored"); return
                }
                let message = try #require(try await api.services.timeline.messages(ids: [messageId], workspaceId: 1)[messageId])
                let files = try #require(message.attachments)
                #expect(files.map(\.fileName) == ["lid.png", "fake.jpg"])
                #expect(files.map(\.status) == [.stored, .failed])
                #expect(files[1].failure == "the file was declared image/jpeg but its content is application/pdf")
                let served = try await APIHarness.send(api.client, .get, try #require(files[0].url), token: api.ownerToken)
                #expect(Array(served.body) == photo)

                // The reply carries an uploaded PDF as a base64 MIME part, with the text as its body.
                let upload = try await AttachmentOutboundTests.upload(api, AttachmentInboundTests.pdf, type: "application/pdf", name: "invoice.pdf")
                let dana = try #require(try await api.services.email.contact(channelId: channelId, address: "dana@customer.example"))
                let sent = try await api.send(.post, "/api/v1/contacts/\(dana)/messages",
                                              json: ["channelId": channelId, "text": "Your invoice.", "attachmentIds": [try AttachmentOutboundTests.uploadedId(upload)]])
                #expect(sent.status == .created, "\(sent.text)")
                #expect(try await OutboxWorker(services: api.services).runOnce() == 1)
                let reply = ParsedEmail(try #require(outbox.received.withLock { $0.last }))
                #expect(reply.text == "Your invoice.")
                #expect(reply.attachments.map(\.filename) == ["invoice.pdf"])
                #expect(reply.attachments.first?.bytes == AttachmentInboundTests.pdf)
            }
        }
    }
}
