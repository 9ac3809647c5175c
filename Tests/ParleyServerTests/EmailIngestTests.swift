import Foundation
import ParleyChannels
import ParleyCore
@testable import ParleyServer
import ParleyStore
import ParleyTestSupport
import Synchronization
import Testing

@Suite("Email: threads, automatic mail, bounces and mailbox leases")
struct EmailIngestTests {
    static func mail(_ lines: [String]) -> [UInt8] { Array(lines.joined(separator: "\r\n").utf8) }

    /// An SMTP server in this process standing in for the mailbox's submission server.
    final class Outbox: Sendable {
        let received = Mutex<[[UInt8]]>([])
    }

    /// An email channel "Support" whose submission server is `Outbox`, in this process.
    static func withSupportChannel(_ api: APIHarness, _ body: (Outbox, Int64, ChannelRepository.ProviderConfig) async throws -> Void) async throws {
        let outbox = Outbox()
        let (ports, signal) = AsyncStream.makeStream(of: Int.self)
        let server = SMTPServer(host: "127.0.0.1", port: 0, accepts: { _ in true }, deliver: { _, _, message in
            outbox.received.withLock { $0.append(message) }
        })
        let listening = Task { try await server.run(onListening: { signal.yield($0) }) }
        defer { listening.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let created = try await api.send(.post, "/api/v1/channels", json: [
            "type": "email", "name": "Support", "verifyCredentials": false,
            "credentials": ["fromAddress": "support@shop.example", "smtpHost": "127.0.0.1", "smtpPort": "\(port)", "smtpSecurity": "none"],
        ])
        #expect(created.status == .created, "\(created.text)")
        let channelId = try #require((created.json["id"] as? NSNumber)?.int64Value)
        try await body(outbox, channelId, try #require(try await api.services.channels.providerConfig(channelId: channelId)))
    }

    @Test(arguments: TestBackend.all)
    func repliesThreadAndMailInTheThreadFindsItsContact(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            try await Self.withSupportChannel(api) { outbox, channelId, channel in
                let ingest = EmailIngest(services: api.services)

                let first = Self.mail(["From: Dana <dana@customer.example>", "Subject: Order 77", "Message-ID: <d1@customer.example>", "", "Any news?"])
                guard case .stored(let messageId, true) = try await ingest.ingest(first, channel: channel) else { Issue.record("not stored"); return }
                #expect(try await ingest.ingest(first, channel: channel) == .stored(messageId: messageId, new: false), "a second delivery is a no-op")
                let dana = try #require(try await api.services.email.contact(channelId: channelId, address: "dana@customer.example"))
                #expect(try await api.send(.get, "/api/v1/contacts/\(dana)").json["email"] as? String == "dana@customer.example")

                let sent = try await api.send(.post, "/api/v1/contacts/\(dana)/messages", json: ["channelId": channelId, "text": "It ships today."])
                let replyId = try sentMessageId(sent)
                #expect(try await OutboxWorker(services: api.services).runOnce() == 1)
                let state = try await api.messageState(replyId)
                #expect(state.status == "sent")
                #expect(state.providerId == "parley.\(channelId).\(replyId)@shop.example")
                let reply = ParsedEmail(try #require(outbox.received.withLock { $0.last }))
                #expect(reply.subject == "Re: Order 77")
                #expect(reply.inReplyTo == ["d1@customer.example"])
                #expect(reply.text == "It ships today.")

                // The agent may give a subject of their own; one line, and on email only.
                let titled = try await api.send(.post, "/api/v1/contacts/\(dana)/messages", json: ["channelId": channelId, "text": "Refund done.",
                                                                                                   "subject": "Your refund"])
                #expect(titled.status == .created, "\(titled.text)")
                #expect(try await OutboxWorker(services: api.services).runOnce() == 1)
                #expect(ParsedEmail(try #require(outbox.received.withLock { $0.last })).subject == "Your refund")
                let twoLines = try await api.send(.post, "/api/v1/contacts/\(dana)/messages", json: ["channelId": channelId, "text": "x", "subject": "a\nb"])
                #expect(twoLines.errorField == "subject")
                let webchat = try await api.send(.post, "/api/v1/channels", json: ["type": "webchat", "name": "Chat"])
                let webchatId = try #require((webchat.json["id"] as? NSNumber)?.int64Value)
                let notEmail = try await api.send(.post, "/api/v1/contacts/\(dana)/messages", json: ["channelId": webchatId, "text": "x", "subject": "Hi"])
                #expect(notEmail.errorField == "subject")

                // A colleague answers our message from another address: Dana's thread.
                _ = try await ingest.ingest(Self.mail(["From: ops@customer.example", "Subject: Re: Order 77", "Message-ID: <o1@customer.example>",
                                                       "In-Reply-To: <\(try #require(state.providerId))>", "", "Thanks"]), channel: channel)
                #expect(try await api.services.email.contact(channelId: channelId, address: "ops@customer.example") == dana)

                // Closed, an auto-reply leaves it closed; a bounce fails our message.
                #expect(try await api.send(.post, "/api/v1/contacts/\(dana)/conversation/close", json: [:]).status == .ok)
                _ = try await ingest.ingest(Self.mail(["From: dana@customer.example", "Auto-Submitted: auto-replied", "Message-ID: <a1@customer.example>",
                                                       "", "Away"]), channel: channel)
                #expect(try await api.send(.get, "/api/v1/contacts/\(dana)/conversation").json["status"] as? String == "closed")
                let bounce = try await ingest.ingest(Self.mail([
                    "From: MAILER-DAEMON@mx.example", "Content-Type: multipart/report; report-type=delivery-status; boundary=r", "", "",
                    "--r", "Content-Type: message/delivery-status", "", "Status: 5.1.1", "Diagnostic-Code: smtp; 550 no such user",
                    "--r", "Content-Type: text/rfc822-headers", "", "Message-ID: <\(try #require(state.providerId))>", "--r--",
                ]), channel: channel)
                #expect(bounce == .bounce(updated: true))
                let failed = try await api.messageState(replyId)
                #expect(failed.status == "failed")
                #expect(failed.reason == "invalid_recipient")
                #expect(try await api.services.email.contact(channelId: channelId, address: "mailer-daemon@mx.example") == nil)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func oneInstanceAtATimeReadsAMailbox(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            let created = try await api.send(.post, "/api/v1/channels", json: [
                "type": "email", "name": "Support", "verifyCredentials": false,
                "credentials": ["fromAddress": "support@shop.example", "smtpHost": "127.0.0.1", "imapHost": "127.0.0.1"],
            ])
            let channelId = try #require((created.json["id"] as? NSNumber)?.int64Value)
            let email = api.services.email
            let now = api.clock.now()
            let claimed = try await email.claimMailbox(channelId: channelId, lease: 60, at: now)
            #expect(claimed == .init(uidValidity: nil, lastUID: 0))
            #expect(try await email.claimMailbox(channelId: channelId, lease: 60, at: now) == nil, "held by the first")
            try await email.advanceMailbox(channelId: channelId, to: .init(uidValidity: 7, lastUID: 42), at: now)
            try await email.releaseMailbox(channelId: channelId, error: nil, at: now)
            #expect(try await email.claimMailbox(channelId: channelId, lease: 60, at: now) == .init(uidValidity: 7, lastUID: 42))
            // A lease left by a crashed instance ends by itself.
            #expect(try await email.claimMailbox(channelId: channelId, lease: 60, at: now.addingTimeInterval(61)) != nil)
            #expect(try await email.channelIds() == [channelId])
        }
    }
}
