import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyChannels
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import Testing

/// Issue #15: agents send files, each provider gets them in its own shape, and files are read
/// only by those who may.
@Suite("Attachments: outbound and serving")
struct AttachmentOutboundTests {
    typealias Channel = AttachmentInboundTests.Channel
    static let publicBase = "https://parley.example.com"

    /// Uploads `bytes` as the owner (or `token`) and returns the answer.
    static func upload(_ api: APIHarness, _ bytes: [UInt8], type: String, name: String, token: String? = nil) async throws -> Reply {
        let headers: HTTPFields = [.authorization: "Bearer \(token ?? api.ownerToken)", .contentType: type]
        return try await api.client.execute(uri: "/api/v1/attachments?fileName=\(name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")", method: .post, headers: headers, body: ByteBuffer(bytes: bytes)) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }

    static func uploadedId(_ reply: Reply) throws -> Int64 {
        try #require((reply.json["id"] as? NSNumber)?.int64Value, "\(reply.status) \(reply.text)")
    }

    /// A contact who wrote on `channel` just now (both Parley's and the provider's window open).
    static func contact(on channel: Channel, api: APIHarness, simulator: ProviderSimulator) async throws -> (contact: Int64, channel: Int64) {
        let sender = try await AttachmentInboundTests.deliver(channel, bytes: AttachmentInboundTests.png("in"), contentType: "image/png", api: api, simulator: simulator)
        let provider: ProviderSimulator.Provider? = switch channel {
        case .whatsapp: .whatsapp
        case .messenger, .instagram: .messenger
        case .viber: .viber
        default: nil
        }
        if let provider { simulator.contactWrote(provider, recipient: sender, at: api.clock.now()) }
        let contact = try await api.contact(externalId: sender)
        let detail = try await api.send(.get, "/api/v1/contacts/\(contact)")
        let identities = detail.json["identities"] as? [[String: Any]] ?? []
        let channelIds = identities.compactMap { ($0["channelId"] as? NSNumber)?.int64Value }
        let channelId = try #require(channelIds.first)
        return (contact, channelId)
    }

    /// The signed link a provider got, fetched as the provider would (without any token).
    static func fetchLink(_ api: APIHarness, _ url: String?) async throws -> Reply {
        let link = try #require(url)
        #expect(link.hasPrefix(publicBase + "/files/"), "\(link)")
        return try await APIHarness.send(api.client, .get, String(link.dropFirst(publicBase.count)))
    }

    @Test(arguments: TestBackend.all, Channel.allCases)
    func aFileReachesTheProviderInItsShape(backend: TestBackend, channel: Channel) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let (contact, channelId) = try await Self.contact(on: channel, api: api, simulator: simulator)
                let bytes = AttachmentInboundTests.png("out-\(channel.rawValue)")
                let file = try Self.uploadedId(try await Self.upload(api, bytes, type: "image/png", name: "label.png"))
                let captioned = AttachmentLimits.takesCaption(channel: channel == .sms ? .sms : ChannelKind(rawValue: channel.rawValue) ?? .sms, kind: .image)
                var body: [String: Any] = ["channelId": channelId, "attachmentIds": [file]]
                if captioned { body["text"] = "Here is the label" }
                let sent = try await api.send(.post, "/api/v1/contacts/\(contact)/messages", json: body)
                #expect(sent.status == .created, "\(sent.text)")
                let message = try #require(sent.json["message"] as? [String: Any])
                #expect((message["attachments"] as? [[String: Any]])?.first?["id"] as? NSNumber == NSNumber(value: file))
                try await OutboxWorker(services: api.services).runOnce()
                let messageId = try #require((message["id"] as? NSNumber)?.int64Value)
                let state = try await api.messageState(messageId)
                #expect(state.status == "sent", "\(state)")

                switch channel {
                case .whatsapp:
                    let wire = try #require(simulator.requests(.whatsapp).last { $0.path.hasSuffix("/messages") }).json
                    #expect(wire["type"] as? String == "image")
                    let image = wire["image"] as? [String: Any]
                    #expect(image?["caption"] as? String == "Here is the label")
                    #expect(Array(try await Self.fetchLink(api, image?["link"] as? String).body) == bytes)
                case .messenger, .instagram:
                    let wire = try #require(simulator.requests(.messenger).last { $0.path.hasSuffix("/me/messages") }).json
                    let attachment = (wire["message"] as? [String: Any])?["attachment"] as? [String: Any]
                    #expect(attachment?["type"] as? String == "image")
                    #expect(Array(try await Self.fetchLink(api, (attachment?["payload"] as? [String: Any])?["url"] as? String).body) == bytes)
                case .telegram:
                    let wire = try #require(simulator.requests(.telegram).last { $0.path.hasSuffix("/sendPhoto") })
                    let parts = ProviderSimulator.multipart(wire.body, contentType: wire.headers["content-type"])
                    #expect(parts.first { $0.name == "photo" }?.bytes == bytes)
                    #expect(parts.first { $0.name == "caption" }.map { String(decoding: $0.bytes, as: UTF8.self) } == "Here is the label")
                    #expect(parts.first { $0.name == "chat_id" }.map { String(decoding: $0.bytes, as: UTF8.self) } == "42")
                case .line:
                    let wire = try #require(simulator.requests(.line).last { $0.path == "/v2/bot/message/push" }).json
                    let first = (wire["messages"] as? [[String: Any]])?.first
                    #expect(first?["type"] as? String == "image")
                    #expect(Array(try await Self.fetchLink(api, first?["originalContentUrl"] as? String).body) == bytes)
                case .viber:
                    let wire = try #require(simulator.requests(.viber).last { $0.path == "/pa/send_message" }).json
                    #expect(wire["type"] as? String == "picture")
                    #expect(wire["text"] as? String == "Here is the label")
                    #expect(Array(try await Self.fetchLink(api, wire["media"] as? String).body) == bytes)
                case .wechat:
                    let upload = try #require(simulator.requests(.wechat).last { $0.path == "/cgi-bin/media/upload" })
                    #expect(upload.query["type"] == "image")
                    #expect(ProviderSimulator.multipart(upload.body, contentType: upload.headers["content-type"]).first { $0.name == "media" }?.bytes == bytes)
                    let wire = try #require(simulator.requests(.wechat).last { $0.path == "/cgi-bin/message/custom/send" }).json
                    #expect(wire["msgtype"] as? String == "image")
                    #expect(((wire["image"] as? [String: Any])?["media_id"] as? String).map { simulator.downloads(of: $0) } == 0)
                case .sms:
                    let wire = try #require(simulator.requests(.twilio).last { $0.path.hasSuffix("/Messages.json") })
                    let fields = Dictionary(String(decoding: wire.body, as: UTF8.self).split(separator: "&").map { pair -> (String, String) in
                        let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
                        return (parts[0], parts.count > 1 ? parts[1] : "")
                    }, uniquingKeysWith: { first, _ in first })
                    #expect(fields["Body"] == "Here is the label")
                    #expect(Array(try await Self.fetchLink(api, fields["MediaUrl"]).body) == bytes)
                }
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func whatAChannelCannotTakeIsRefusedBeforeAnythingIsStored(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let (contact, channelId) = try await Self.contact(on: .instagram, api: api, simulator: simulator)
                let pdf = try Self.uploadedId(try await Self.upload(api, AttachmentInboundTests.pdf, type: "application/pdf", name: "invoice.pdf"))
                let image = try Self.uploadedId(try await Self.upload(api, AttachmentInboundTests.png("x"), type: "image/png", name: "x.png"))
                let messages = try await api.count("messages")

                let document = try await api.send(.post, "/api/v1/contacts/\(contact)/messages", json: ["channelId": channelId, "attachmentIds": [pdf]])
                #expect(document.status == .unprocessableContent)
                #expect(document.errorCode == "attachment_refused")
                #expect((document.json["error"] as? [String: Any])?["message"] as? String == "instagram cannot send a document (it takes: image, audio, video)")
                let captioned = try await api.send(.post, "/api/v1/contacts/\(contact)/messages",
                                                   json: ["channelId": channelId, "attachmentIds": [image], "text": "look"])
                #expect(captioned.status == .unprocessableContent)
                // Someone else's upload cannot be sent by another agent.
                let agent = try await api.user(.agent)
                let stolen = try await api.send(.post, "/api/v1/contacts/\(contact)/messages", token: agent.token,
                                                json: ["channelId": channelId, "attachmentIds": [image]])
                #expect(stolen.status == .unprocessableContent)
                #expect(try await api.count("messages") == messages)
                #expect(try await api.count("outbox") == 0)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func filesAreReadOnlyByTheWorkspaceOrThroughAValidLink(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let id = try Self.uploadedId(try await Self.upload(api, AttachmentInboundTests.pdf, type: "application/pdf", name: "in\"voice\r\n.pdf"))
            let content = try await APIHarness.send(api.client, .get, "/api/v1/attachments/\(id)/content", token: api.ownerToken)
            #expect(content.status == .ok)
            // The name keeps no quote or line break that could end the header early.
            #expect(content.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"invoice.pdf\"") == true, "\(content.headers)")
            #expect(content.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")

            // Another workspace's user finds nothing.
            let hash = try await api.services.passwords.hash("stranger-password")
            let other = try await api.services.workspaces.createWithOwner(name: "Elsewhere", ownerEmail: "stranger@example.com", ownerName: "Stranger",
                                                                          ownerPasswordHash: hash, at: api.clock.now())
            let stranger = try await api.services.tokens.issue(workspaceId: other.workspace.id, userId: other.owner.id, kind: .session,
                                                               name: "test", expiresAt: nil, at: api.clock.now()).token
            #expect(try await APIHarness.send(api.client, .get, "/api/v1/attachments/\(id)/content", token: stranger).status == .notFound)
            #expect(try await APIHarness.send(api.client, .get, "/api/v1/attachments/\(id)", token: stranger).status == .notFound)

            // A signed link works without a token until it expires, and only as signed.
            let detail = try await api.send(.get, "/api/v1/attachments/\(id)")
            let link = try #require(detail.json["signedUrl"] as? String)
            #expect(Array(try await APIHarness.send(api.client, .get, link).body) == AttachmentInboundTests.pdf)
            let forged = link.replacingOccurrences(of: "signature=", with: "signature=0")
            #expect(try await APIHarness.send(api.client, .get, forged).errorCode == "invalid_signature")
            api.clock.advance(by: 3601)
            let expired = try await APIHarness.send(api.client, .get, link)
            #expect(expired.status == .forbidden)
            #expect(expired.errorCode == "link_expired")
        }
    }

