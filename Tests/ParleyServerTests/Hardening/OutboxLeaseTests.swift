import Foundation
import ParleyServer
import ParleyStore
import ParleySimulator
import ParleyTestSupport
import SQLKit
import Testing

/// A worker leases only the messages it is about to send. A leased message whose worker dies
/// is concluded `failed` with `delivery_uncertain` when its lease ends (it may have reached the
/// provider), so leasing messages that wait behind the worker's concurrency turned every
/// crash into failures of messages that were never sent (scripts/test-crash showed it).
@Suite("Outbox leases")
struct OutboxLeaseTests {
    @Test(arguments: TestBackend.all)
    func onlyMessagesBeingSentAreLeased(backend: TestBackend) async throws {
        try await APIHarness.run(backend, providerTimeout: .seconds(3)) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                // Five contacts who wrote on Telegram, a message to each.
                let channelId = try await TelegramChannelTests.connect(api, simulator)
                let secret = try #require(simulator.telegramWebhook(token: TelegramChannelTests.token)).secret
                for index in 0..<5 {
                    let update = simulator.telegramUpdate(chatId: Int64(100 + index), messageId: 1, text: "Hola", firstName: "C\(index)",
                                                          at: api.clock.now(), secret: secret)
                    #expect(try await api.webhook(channelId, update).status == .ok)
                    let contact = try await api.contact(externalId: "\(100 + index)")
                    let sent = try await api.send(.post, "/api/v1/contacts/\(contact)/messages", json: ["channelId": channelId, "text": "m\(index)"])
                    #expect(sent.status == .created, "\(sent.text)")
                }
                // Every send hangs until the provider timeout, so the round is caught mid-flight.
                simulator.inject(.hang(seconds: 5), into: .telegram, count: 50)
                let worker = OutboxWorker(services: api.services, concurrency: 2)
                let round = Task { try await worker.runOnce() }
                func sends() -> Int { simulator.requests(.telegram).filter { $0.path.hasSuffix("/sendMessage") }.count }
                for _ in 0..<600 where sends() < 2 { try await Task.sleep(for: .milliseconds(10)) }
                #expect(sends() == 2)
                // Each message the round took has been tried (leased, or already concluded for a
                // retry); the three waiting behind the two slots are untouched.
                let (taken, untouched) = try await api.services.database.read { db in
                    let rows = try await db.raw("SELECT attempts, locked_until FROM outbox").all()
                    let taken = try rows.filter { try $0.decode(column: "attempts", as: Int.self) > 0 }.count
                    let untouched = try rows.filter {
                        try $0.decode(column: "attempts", as: Int.self) == 0 && $0.decode(column: "locked_until", as: Int64?.self) == nil
                    }.count
                    return (taken, untouched)
                }
                #expect(taken == sends(), "\(taken) messages taken while \(sends()) reached the provider")
                #expect(untouched == 3)
                _ = try await round.value
            }
        }
    }

    /// One recipient's messages go out one after another; those waiting behind the one in flight
    /// stay unleased, so a crash mid-send leaves them to be sent, not concluded
    /// `delivery_uncertain` (scripts/test-crash counted ten such per kill with five recipients).
    /// No other worker takes them while the first is in flight either: order holds across instances.
    @Test(arguments: TestBackend.all)
    func aRecipientsLaterMessagesWaitUnleased(backend: TestBackend) async throws {
        try await APIHarness.run(backend, providerTimeout: .seconds(3)) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let (contact, channelId) = try await AttachmentOutboundTests.contact(on: .telegram, api: api, simulator: simulator)
                for index in 0..<3 {
                    let sent = try await api.send(.post, "/api/v1/contacts/\(contact)/messages", json: ["channelId": channelId, "text": "m\(index)"])
                    #expect(sent.status == .created, "\(sent.text)")
                }
                simulator.inject(.hang(seconds: 5), into: .telegram, count: 50)
                let round = Task { try await OutboxWorker(services: api.services, concurrency: 4).runOnce() }
                func sends() -> Int { simulator.requests(.telegram).filter { $0.path.hasSuffix("/sendMessage") }.count }
                for _ in 0..<600 where sends() < 1 { try await Task.sleep(for: .milliseconds(10)) }
                let leased = try await api.services.database.read { db in
                    try await db.raw("SELECT count(*) AS n FROM outbox WHERE locked_until IS NOT NULL").first()?.decode(column: "n", as: Int.self)
                }
                #expect(leased == 1)
                #expect(try await api.services.outbox.claim(limit: 10, now: api.clock.now()).isEmpty)
                #expect(try await round.value == 1)
            }
        }
    }

    /// `PARLEY_OUTBOX_LEASE_SECONDS`: a claimed send is taken again only once its lease has
    /// passed, and no lease is shorter than a provider call may take.
    @Test(arguments: TestBackend.all)
    func theLeaseLengthIsConfigurableWithAFloor(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let (contact, channelId) = try await AttachmentOutboundTests.contact(on: .telegram, api: api, simulator: simulator)
                let sent = try await api.send(.post, "/api/v1/contacts/\(contact)/messages", json: ["channelId": channelId, "text": "leased"])
                #expect(sent.status == .created, "\(sent.text)")
                #expect(OutboxRepository(database: api.services.database, lease: 1).lease == OutboxRepository.shortestLease)
                let outbox = OutboxRepository(database: api.services.database, lease: 20)
                let now = api.clock.now()
                #expect(try await outbox.claim(limit: 10, now: now).count == 1)
                #expect(try await outbox.claim(limit: 10, now: now.addingTimeInterval(19)).isEmpty)
                let again = try await outbox.claim(limit: 10, now: now.addingTimeInterval(21))
                #expect(again.count == 1)
                #expect(again.first?.previousAttemptUnfinished == true)
            }
        }
    }
}
