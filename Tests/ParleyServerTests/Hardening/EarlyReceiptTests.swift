import Foundation
import Hummingbird
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import Testing

/// A provider's delivered/read callback may arrive before the send call has returned the
/// provider's message id. It is kept and applied once the id is known, forward only.
@Suite("Early delivery receipts")
struct EarlyReceiptTests {
    @Test(arguments: TestBackend.all)
    func aReceiptBeforeTheSendReturnsIsAppliedWhenTheIdIsKnown(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { api in
            try await api.withSimulator { simulator in
                let channel = try await TelegramChannelTests.connect(api, simulator)
                let secret = try #require(simulator.telegramWebhook(token: TelegramChannelTests.token)).secret
                // Two contacts, so both sends are in flight at once (one recipient's go one by one).
                _ = try await api.webhook(channel, simulator.telegramUpdate(chatId: 42, messageId: 1, text: "hi", firstName: "Ana", at: api.clock.now(), secret: secret))
                _ = try await api.webhook(channel, simulator.telegramUpdate(chatId: 43, messageId: 1, text: "hi", firstName: "Bea", at: api.clock.now(), secret: secret))
                let first = try sentMessageId(try await api.send(try await api.contact(externalId: "42"), ["channelId": channel, "text": "one"]))
                let second = try sentMessageId(try await api.send(try await api.contact(externalId: "43"), ["channelId": channel, "text": "two"]))
                let jobs = try await api.services.outbox.claim(limit: 10, now: api.clock.now())
                #expect(jobs.count == 2)

                // Both receipts arrive while the sends are still in flight.
                let updater = api.services.statusUpdater
                #expect(try await updater.apply(channelId: channel, providerMessageId: "p-1", status: .read, reason: nil, code: nil, text: nil, at: api.clock.now()) == false)
                #expect(try await updater.apply(channelId: channel, providerMessageId: "p-2", status: .delivered, reason: nil, code: nil, text: nil, at: api.clock.now()) == false)
                // A late "delivered" after "read" must not move the first message back.
                _ = try await updater.apply(channelId: channel, providerMessageId: "p-1", status: .delivered, reason: nil, code: nil, text: nil, at: api.clock.now())

                for job in jobs {
                    let id = job.messageId == first ? "p-1" : "p-2"
                    try await api.services.outbox.conclude(job, outcome: .sent(providerMessageId: id), at: api.clock.now())
                }
                #expect(try await api.messageState(first).status == "read")
                #expect(try await api.messageState(second).status == "delivered")
                #expect(try await api.count("early_statuses") == 0)
            }
        }
    }
}