    @Test(arguments: TestBackend.all)
    func anUploadThatLiesOrIsTooLargeIsRefused(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let lie = try await Self.upload(api, AttachmentInboundTests.pdf, type: "image/png", name: "cat.png")
            #expect(lie.status == .unprocessableContent)
            #expect(lie.errorCode == "content_type_mismatch")
            let large = try await Self.upload(api, AttachmentInboundTests.png("big") + Array(repeating: 1, count: Int(AttachmentLimits.serverMaximum)),
                                              type: "image/png", name: "big.png")
            #expect(large.status == .contentTooLarge)
            // An HTML page declared as nothing in particular is kept as plain text, never as HTML.
            let page = try await Self.upload(api, Array("<script>alert(1)</script>".utf8), type: "text/html", name: "page.html")
            #expect(page.json["contentType"] as? String == "text/plain")
            #expect(try await api.count("attachments") == 1)
        }
    }
}

/// WhatsApp past its 24 hours: a template whose header is the agent's image.
@Suite("Attachments: template headers")
struct AttachmentTemplateTests {
    @Test(arguments: TestBackend.all)
    func aWhatsAppTemplateCarriesAnImageHeaderOutsideTheWindow(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let (contact, channelId) = try await AttachmentOutboundTests.contact(on: .whatsapp, api: api, simulator: simulator)
                simulator.addWhatsAppTemplate(waba: "WABA1", name: "order_photo", language: "en_US", body: "Your order {{1}}")
                _ = try await api.send(.post, "/api/v1/channels/\(channelId)/templates/sync")
                api.clock.advance(by: 25 * 3600)
                let image = try AttachmentOutboundTests.uploadedId(try await AttachmentOutboundTests.upload(api, AttachmentInboundTests.png("header"), type: "image/png", name: "order.png"))
                let text = try await api.send(.post, "/api/v1/contacts/\(contact)/messages", json: ["channelId": channelId, "attachmentIds": [image]])
                #expect(text.status == .conflict, "a bare file is free content: refused past the 24 hours")
                let sent = try await api.send(.post, "/api/v1/contacts/\(contact)/messages", json: [
                    "channelId": channelId, "attachmentIds": [image],
                    "template": ["name": "order_photo", "language": "en_US", "parameters": ["#1042"]],
                ])
                #expect(sent.status == .created, "\(sent.text)")
                try await OutboxWorker(services: api.services).runOnce()
                let wire = try #require(simulator.requests(.whatsapp).last { $0.path.hasSuffix("/messages") }).json
                let components = (wire["template"] as? [String: Any])?["components"] as? [[String: Any]] ?? []
                #expect(components.map { $0["type"] as? String } == ["header", "body"])
                let header = (components.first?["parameters"] as? [[String: Any]])?.first
                #expect(header?["type"] as? String == "image")
                #expect(((header?["image"] as? [String: Any])?["link"] as? String)?.hasPrefix("https://parley.example.com/files/") == true)
            }
        }
    }
}
