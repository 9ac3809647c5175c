import Crypto
import Foundation
import ParleyChannels
import ParleyCore
import ParleyStore

/// Outgoing webhooks: turns new events into delivery rows (with the same once-only cursor as
/// workflows), then attempts the due deliveries, signed with the subscription's secret.
struct WebhookDispatcher {
    let services: Services

    var repository: WebhookRepository { WebhookRepository(database: services.database) }
    var cursors: WorkflowRepository { WorkflowRepository(database: services.database) }

    /// Returns how much was done.
    func runOnce() async throws -> Int {
        var done = try await fanOut()
        let jobs = try await repository.claim(limit: 20, now: services.clock.now())
        await withTaskGroup(of: Void.self) { group in
            for job in jobs { group.addTask { await deliver(job) } }
        }
        done += jobs.count
        return done
    }

    /// Reads the events after the webhooks' cursor and queues a delivery per subscription that
    /// wants each; the queueing and the cursor move commit together.
    func fanOut() async throws -> Int {
        let consumer = WebhookRepository.consumer
        guard let cursor = try await cursors.cursor(consumer) else {
            // The first start: deliveries begin with what happens from now on.
            try await cursors.ensureCursor(consumer, at: try await services.eventFeed.head(), now: services.clock.now())
            return 0
        }
        let batch = try await services.eventFeed.read(after: cursor, limit: 200)
        guard let last = batch.events.last else { return 0 }
        let events = batch.events.map(\.event)
        let now = services.clock.now()
        let moved = try await cursors.advance(consumer, from: cursor, to: last.position, now: now) { db in
            for event in events { try await WebhookRepository.enqueue(on: db, event: event, at: now) }
            return events.count
        }
        return moved ?? 0
    }

    /// One attempt; the outcome (response code or error) is recorded on the delivery.
    func deliver(_ job: WebhookJob) async {
        let timestamp = Int64(services.clock.now().timeIntervalSince1970)
        let headers = [("Content-Type", "application/json"), ("User-Agent", "Parley-Webhooks"),
                       ("X-Parley-Signature", Self.signature(secret: job.secret, timestamp: timestamp, body: job.payload))]
        var code: Int?
        var failure: String?
        do {
            let response = try await services.channelRuntime.http.send(.POST, job.url, headers: headers, body: Array(job.payload.utf8))
            code = response.status
            if !(200..<300).contains(response.status) { failure = "answered \(response.status)" }
        } catch {
            failure = error.description
        }
        do {
            try await repository.conclude(job, responseCode: code, error: failure, at: services.clock.now())
        } catch {
            services.logger.error("could not record a webhook delivery", metadata: ["delivery": "\(job.deliveryId)", "error": "\(loggableDescription(of: error))"])
        }
    }

    /// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver recomputes it with
    /// the shared secret and refuses old timestamps, so a captured request cannot be replayed later.
    static func signature(secret: String, timestamp: Int64, body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=" + mac.hexEncoded
    }
}
