import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOPosix
import ParleyChannels
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import Prometheus
import SQLKit

/// The HTTP half of the benchmark: a live Parley (with its outbox worker) and the provider
/// simulator on loopback, loaded by an HTTP client in the same process. The client has an
/// event-loop thread of its own, so the CPU it takes is reported beside each figure.
struct HTTPBench {
    let database: any Database
    let workspaceId: Int64
    let scale: Int
    let quick: Bool
    let runs: Int
    let logger: Logger

    func run() async throws -> [Measurement] {
        let simulator = ProviderSimulator()
        let simulatorURL = try await simulator.start()
        // Each part stops before the next begins: the next phase (more seeding, the event stream's
        // own server) must not race a shutdown still under way.
        return try await withCleanup {
            simulator.acceptTelegramToken("bench:token")
            simulator.acceptMetaToken("bench-wa-token", for: .whatsapp)

            // Stopping the server at the end cancels it, which it reports as errors: keep those quiet.
            var serverLogger = logger
            serverLogger.logLevel = .critical
            var configuration = ServerConfiguration(host: "127.0.0.1", port: 0, publicURL: "http://127.0.0.1", bcryptCost: 4)
            configuration.allowPrivateTargets = true // the providers are simulated on loopback
            let services = Services(configuration: configuration, database: database, logger: serverLogger)
            let router = try buildRouter(services: services)
            // The ceiling: the same server answering without touching the database.
            router.get("/bench/hello") { _, _ in "hello" }
            let (ports, portContinuation) = AsyncStream<Int>.makeStream()
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "Parley"),
                                  services: [OutboxWorker(services: services)],
                                  onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0); portContinuation.finish() },
                                  logger: serverLogger)
            let server = Task { try await app.runService(gracefulShutdownSignals: []) }
            return try await withCleanup {
                var portIterator = ports.makeAsyncIterator()
                guard let port = await portIterator.next(), port > 0 else { throw StoreError.conflict("server did not start") }
                let base = "http://127.0.0.1:\(port)"
                print(String(format: "live server on %@; RSS %.1f MB", base, residentMemoryMB()))

                // Channels on the simulator and a user who can log in.
                let now = Date()
                let telegram = try await services.channels.create(workspaceId: workspaceId, kind: .telegram, name: "bench telegram", credentials: ["botToken": "bench:token"],
                                                                 apiBaseUrl: simulatorURL, actorUserId: nil, at: now)
                let appSecret = "bench-app-secret"
                let whatsapp = try await services.channels.create(workspaceId: workspaceId, kind: .whatsapp, name: "bench whatsapp",
                                                                 credentials: ["accessToken": "bench-wa-token", "phoneNumberId": "1055", "appSecret": appSecret, "verifyToken": "v"],
                                                                 apiBaseUrl: simulatorURL, actorUserId: nil, at: now)
                guard let telegramSecret = try await services.channels.webhookSecret(channelId: telegram.id) else { throw StoreError.notFound("channel") }
                let email = "bench-\(UUID().uuidString.prefix(8))@bench.local"
                _ = try await services.users.create(workspaceId: workspaceId, email: email, name: "Bench Agent", passwordHash: try await services.passwords.hash("bench-password"),
                                                    role: .agent, actorUserId: nil, at: now)

                let clientLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
                var clientConfiguration = HTTPClient.Configuration(connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 128))
                // No tracing span per request: its attributes parse each URL again, on the threads the server shares.
                clientConfiguration.tracing.tracer = nil
                let client = HTTPClient(eventLoopGroupProvider: .shared(clientLoop), configuration: clientConfiguration)
                return try await withCleanup {
                    // "/proc/thread-self" names the thread that reads it: PID/task/TID.
                    let clientThread = try await clientLoop.next().submit {
                        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")).map { String($0.split(separator: "/").last ?? "") }
                    }.get()
                    let load = HTTPLoad(client: client, generatorThread: clientThread)
                    let token = try await login(client: client, base: base, email: email)
                    var results: [Measurement] = []
                    let total = quick ? 2_000 : 20_000
                    let levels = quick ? [1, 16] : [1, 8, 32, 64]

                    for concurrency in levels {
                        results.append(try await Measurement.median(runs: runs) { _ in
                            try await load.run("hello (ceiling) c=\(concurrency)", scale: scale, concurrency: concurrency, total: total) { _ in
                                .init(method: .GET, url: "\(base)/bench/hello", headers: [], body: nil)
                            }.0
                        })
                    }

                    // Ingest: signed WhatsApp and Telegram webhooks from 5,000 senders, at rising concurrency.
                    var ingestMax = 0.0
                    for (kind, channelId) in [(ChannelKind.whatsapp, whatsapp.id), (.telegram, telegram.id)] {
                        for concurrency in levels {
                            let measurement = try await Measurement.median(runs: runs) { run in
                                // Ids unique to the scale, level and run: a repeated id is a duplicate, stored once.
                                let payloads = (0..<total).map { index -> (body: [UInt8], headers: [(String, String)]) in
                                    let sender = 1_000_000 + index % 5_000
                                    let id = "\(kind.rawValue)-\(scale)-\(run)-\(concurrency)-\(index)"
                                    return kind == .whatsapp
                                        ? simulator.whatsappInbound(from: "52155\(sender)", name: "Sender \(sender)", messageId: "wamid.\(id)", text: "ingest \(index)",
                                                                    at: now, phoneNumberId: "1055", appSecret: appSecret)
                                        : simulator.telegramUpdate(chatId: Int64(sender), messageId: ((scale / 1_000) * 1_000 + run * 100 + concurrency) * 100_000 + index,
                                                                   text: "ingest \(index)", firstName: "Sender", at: now, secret: telegramSecret)
                                }
                                let before = try await counts()
                                let (measurement, errors) = try await load.run("ingest \(kind.rawValue) webhooks c=\(concurrency)", scale: scale, concurrency: concurrency,
                                                                               total: total) { index in
                                    .init(method: .POST, url: "\(base)/webhooks/\(channelId)", headers: payloads[index].headers, body: payloads[index].body)
                                }
                                let after = try await counts()
                                print(String(format: "  %@: %d stored, %d events, %d errors", measurement.name, after.messages - before.messages, after.events - before.events, errors))
                                return measurement
                            }
                            results.append(measurement)
                            ingestMax = max(ingestMax, measurement.throughputPerSecond)
                        }
                    }
                    // p99 at half the best ingest rate, paced.
                    let half = ingestMax / 2
                    results.append(try await Measurement.median(runs: runs) { run in
                        let pacedPayloads = (0..<total).map { index in
                            // The same senders as above: known contacts with open conversations, as in steady traffic.
                            simulator.whatsappInbound(from: "52155\(1_000_000 + index % 5_000)", name: "Paced", messageId: "wamid.paced-\(scale)-\(run)-\(index)", text: "paced",
                                                      at: now, phoneNumberId: "1055", appSecret: appSecret)
                        }
                        return try await load.run(String(format: "ingest whatsapp at half load (%.0f/s)", half), scale: scale, concurrency: 64, total: total, rate: half) { index in
                            .init(method: .POST, url: "\(base)/webhooks/\(whatsapp.id)", headers: pacedPayloads[index].headers, body: pacedPayloads[index].body)
                        }.0
                    })
                    print(String(format: "  RSS under ingest: %.1f MB", residentMemoryMB()))

                    // Composer and outbound to the Telegram senders (their window has no limit).
                    let contactIds = try await database.read { db in
                        try await db.raw("""
                            SELECT contact_id FROM contact_identities WHERE channel_id = \(bind: telegram.id) ORDER BY id LIMIT 2000
                            """).all().map { try $0.decode(column: "contact_id", as: Int64.self) }
                    }
                    let auth = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
                    results.append(try await Measurement.median(runs: runs) { _ in
                        try await load.run("composer state c=16", scale: scale, concurrency: 16, total: total / 2) { index in
                            .init(method: .GET, url: "\(base)/api/v1/contacts/\(contactIds[index % contactIds.count])/composer?channel=\(telegram.id)", headers: auth, body: nil)
                        }.0
                    })
                    let sends = total / 2
                    var sendRuns: [Measurement] = []
                    var deliveryRuns: [Measurement] = []
                    for _ in 0..<max(1, runs) {
                        let sentBefore = simulator.requests(.telegram).count
                        let started = ContinuousClock.now
                        sendRuns.append(try await load.run("send message (API → outbox) c=16", scale: scale, concurrency: 16, total: sends, expect: 201) { index in
                            .init(method: .POST, url: "\(base)/api/v1/contacts/\(contactIds[index % contactIds.count])/messages", headers: auth,
                                  body: Array("{\"channelId\":\(telegram.id),\"text\":\"bench \(index)\"}".utf8))
                        }.0)
                        while try await services.outbox.pendingCount() > 0, ContinuousClock.now - started < .seconds(300) {
                            try await Task.sleep(for: .milliseconds(50))
                        }
                        let elapsed = (ContinuousClock.now - started).milliseconds
                        let delivered = simulator.requests(.telegram).count - sentBefore
                        deliveryRuns.append(Measurement(name: "send → outbox → simulator delivered", scale: scale, count: delivered,
                                                        throughputPerSecond: Double(delivered) / max(elapsed, 1) * 1000, p50ms: 0, p95ms: 0, p99ms: 0))
                        print(String(format: "  delivered %d of %d sends in %.1f s; RSS %.1f MB", delivered, sends, elapsed / 1000, residentMemoryMB()))
                    }
                    results.append(Measurement.median(of: sendRuns))
                    results.append(Measurement.median(of: deliveryRuns))
                    // Every figure beside the best the same server answers without the database.
                    let ceiling = results.filter { $0.name.hasPrefix("hello (ceiling)") }.map(\.throughputPerSecond).max() ?? 0
                    return results.map { result in
                        var result = result
                        result.ratioToCeiling = ceiling > 0 ? result.throughputPerSecond / ceiling : nil
                        return result
                    }
                } cleanup: {
                    try? await client.shutdown()
                    try? await clientLoop.shutdownGracefully()
                }
            } cleanup: {
                server.cancel()
                _ = await server.result
            }
        } cleanup: {
            await simulator.stop()
        }
    }

    func login(client: HTTPClient, base: String, email: String) async throws -> String {
        var request = HTTPClientRequest(url: "\(base)/api/v1/auth/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: "{\"email\":\"\(email)\",\"password\":\"bench-password\"}"))
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard let json = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any], let token = json["token"] as? String else {
            throw StoreError.conflict("login failed")
        }
        return token
    }

    func counts() async throws -> (messages: Int, events: Int) {
        try await database.read { db in
            (try await db.raw("SELECT COUNT(*) AS n FROM messages").first()?.decode(column: "n", as: Int.self) ?? 0,
             try await db.raw("SELECT COUNT(*) AS n FROM events").first()?.decode(column: "n", as: Int.self) ?? 0)
        }
    }
}

/// Runs `body`, then `cleanup` whether or not it threw, and returns or throws what `body` did.
func withCleanup<T>(_ body: () async throws -> T, cleanup: () async -> Void) async throws -> T {
    let outcome: Result<T, any Error>
    do {
        outcome = .success(try await body())
    } catch {
        outcome = .failure(error)
    }
    await cleanup()
    return try outcome.get()
}
