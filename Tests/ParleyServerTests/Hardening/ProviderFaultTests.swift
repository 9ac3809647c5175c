import Foundation
import Hummingbird
import ParleyChannels
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// Issue #14: every adapter under the faults a provider really shows — a timeout, a refused
/// connection, 5xx, 429 with Retry-After, and a success answer that is not what it should be.
/// The retry machinery is shared; reading each provider's answer is not, so each is tried.
@Suite("Hardening: provider faults on every adapter")
struct ProviderFaultTests {
    enum Fault: String, CaseIterable, Sendable {
        case serverError, rateLimited, timeout, refusedConnection, malformedSuccess
    }

    static let channels: [AttachmentInboundTests.Channel] = [.whatsapp, .messenger, .telegram, .line, .viber, .wechat, .sms]

    static func provider(_ channel: AttachmentInboundTests.Channel) -> ProviderSimulator.Provider {
        switch channel {
        case .whatsapp: return .whatsapp
        case .messenger, .instagram: return .messenger
        case .telegram: return .telegram
        case .line: return .line
        case .viber: return .viber
        case .wechat: return .wechat
        case .sms: return .twilio
        }
    }

    /// The outbox row of a message: attempts so far and when the next one is due (nil once concluded).
    static func outbox(_ api: APIHarness, _ messageId: Int64) async throws -> (attempts: Int64, next: Int64)? {
        try await api.services.database.read { db in
            guard let row = try await db.raw("SELECT attempts, next_attempt_at FROM outbox WHERE message_id = \(bind: messageId)").first() else { return nil }
            return (try row.decode(column: "attempts", as: Int64.self), try row.decode(column: "next_attempt_at", as: Int64.self))
        }
    }

    @Test(arguments: TestBackend.all, Fault.allCases)
    func eachAdapterReadsTheFaultAsItIs(backend: TestBackend, fault: Fault) async throws {
        try await APIHarness.run(backend, providerTimeout: .seconds(3)) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                for channel in Self.channels {
                    let (contact, channelId) = try await AttachmentOutboundTests.contact(on: channel, api: api, simulator: simulator)
                    let provider = Self.provider(channel)
                    switch fault {
                    case .serverError: simulator.inject(.status(503, retryAfter: nil), into: provider)
                    case .rateLimited: simulator.inject(.status(429, retryAfter: 7), into: provider)
                    case .timeout: simulator.inject(.hang(seconds: 6), into: provider)
                    case .malformedSuccess: simulator.inject(.reply(status: 200, body: "<html>maintenance</html>"), into: provider)
                    case .refusedConnection:
                        // Nothing listens on this port any more.
                        let closed = try await Self.closedPort()
                        _ = try await api.services.database.transaction { db in
                            try await db.raw("UPDATE channels SET api_base_url = \(bind: "http://127.0.0.1:\(closed)") WHERE id = \(bind: channelId)").run()
                        }
                    }
                    let sent = try await api.send(.post, "/api/v1/contacts/\(contact)/messages", json: ["channelId": channelId, "text": "Is it fixed?"])
                    #expect(sent.status == .created, "\(channel): \(sent.text)")
                    let messageId = try sentMessageId(sent)
                    let before = api.clock.now().epochMilliseconds
                    try await OutboxWorker(services: api.services).runOnce()
                    let state = try await api.messageState(messageId)
                    let row = try await Self.outbox(api, messageId)
                    switch fault {
                    case .serverError, .timeout, .refusedConnection:
                        // Transient: still pending, tried once, due again later.
                        #expect(state.status == "pending", "\(channel) \(fault): \(state)")
                        #expect(row?.attempts == 1 && (row?.next ?? 0) > before, "\(channel) \(fault): \(String(describing: row))")
                    case .rateLimited:
                        #expect(state.status == "pending", "\(channel) \(fault): \(state)")
                        #expect((row?.next ?? 0) - before >= 7_000, "\(channel): the provider's Retry-After is kept: \(String(describing: row))")
                    case .malformedSuccess:
                        if channel == .line {
                            // LINE's answer is its status: 200 is accepted, whatever the body says.
                            #expect(state.status == "sent", "\(state)")
                        } else {
                            // Never taken for delivered: no provider id was given.
                            #expect(state.status == "failed", "\(channel): \(state)")
                            #expect(state.providerId == nil, "\(channel): \(state)")
                        }
                    }
                }
            }
        }
    }

    /// A loopback port that was free a moment ago and has nothing listening.
    static func closedPort() async throws -> Int {
        let simulator = ProviderSimulator()
        let url = try await simulator.start()
        await simulator.stop()
        return Int(url.split(separator: ":").last ?? "") ?? 9
    }
}
