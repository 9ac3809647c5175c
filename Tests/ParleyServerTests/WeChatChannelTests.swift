import Foundation
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

/// WeChat Official Account end to end against the simulator over loopback HTTP.
@Suite("WeChat channel")
struct WeChatChannelTests {
    static let appId = "wx5823bf96d3bd56c7"
    static let secret = "e3b0c44298fc1c149afbf4c8996fb924"
    static let token = "parley-wechat-token"
    static let day: TimeInterval = 86_400

    /// Connects a WeChat channel through the API against a running simulator.
    static func connect(_ api: APIHarness, _ simulator: ProviderSimulator) async throws -> Int64 {
        simulator.acceptWeChatApp(appId: appId, secret: secret)
        let created = try await api.send(.post, "/api/v1/channels", json: [
            "type": "wechat", "name": "WeChat OA", "credentials": ["appId": appId, "appSecret": secret, "token": token],
            "apiBaseUrl": simulator.baseURL,
        ])
        #expect(created.status == .created, "\(created.text)")
        return try #require((created.json["id"] as? NSNumber)?.int64Value)
    }


    /// Delivers a WeChat webhook: the XML body, with the signature in the query string.
    static func webhook(_ api: APIHarness, _ channelId: Int64, _ signed: (body: [UInt8], query: String),
                        method: HTTPRequest.Method = .post) async throws -> Reply {
        let uri = signed.query.isEmpty ? "/webhooks/\(channelId)" : "/webhooks/\(channelId)?\(signed.query)"
        return try await api.client.execute(uri: uri, method: method, headers: [.contentType: "text/xml"],
                                            body: method == .post ? ByteBuffer(bytes: signed.body) : nil) { response in
            Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        }
    }



    static func sends(_ simulator: ProviderSimulator) -> [ProviderSimulator.Recorded] {
        simulator.requests(.wechat).filter { $0.path == "/cgi-bin/message/custom/send" }
    }

    static func tokenFetches(_ simulator: ProviderSimulator) -> Int {
        simulator.requests(.wechat).filter { $0.path == "/cgi-bin/token" }.count
    }

    @Test(arguments: TestBackend.all)
    func connectingChecksTheAppCredentialsAndTheHandshakeEchoes(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                simulator.acceptWeChatApp(appId: Self.appId, secret: Self.secret)
                let refused = try await api.send(.post, "/api/v1/channels", json: [
                    "type": "wechat", "name": "WeChat", "credentials": ["appId": Self.appId, "appSecret": "wrong", "token": Self.token],
                    "apiBaseUrl": simulator.baseURL,
                ])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.errorCode == "connect_failed")
                #expect(try await api.count("channels") == 0)

                let id = try await Self.connect(api, simulator)
                let fetch = try #require(simulator.requests(.wechat).last)
                #expect(fetch.method == "GET" && fetch.path == "/cgi-bin/token")
                #expect(fetch.query == ["grant_type": "client_credential", "appid": Self.appId, "secret": Self.secret])

                // WeChat's server check: echo `echostr` only when the signature is right.
                let signed = simulator.wechatSignedQuery(token: Self.token, at: api.clock.now(), echostr: "8811447015366361932")
                let echoed = try await Self.webhook(api, id, ([], signed), method: .get)
                #expect(echoed.status == .ok)
                #expect(echoed.text == "8811447015366361932")
                #expect(echoed.headers[.contentType]?.hasPrefix("text/plain") == true)
                let forged = simulator.wechatSignedQuery(token: "guess", at: api.clock.now(), echostr: "8811447015366361932")
                #expect(try await Self.webhook(api, id, ([], forged), method: .get).status == .forbidden)
                #expect(try await Self.webhook(api, id, ([], "echostr=1"), method: .get).status == .forbidden)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func forgedWebhooksAreRefusedAndReplaysIgnored(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                let at = api.clock.now().addingTimeInterval(-5)
                let forged = simulator.wechatInbound(openId: "oAna", text: "hi", msgId: 1, at: at, token: "guess")
                #expect(try await Self.webhook(api, id, forged).status == .unauthorized)
                #expect(try await Self.webhook(api, id, (forged.body, "")).status == .unauthorized)
                #expect(try await api.count("messages") == 0)
                #expect(try await api.count("contacts") == 0)

                let inbound = simulator.wechatInbound(openId: "oAna", text: "你好 <&> ]]> end", msgId: 6_054_768_590_064_713_728, at: at, token: Self.token)
                let first = try await Self.webhook(api, id, inbound)
                #expect(first.status == .ok)
                #expect(first.text == "success")
                #expect(first.headers[.contentType]?.hasPrefix("text/plain") == true)
                #expect(try await Self.webhook(api, id, inbound).status == .ok)
                #expect(try await api.count("messages") == 1)
                let inbox = try await api.send(.get, "/api/v1/conversations")
                #expect(inbox.items.count == 1)
                let contact = try #require(try await api.services.contacts.list(workspaceId: 1, query: nil, beforeId: nil, limit: 5).first)
                #expect(contact.identities.first?.externalId == "oAna")
                #expect(contact.identities.first?.lastInboundAt == Date(timeIntervalSince1970: floor(at.timeIntervalSince1970)))
                // CDATA, split around a literal "]]>", comes back as the text the user wrote.
                let timeline = try await api.send(.get, "/api/v1/contacts/\(contact.id)/timeline")
                let texts = timeline.items.compactMap { ($0["message"] as? [String: Any])?["text"] as? String }
                #expect(texts == ["你好 <&> ]]> end"])

