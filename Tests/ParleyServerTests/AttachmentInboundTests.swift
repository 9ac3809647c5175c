import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ParleyChannels
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import Testing

/// Issue #15: what customers send as files arrives whole on every channel, downloaded off the
/// webhook's path, and is served only to those who may read it.
@Suite("Attachments: inbound")
struct AttachmentInboundTests {
    /// A PNG as far as any sniffer can tell, with a payload that makes each file distinct.
    static func png(_ marker: String) -> [UInt8] {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array("IHDR-\(marker)-".utf8) + Array(repeating: 0x42, count: 512)
    }

    static let pdf: [UInt8] = Array("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".utf8)

    enum Channel: String, CaseIterable, Sendable {
        case whatsapp, messenger, instagram, telegram, line, viber, wechat, sms
    }

    /// Connects `channel`, hosts `bytes` on the simulator and delivers a signed webhook naming
    /// them; returns the sender's address.
    static func deliver(_ channel: Channel, bytes: [UInt8], contentType: String, api: APIHarness, simulator: ProviderSimulator) async throws -> String {
        let now = api.clock.now()
        switch channel {
        case .whatsapp:
            let id = try await MetaChannelTests.connectWhatsApp(api, simulator)
            let mediaId = simulator.hostMedia(bytes, contentType: contentType)
            let webhook = try ChannelFidelityTests.whatsapp([
                "contacts": [["profile": ["name": "Rosa"], "wa_id": "5215512345678"]],
                "messages": [["from": "5215512345678", "id": "wamid.IMG", "timestamp": String(Int(now.timeIntervalSince1970)), "type": "image",
                              "image": ["id": mediaId, "mime_type": contentType, "caption": "the broken lid"]]],
            ], simulator)
            #expect(try await api.webhook(id, webhook).status == .ok)
            return "5215512345678"
        case .messenger, .instagram:
            let token = channel == .messenger ? "PAGE-TOKEN" : "IG-TOKEN"
            simulator.acceptMetaToken(token, for: .messenger)
            let created = try await api.send(.post, "/api/v1/channels", json: [
                "type": channel.rawValue, "name": "Meta", "apiBaseUrl": simulator.baseURL,
                "credentials": ["pageAccessToken": token, "appSecret": MetaChannelTests.appSecret, "verifyToken": "v"],
            ])
            let id = try #require((created.json["id"] as? NSNumber)?.int64Value, "\(created.text)")
            let url = simulator.cdnURL(simulator.hostMedia(bytes, contentType: contentType))
            let event: [String: Any] = ["sender": ["id": "PSID-9"], "recipient": ["id": "PAGE"], "timestamp": Int64(now.timeIntervalSince1970 * 1000),
                                        "message": ["mid": "m_img", "attachments": [["type": "image", "payload": ["url": url]]]]]
            let object: [String: Any] = ["object": channel == .messenger ? "page" : "instagram", "entry": [["id": "PAGE", "time": 1, "messaging": [event]]]]
            let signed = simulator.metaSigned(body: Array(try JSONSerialization.data(withJSONObject: object)), appSecret: MetaChannelTests.appSecret)
            #expect(try await api.webhook(id, signed).status == .ok)
            return "PSID-9"
        case .telegram:
            let id = try await TelegramChannelTests.connect(api, simulator)
            let secret = try #require(simulator.telegramWebhook(token: TelegramChannelTests.token)).secret
            let fileId = simulator.hostMedia(bytes, contentType: contentType)
            let update = simulator.telegramMediaUpdate(chatId: 42, messageId: 7, kind: "photo", fileId: fileId, caption: "the broken lid",
                                                       firstName: "Ana", at: now, secret: secret)
            #expect(try await api.webhook(id, update).status == .ok)
            return "42"
        case .line:
            let id = try await LineChannelTests.connect(api, simulator)
            simulator.hostMedia(bytes, contentType: contentType, id: "5551234")
            let event = simulator.lineMediaInbound(userId: LineChannelTests.ana, messageId: "5551234", type: "image", at: now, channelSecret: LineChannelTests.secret)
            #expect(try await api.webhook(id, event).status == .ok)
            return LineChannelTests.ana
        case .viber:
            let id = try await ViberChannelTests.connect(api, simulator)
            let url = simulator.cdnURL(simulator.hostMedia(bytes, contentType: contentType))
            let signed = simulator.viberSigned([
                "event": "message", "timestamp": Int64(now.timeIntervalSince1970 * 1000), "message_token": 4_912_661_846_655_238_145,
                "sender": ["id": "viber-user-1", "name": "Ana"], "message": ["type": "picture", "text": "the broken lid", "media": url],
            ], authToken: ViberChannelTests.token)
            #expect(try await api.webhook(id, signed).status == .ok)
            return "viber-user-1"
        case .wechat:
            let id = try await WeChatChannelTests.connect(api, simulator)
            let mediaId = simulator.hostMedia(bytes, contentType: contentType)
            let inbound = simulator.wechatMediaInbound(openId: "oAna", type: "image", mediaId: mediaId, msgId: 77, at: now, token: WeChatChannelTests.token)
            #expect(try await WeChatChannelTests.webhook(api, id, inbound).status == .ok)
            return "oAna"
        case .sms:
            let id = try await TwilioChannelTests.connect(api, simulator)
            let mediaId = simulator.hostMedia(bytes, contentType: contentType)
            let url = simulator.twilioMediaURL(accountSid: TwilioChannelTests.accountSid, messageSid: "MM1", id: mediaId)
            let mms = simulator.twilioMMS(from: TwilioChannelTests.ana, to: TwilioChannelTests.number, sid: "MM1", body: "the broken lid",
                                          media: [(url, contentType)], url: TwilioChannelTests.url(id), authToken: TwilioChannelTests.authToken,
                                          accountSid: TwilioChannelTests.accountSid)
            #expect(try await api.webhook(id, mms).status == .ok)
            return TwilioChannelTests.ana
        }
    }

