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

/// Two Parley instances on one PostgreSQL database, each with its outbox worker: the contact's
/// message, delivered to both (a provider retrying), releases the queued message once.
@Suite("Queued messages across instances", .enabled(if: TestBackend.all.contains(.postgres), "needs PARLEY_TEST_POSTGRES_URL"))
struct ReachInstancesTests {
    static func instance(_ database: any Database, clock: TestClock) -> Services {
        Services(configuration: ServerConfiguration(host: "127.0.0.1", port: 8080, publicURL: "https://parley.example.com/", bcryptCost: 4),
                 database: database, clock: clock,
                 channelRuntime: ChannelRuntime(http: ProviderHTTP(client: ProviderHTTP.sharedClient, timeout: .seconds(5), targets: .allowingPrivate)), logger: .quiet)
    }

    @Test func aQueuedMessageGoesOnceWithTwoInstancesRunning() async throws {
        try await TestBackend.postgres.withSharedDatabase { first, second in
            let clock = TestClock(Date())
            let one = Self.instance(first, clock: clock)
            let two = Self.instance(second, clock: clock)
            _ = try await Bootstrap.ensureWorkspace(services: one, email: APIHarness.ownerEmail, password: APIHarness.ownerPassword)
            try await Application(router: try buildRouter(services: one), logger: .quiet).test(.router) { clientOne in
                try await Application(router: try buildRouter(services: two), logger: .quiet).test(.router) { clientTwo in
                    let login = try await APIHarness.send(clientOne, .post, "/api/v1/auth/login",
                                                          json: ["email": APIHarness.ownerEmail, "password": APIHarness.ownerPassword])
                    let token = try #require(login.json["token"] as? String)
                    let apiOne = APIHarness(client: clientOne, services: one, clock: clock, ownerToken: token)
                    let apiTwo = APIHarness(client: clientTwo, services: two, clock: clock, ownerToken: token)
                    try await apiOne.withSimulator { simulator in
                        let (channel, contact) = try await ReachQueueTests.instagramContact(apiOne, simulator, ago: 10 * 86_400)
                        let queued = try await apiOne.send(contact, ["channelId": channel, "text": "Your refund went out", "deliver": "when_contact_writes"])
                        let id = try #require((ReachQueueTests.message(queued)["id"] as? NSNumber)?.int64Value, "\(queued.text)")

                        try await withThrowingTaskGroup(of: Void.self) { workers in
                            workers.addTask { try await OutboxWorker(services: one).run() }
                            workers.addTask { try await OutboxWorker(services: two).run() }
                            let reply = simulator.messengerInbound(from: "IGSID-1", messageId: "m_back", text: "Did it?", at: clock.now(),
                                                                   appSecret: MetaChannelTests.appSecret, object: "instagram")
                            let started = ContinuousClock.now
                            async let viaOne = apiOne.webhook(channel, reply)
                            async let viaTwo = apiTwo.webhook(channel, reply)
                            #expect(try await viaOne.status == .ok)
                            #expect(try await viaTwo.status == .ok)
                            let answered = ContinuousClock.now - started
                            func sends() -> Int { simulator.requests(.messenger).filter { $0.path.hasSuffix("/me/messages") }.count }
                            // A generous bound: the whole suite runs in parallel on a small machine.
                            while sends() == 0, ContinuousClock.now - started < answered + .seconds(30) { try await Task.sleep(for: .milliseconds(10)) }
                            let latency = ContinuousClock.now - started
                            // Both workers poll every 100 ms: long enough for a second delivery to show.
                            try await Task.sleep(for: .seconds(1))
                            // The provider's answer is recorded after it arrived: wait for it too.
                            while try await apiOne.messageState(id).status != "sent", ContinuousClock.now - started < answered + .seconds(30) {
                                try await Task.sleep(for: .milliseconds(10))
                            }
                            #expect(try await apiOne.messageState(id).status == "sent")
                            #expect(sends() == 1, "sent \(sends()) times")
                            print("webhooks answered after \(answered); queued message delivered \(latency) after the contact's webhook")
                            workers.cancelAll()
                        }
                    }
                }
            }
        }
    }
}