                // Events are acknowledged and store nothing; malformed XML is refused.
                #expect(try await Self.webhook(api, id, simulator.wechatEvent(openId: "oBob", event: "subscribe", at: at, token: Self.token)).status == .ok)
                let query = simulator.wechatSignedQuery(token: Self.token, at: at)
                for body in ["<xml><MsgType>text</MsgType>", "<!DOCTYPE xml [<!ENTITY a \"b\">]><xml/>", "not xml", "<xml><A>1</B></xml>"] {
                    #expect(try await Self.webhook(api, id, (Array(body.utf8), query)).status == .badRequest, "\(body)")
                }
                #expect(try await api.count("messages") == 1)
                #expect(try await api.count("contacts") == 1)
            }
        }
    }

    /// The XML reader on its own: WeChat's layout variations are read, anything malformed is refused.
    @Test
    func xmlBodiesAreReadStrictly() throws {
        let adapter = WeChatAdapter()
        let channel = ChannelConfig(id: 1, workspaceId: 1, kind: .wechat, credentials: [:], apiBaseURL: nil, webhookSecret: "", webhookURL: "")
        func parse(_ xml: String) throws -> [InboundEvent] {
            try adapter.parse(WebhookRequest(method: "POST", url: "", query: [:], headers: [:], body: Array(xml.utf8)), channel: channel)
        }
        // A declaration, line breaks, plain (non-CDATA) values with entities, a comment.
        let plain = try parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <xml>
              <ToUserName>gh_1</ToUserName>
              <FromUserName>oAna</FromUserName><!-- sender -->
              <CreateTime> 1700000000 </CreateTime>
              <MsgType>text</MsgType>
              <Content>a &lt; b &amp;&#x4F60;&#22909;</Content>
              <MsgId>42</MsgId>
            </xml>
            """)
        #expect(plain == [.message(InboundMessageEvent(externalId: "oAna", displayName: nil, providerMessageId: "42",
                                                       timestamp: Date(timeIntervalSince1970: 1_700_000_000), content: .text("a < b &你好")))])
        let image = try parse("<xml><FromUserName><![CDATA[oAna]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x]]></PicUrl><MsgId>43</MsgId></xml>")
        #expect(image == [.message(InboundMessageEvent(externalId: "oAna", displayName: nil, providerMessageId: "43", timestamp: Date(timeIntervalSince1970: 1),
                                                       content: InboundContent(kind: "image", text: "[image]", details: ["url": "http://x"])))])
        #expect(try parse("<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[menu]]></EventKey></xml>").isEmpty)

        let deep = String(repeating: "<a>", count: 50) + String(repeating: "</a>", count: 50)
        for malformed in [
            "<xml><MsgType>text</MsgType><MsgType>event</MsgType></xml>", // a repeated field
            "<xml><Content><![CDATA[never closed</Content></xml>",
            "<xml>\(deep)</xml>",
            "<xml><Content>&bogus;</Content><MsgType>text</MsgType></xml>",
            "<root><MsgType>text</MsgType></root>",
            "<xml><MsgType>text</MsgType></xml><xml/>",
            "<xml><MsgType>text</MsgType><FromUserName>oAna</FromUserName><CreateTime>x</CreateTime><MsgId>1</MsgId></xml>",
            "",
        ] {
            do {
                _ = try parse(malformed)
                Issue.record("accepted malformed XML: \(malformed.prefix(60))")
            } catch {
                #expect(error is ParleyChannels.ChannelError, "\(malformed.prefix(60))")
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func outboundWireShapeAndTokenRefreshAfterExpiry(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                _ = try await Self.webhook(api, id, simulator.wechatInbound(openId: "oAna", text: "hi", msgId: 10, at: api.clock.now(), token: Self.token))
                let ana = try await api.contact(externalId: "oAna")
                let worker = OutboxWorker(services: api.services)

                let messageId = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "¿En qué te ayudo?"]))
                #expect(try await worker.runOnce() == 1)
                let request = try #require(Self.sends(simulator).last)
                #expect(request.method == "POST")
                #expect(request.query["access_token"]?.hasPrefix("SIMTOKEN-") == true)
                #expect(request.json["touser"] as? String == "oAna")
                #expect(request.json["msgtype"] as? String == "text")
                #expect((request.json["text"] as? [String: Any])?["content"] as? String == "¿En qué te ayudo?")
                #expect(try await api.messageState(messageId).status == "sent")
                #expect(try await api.messageState(messageId).providerId == "wechat-\(messageId)")
                // The token fetched when connecting is reused.
                #expect(Self.tokenFetches(simulator) == 1)

                // WeChat stops accepting the token: 40001, one new token, one resend, sent.
                simulator.expireWeChatTokens()
                let afterExpiry = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "After expiry"]))
                #expect(try await worker.runOnce() == 1)
                #expect(try await api.messageState(afterExpiry).status == "sent")
                #expect(Self.tokenFetches(simulator) == 2)
                let attempts = Self.sends(simulator).filter { ($0.json["text"] as? [String: Any])?["content"] as? String == "After expiry" }
                #expect(attempts.count == 2)
                #expect(attempts.first?.query["access_token"] != attempts.last?.query["access_token"])

                // The new token is cached: the next message needs no fetch.
                let third = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Third"]))
                try await worker.runOnce()
                #expect(try await api.messageState(third).status == "sent")
                #expect(Self.tokenFetches(simulator) == 2)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func providerWindowAndCountErrorsMapToReasons(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                for (openId, msgId) in [("oLate", Int64(20)), ("oBusy", 21), ("oGone", 22)] {
                    _ = try await Self.webhook(api, id, simulator.wechatInbound(openId: openId, text: "hi", msgId: msgId, at: api.clock.now(), token: Self.token))
                }
                let worker = OutboxWorker(services: api.services)

                // Parley's window is open, but WeChat's record says the user wrote three days ago: 45015.
                simulator.contactWrote(.wechat, recipient: "oLate", at: api.clock.now().addingTimeInterval(-3 * Self.day))
                let late = try sentMessageId(try await api.send(try await api.contact(externalId: "oLate"), ["channelId": id, "text": "Late"]))
                try await worker.runOnce()
                #expect(try await api.messageState(late).status == "failed")
                #expect(try await api.messageState(late).reason == "outside_window")

                // Parley counted nothing yet, but WeChat already counts 20 replies in this window: 45047.
                simulator.setWeChatMessageCount(20, openId: "oBusy")
                let busy = try sentMessageId(try await api.send(try await api.contact(externalId: "oBusy"), ["channelId": id, "text": "One more"]))
                try await worker.runOnce()
                #expect(try await api.messageState(busy).status == "failed")
                #expect(try await api.messageState(busy).reason == "message_limit")

                let gone = try await api.contact(externalId: "oGone")
                for (code, reason) in [(43004, "blocked"), (40003, "invalid_recipient"), (48002, "provider_error")] {
                    simulator.failNextWeChatSends(errcode: code)
                    let message = try sentMessageId(try await api.send(gone, ["channelId": id, "text": "Code \(code)"]))
                    try await worker.runOnce()
                    #expect(try await api.messageState(message).status == "failed", "errcode \(code)")
                    #expect(try await api.messageState(message).reason == reason, "errcode \(code)")
                }
                #expect(try await api.services.outbox.pendingCount() == 0)

                // Outside Parley's own 48 hours the message is recorded undelivered and never sent.
                let written = simulator.wechatInbound(openId: "oOld", text: "hi", msgId: 23, at: api.clock.now().addingTimeInterval(-3 * Self.day), token: Self.token)
                // Delivered now (a stale signature is refused), about a message written three days ago.
                _ = try await Self.webhook(api, id, (written.body, simulator.wechatSignedQuery(token: Self.token, at: api.clock.now())))
                let sendsBefore = Self.sends(simulator).count
                let old = try sentMessageId(try await api.send(try await api.contact(externalId: "oOld"), ["channelId": id, "text": "Too late"]))
                #expect(try await worker.runOnce() == 0)
                #expect(try await api.messageState(old).status == "undelivered")
                #expect(Self.sends(simulator).count == sendsBefore)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func transientFailuresAreRetriedLater(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let id = try await Self.connect(api, simulator)
                _ = try await Self.webhook(api, id, simulator.wechatInbound(openId: "oAna", text: "hi", msgId: 30, at: api.clock.now(), token: Self.token))
                let ana = try await api.contact(externalId: "oAna")
                let worker = OutboxWorker(services: api.services)

                // HTTP 502, then "system busy" (-1) and the rate limit (45009) in HTTP 200 answers.
                simulator.inject(.status(502, retryAfter: nil), into: .wechat)
                simulator.failNextWeChatSends(errcode: -1)
                simulator.failNextWeChatSends(errcode: 45009)
                let message = try sentMessageId(try await api.send(ana, ["channelId": id, "text": "Eventually"]))
                for wait in [2.5, 4.5, 8.5] {
                    try await worker.runOnce()
                    #expect(try await api.messageState(message).status == "pending")
                    #expect(try await worker.runOnce() == 0)
                    api.clock.advance(by: wait)
                }
                #expect(try await worker.runOnce() == 1)
                #expect(try await api.messageState(message).status == "sent")
                #expect(Self.sends(simulator).filter { ($0.json["text"] as? [String: Any])?["content"] as? String == "Eventually" }.count == 4)
                #expect(Self.tokenFetches(simulator) == 1)
            }
        }
    }
}
