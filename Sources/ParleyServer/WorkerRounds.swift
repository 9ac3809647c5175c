import Foundation
import ParleyStore
import ServiceLifecycle

/// How a background worker is driven: a round on each wake-up from `signal` (a webhook that
/// left work) or on the poll, whichever comes first, wake-ups coalescing; a round repeats while
/// it finds a full batch. A graceful shutdown cancels the rounds at once instead of waiting for
/// the next tick.
struct WorkerRounds {
    let signal: CommitSignal
    let pollInterval: Duration
    let batchSize: Int
    let services: Services
    /// Logged when a round fails ("profile lookups failed").
    let failure: String

    func run(_ round: @escaping @Sendable () async throws -> Int) async {
        let (ticks, tick) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let wakeUps = signal.subscribe()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await _ in wakeUps { tick.yield() }
                }
                group.addTask { [pollInterval] in
                    while !Task.isCancelled {
                        tick.yield()
                        try? await Task.sleep(for: pollInterval)
                    }
                }
                for await _ in ticks {
                    if Task.isCancelled { break }
                    do {
                        while try await round() == batchSize {}
                    } catch {
                        services.logger.warning("\(failure)", metadata: ["error": "\(loggableDescription(of: error))"])
                    }
                }
                group.cancelAll()
            }
        }
    }
}
