import Foundation
import Logging
import ParleyChannels
import ParleyCore
import ParleyStore
import ServiceLifecycle

/// Delivers the outbox: claims due messages, sends each through its channel's adapter, and
/// records the outcome. Several workers (in several instances on one PostgreSQL) never take
/// the same message; a message whose earlier attempt never concluded is resent only where the
/// provider deduplicates, and otherwise marked `failed` with `delivery_uncertain`.
public struct OutboxWorker: Service {
    let services: Services
    let batchSize: Int
    let concurrency: Int
    let idleDelay: Duration

    public init(services: Services, batchSize: Int = 50, concurrency: Int = 16, idleDelay: Duration = .milliseconds(100)) {
        self.services = services
        self.batchSize = batchSize
        self.concurrency = concurrency
        self.idleDelay = idleDelay
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let handled: Int
            do {
                handled = try await runOnce()
            } catch {
                services.logger.error("outbox round failed", metadata: ["error": "\(loggableDescription(of: error))"])
                handled = 0
            }
            // A round takes one message per recipient, so a round that sent anything may have
            // left that recipient's next one due: look again at once, and rest only when idle.
            if handled == 0 {
                try? await Task.sleep(for: idleDelay)
            }
        }
    }

    /// How many messages a round leases: no more than it sends at once. A leased message whose
    /// worker dies is concluded `delivery_uncertain` when the lease ends, so one merely waiting
    /// for a free slot would be failed by a crash although it never left.
    var claimSize: Int { max(1, min(batchSize, concurrency)) }

    /// One round: claim a batch, deliver it, record the outcomes. Returns how many were handled.
    @discardableResult
    public func runOnce() async throws -> Int {
        let jobs = try await services.outbox.claim(limit: claimSize, now: services.clock.now())
        guard !jobs.isEmpty else { return 0 }
        // A round holds at most one message per recipient (see OutboxRepository.claim): the next
        // one goes in a later round, after this one is concluded, so they keep the order they
        // were written in (a queued message before the automatic reply its release triggered).
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for job in jobs {
                if running >= concurrency {
                    await group.next()
                    running -= 1
                }
                group.addTask { await deliver(job) }
                running += 1
            }
            await group.waitForAll()
        }
        return jobs.count
    }

    /// Never throws: one job's failure must not cancel the others mid-send. A job whose outcome
    /// cannot be written stays leased and is found unfinished when the lease ends.
    func deliver(_ job: OutboxJob) async {
        // Each attempt is a job with its own id in the logs, as a request is.
        var logger = services.logger
        logger[metadataKey: "request_id"] = "outbox-\(job.outboxId)-\(job.attempt)"
        let (outcome, kind) = await attempt(job)
        do {
            try await services.outbox.conclude(job, outcome: outcome, at: services.clock.now())
        } catch {
            logger.error("could not record a delivery outcome", metadata: ["message": "\(job.messageId)", "error": "\(loggableDescription(of: error))"])
            return
        }
        let channel = ("channel", kind ?? "unknown")
        switch outcome {
        case .sent: services.count("messages_sent", help: "Messages the provider accepted, by channel", labels: [channel])
        case .failed(let reason, _, _):
            services.count("messages_failed", help: "Messages that failed, by channel and reason", labels: [channel, ("reason", reason)])
            logger.info("delivery failed", metadata: ["message": "\(job.messageId)", "reason": "\(reason)"])
        case .retry: services.count("delivery_retries", help: "Delivery attempts to be retried, by channel", labels: [channel])
        }
    }

    struct FileProblem: Error {
        let outcome: DeliveryOutcome
    }

    /// The message's file: its bytes for uploads, and a signed link providers may fetch for a week.
    func outboundFile(_ id: Int64, workspaceId: Int64) async -> Result<OutboundFile, FileProblem> {
        do {
            guard let stored = try await services.attachments.find(id: id, workspaceId: workspaceId), let key = stored.blobKey,
                  let bytes = try await services.blobs.get(key) else {
                return .failure(FileProblem(outcome: .failed(reason: FailureReason.misconfigured.rawValue, code: nil, text: "the attachment's file is missing")))
            }
            var base = services.configuration.publicURL
            while base.hasSuffix("/") { base.removeLast() }
            let expires = services.clock.now().addingTimeInterval(AttachmentLinks.providerLifetime)
            return .success(OutboundFile(kind: stored.attachment.kind, contentType: stored.attachment.contentType ?? "application/octet-stream",
                                         fileName: stored.attachment.fileName, url: base + AttachmentLinks.path(stored, expires: expires), bytes: bytes))
        } catch {
            // The store, not the message, is at fault: try again later.
            return .failure(FileProblem(outcome: .retry(after: nil, detail: "the attachment could not be read: \(error)")))
        }
    }

    /// Sends once; also names the channel's kind (nil when it could not be read) for the figures.
    func attempt(_ job: OutboxJob) async -> (DeliveryOutcome, String?) {
        let found: ChannelRepository.ProviderConfig?
        do {
            found = try await services.channels.providerConfig(channelId: job.channelId)
        } catch {
            // The database, not the message, is at fault: try again later.
            return (.retry(after: nil, detail: "channel lookup failed: \(error)"), nil)
        }
        guard let stored = found, let adapter = services.channelRuntime.adapters[stored.kind] else {
            return (.failed(reason: FailureReason.misconfigured.rawValue, code: nil, text: "the channel has no delivery adapter"), found?.kind.rawValue)
        }
        return (await send(job, stored: stored, adapter: adapter), stored.kind.rawValue)
    }

    private func send(_ job: OutboxJob, stored: ChannelRepository.ProviderConfig, adapter: any ChannelAdapter) async -> DeliveryOutcome {
        if job.previousAttemptUnfinished && !adapter.deduplicatesByKey {
            return .failed(reason: FailureReason.deliveryUncertain.rawValue, code: nil,
                           text: "an earlier attempt was interrupted; the provider may have the message, so it is not resent")
        }
        let channel = services.channelRuntime.config(stored, publicURL: services.configuration.publicURL)
        // Email threads by itself: the reply refers to the contact's last email and keeps its subject.
        let thread = stored.kind == .email ? ((try? await services.email.replyContext(outboundMessageId: job.messageId)) ?? [:]) : [:]
        var delivery = OutboundDelivery(messageId: job.messageId, externalId: job.externalId, instructions: job.delivery,
                                        idempotencyKey: "parley-\(job.messageId)", thread: thread)
        if let attachmentId = job.delivery.attachments?.first {
            switch await outboundFile(attachmentId, workspaceId: stored.workspaceId) {
            case .success(let file): delivery.attachment = file
            case .failure(let problem): return problem.outcome
            }
        }
        switch await adapter.send(delivery, channel: channel, http: services.channelRuntime.http) {
        case .sent(let id): return .sent(providerMessageId: id)
        // Provider text is shown to agents: it must not carry the channel's credentials.
        case .failed(let reason, let code, let text): return .failed(reason: reason.rawValue, code: code, text: channel.redacting(text))
        case .retry(let after, let detail): return .retry(after: after, detail: channel.redacting(detail))
        }
    }
}