    /// The attachments of the contact's newest message.
    static func attachments(_ api: APIHarness, externalId: String) async throws -> [[String: Any]] {
        let contact = try await api.contact(externalId: externalId)
        let message = try #require(try await ChannelFidelityTests.timeline(api, contact).first)
        return message["attachments"] as? [[String: Any]] ?? []
    }

    static func get(_ api: APIHarness, _ uri: String, token: String? = nil) async throws -> Reply {
        try await APIHarness.send(api.client, .get, uri, token: token)
    }

    @Test(arguments: TestBackend.all, Channel.allCases)
    func aFileSentOnTheChannelIsDownloadedStoredAndServed(backend: TestBackend, channel: Channel) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let bytes = Self.png(channel.rawValue)
                let sender = try await Self.deliver(channel, bytes: bytes, contentType: "image/png", api: api, simulator: simulator)
                // The webhook only named the file: nothing was downloaded on its path.
                let pending = try #require(try await Self.attachments(api, externalId: sender).first)
                #expect(pending["status"] as? String == "pending")
                #expect(simulator.requests().allSatisfy { ProviderSimulator.downloadedId($0) == nil })

                #expect(try await MediaWorker(services: api.services).runOnce() == 1)
                let stored = try #require(try await Self.attachments(api, externalId: sender).first)
                #expect(stored["status"] as? String == "stored", "\(stored)")
                #expect(stored["kind"] as? String == "image")
                #expect(stored["contentType"] as? String == "image/png")
                #expect((stored["size"] as? NSNumber)?.intValue == bytes.count)
                let id = try #require((stored["id"] as? NSNumber)?.int64Value)
                let served = try await Self.get(api, "/api/v1/attachments/\(id)/content", token: api.ownerToken)
                #expect(served.status == .ok)
                #expect(Array(served.body) == bytes)
                #expect(served.headers[.contentType] == "image/png")
                #expect(served.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func anOversizedFileAndALyingTypeAreRefusedWithAReason(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                // Twilio delivers at most 5 MB.
                let large = Self.png("large") + Array(repeating: 0, count: 5 << 20)
                let sender = try await Self.deliver(.sms, bytes: large, contentType: "image/png", api: api, simulator: simulator)
                try await MediaWorker(services: api.services).runOnce()
                let refused = try #require(try await Self.attachments(api, externalId: sender).first)
                #expect(refused["status"] as? String == "failed")
                #expect((refused["failure"] as? String)?.contains("over the limit") == true, "\(refused)")

                // A "JPEG" that is a PDF is not kept as either.
                let liar = try await Self.deliver(.whatsapp, bytes: Self.pdf, contentType: "image/jpeg", api: api, simulator: simulator)
                try await MediaWorker(services: api.services).runOnce()
                let lie = try #require(try await Self.attachments(api, externalId: liar).first)
                #expect(lie["status"] as? String == "failed")
                #expect(lie["failure"] as? String == "the file was declared image/jpeg but its content is application/pdf")
                #expect(try await api.services.attachments.usage(workspaceId: 1) == 0)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func aDownloadCutShortByACrashIsFinishedAfterTheRestart(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let bytes = Self.png("crash")
                let sender = try await Self.deliver(.telegram, bytes: bytes, contentType: "image/png", api: api, simulator: simulator)
                // A worker claimed the download and the process died before it finished: the row
                // is left claimed, exactly as a SIGKILL leaves it.
                #expect(try await api.services.attachments.claim(limit: 10, now: api.clock.now()).count == 1)
                let restarted = MediaWorker(services: api.services)
                #expect(try await restarted.runOnce() == 0)
                #expect(try await Self.attachments(api, externalId: sender).first?["status"] as? String == "pending")
                // Once the dead worker's lease runs out, the restarted one finishes the download.
                api.clock.advance(by: AttachmentRepository.lease + 1)
                #expect(try await restarted.runOnce() == 1)
                let stored = try #require(try await Self.attachments(api, externalId: sender).first)
                #expect(stored["status"] as? String == "stored")
                let id = try #require((stored["id"] as? NSNumber)?.int64Value)
                #expect(Array(try await Self.get(api, "/api/v1/attachments/\(id)/content", token: api.ownerToken).body) == bytes)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func aProviderOutageIsRetriedLater(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let sender = try await Self.deliver(.messenger, bytes: Self.png("retry"), contentType: "image/png", api: api, simulator: simulator)
                simulator.inject(.status(503, retryAfter: nil), into: .messenger)
                try await MediaWorker(services: api.services).runOnce()
                #expect(try await Self.attachments(api, externalId: sender).first?["status"] as? String == "pending")
                api.clock.advance(by: 11)
                try await MediaWorker(services: api.services).runOnce()
                #expect(try await Self.attachments(api, externalId: sender).first?["status"] as? String == "stored")
            }
        }
    }
}
