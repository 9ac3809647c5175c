import Foundation
import ParleyChannels
import ParleyCore
import ParleyStore
import ServiceLifecycle

/// Downloads the files webhooks named, off the webhook's path: a webhook only records a
/// pending attachment row and is answered at once. Each claimed row is held by a lease, so a
/// download cut short by a crash is picked up again after it, here or on another instance.
public struct MediaWorker: Service {
    let services: Services
    let batchSize: Int
    let pollInterval: Duration

    public init(services: Services, batchSize: Int = 4, pollInterval: Duration = .seconds(5)) {
        self.services = services
        self.batchSize = batchSize
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        await WorkerRounds(signal: services.mediaSignal, pollInterval: pollInterval, batchSize: batchSize, services: services,
                           failure: "media downloads failed").run { try await runOnce() }
    }

    /// Makes the due downloads once, concurrently; returns how many were claimed.
    @discardableResult
    public func runOnce() async throws -> Int {
        let due = try await services.attachments.claim(limit: batchSize, now: services.clock.now())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in due {
                group.addTask { try await download(item) }
            }
            try await group.waitForAll()
        }
        return due.count
    }

    func download(_ item: AttachmentRepository.Due) async throws {
        guard let stored = try await services.channels.providerConfig(channelId: item.channelId),
              let adapter = services.channelRuntime.adapters[stored.kind] as? any MediaFetching else {
            try await services.attachments.failed(item, reason: "this channel cannot download files", at: services.clock.now())
            return
        }
        let channel = services.channelRuntime.config(stored, publicURL: services.configuration.publicURL)
        let limit = AttachmentLimits.inboundMaximum(stored.kind)
        let outcome = await adapter.fetchMedia(item.source, channel: channel, http: services.channelRuntime.http, limit: limit)
        let now = services.clock.now()
        switch outcome {
        case .fetched(let bytes, let type, let name):
            do {
                let accepted = try await AttachmentIntake(services: services).accept(
                    bytes, declaredType: item.source.contentType ?? type, fileName: item.source.fileName ?? name,
                    sticker: item.source.kind == .sticker, limit: limit, workspaceId: item.workspaceId)
                try await services.attachments.stored(item, blobKey: accepted.blobKey, size: accepted.size, contentType: accepted.contentType,
                                                      fileName: accepted.fileName, kind: accepted.kind, at: now)
                services.count("media_downloads", help: "Files downloaded from providers", labels: [("outcome", "stored")])
            } catch let refusal as AttachmentIntake.Refusal {
                try await services.attachments.failed(item, reason: refusal.description, at: now)
                services.count("media_downloads", help: "Files downloaded from providers", labels: [("outcome", "refused")])
            }
        case .failed(let reason):
            try await services.attachments.failed(item, reason: reason, at: now)
            services.count("media_downloads", help: "Files downloaded from providers", labels: [("outcome", "failed")])
        case .retry(let detail):
            try await services.attachments.retryLater(item, reason: detail, at: now)
            services.logger.info("media download to be retried", metadata: ["attachment": "\(item.id)", "detail": "\(detail)"])
            services.count("media_downloads", help: "Files downloaded from providers", labels: [("outcome", "retry")])
        }
    }
}
