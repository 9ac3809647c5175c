import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// Issue #15 on the website chat: a visitor uploads a file and sends it; agents see it, the
/// visitor sees theirs and the agents' through signed links, and nobody else can send it.
@Suite("Attachments: website chat")
struct AttachmentWidgetTests {
    static func upload(_ site: WebchatSite, visitor: String, _ bytes: [UInt8], type: String, name: String) async throws -> Reply {
        let headers: HTTPFields = [HTTPField.Name("X-Parley-Visitor")!: visitor, HTTPField.Name("X-Parley-Host")!: WebchatSite.origin, .contentType: type]
        return try await site.api.client.execute(uri: "/widget/v1/attachments?fileName=\(name)", method: .post, headers: headers,
                                                 body: ByteBuffer(bytes: bytes)) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    @Test(arguments: TestBackend.all)
    func aVisitorSendsAFileAndSeesTheAgentsFile(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let site = try await WebchatSite.create(api)
            let visitor = try await site.visitor()
            let photo = AttachmentInboundTests.png("widget")
            let uploaded = try await Self.upload(site, visitor: visitor, photo, type: "image/png", name: "broken.png")
            #expect(uploaded.status == .created, "\(uploaded.text)")
            let fileId = try #require((uploaded.json["id"] as? NSNumber)?.int64Value)
            #expect((uploaded.json["url"] as? String)?.hasPrefix("/files/\(fileId)?expires=") == true)

            // Another visitor cannot send it; its owner can, without text.
            let stranger = try await site.visitor()
            #expect(try await site.write(stranger, "", extra: ["attachmentIds": [fileId]]).errorCode == "attachment_refused")
            let sent = try await site.write(visitor, "", extra: ["attachmentIds": [fileId]])
            #expect(sent.status == .created, "\(sent.text)")
            let shown = try #require((sent.json["attachments"] as? [[String: Any]])?.first)
            #expect(Array(try await APIHarness.send(api.client, .get, try #require(shown["url"] as? String)).body) == photo)
            #expect(try await site.write(visitor, "again", extra: ["attachmentIds": [fileId]]).errorCode == "attachment_refused", "sent once only")

            // The agents see it in the timeline; their reply with a PDF reaches the visitor's history with a link.
            let contact = try await site.contactId(of: visitor)
            let message = try #require(try await ChannelFidelityTests.timeline(api, contact).first)
            #expect((message["attachments"] as? [[String: Any]])?.first?["fileName"] as? String == "broken.png")
            let pdf = try AttachmentOutboundTests.uploadedId(try await AttachmentOutboundTests.upload(api, AttachmentInboundTests.pdf, type: "application/pdf", name: "label.pdf"))
            let reply = try await api.send(.post, "/api/v1/contacts/\(contact)/messages", json: ["channelId": site.channelId, "text": "Your label", "attachmentIds": [pdf]])
            #expect(reply.status == .created, "\(reply.text)")
            try await OutboxWorker(services: api.services).runOnce()
            let history = try await site.session(token: visitor)
            let agentFile = try #require((history.json["messages"] as? [[String: Any]])?.last?["attachments"] as? [[String: Any]])
            #expect(agentFile.first?["fileName"] as? String == "label.pdf")
            let link = try #require(agentFile.first?["url"] as? String)
            let served = try await APIHarness.send(api.client, .get, link)
            #expect(Array(served.body) == AttachmentInboundTests.pdf)
            #expect(served.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
        }
    }
}
