import Foundation
import ParleyStore

/// The hub's inbox counts of one workspace: the last read, who waits for the next, and when
/// the next may start.
///
/// Counting scans the workspace's open conversations, so it grows with the inbox: at a million
/// contacts (666,000 open conversations) one count took 3.4 s without its index and 0.15 s with
/// it. Counts are read one at a time per workspace, on a reader the API shares, so a read must
/// never be started per event or per client: every event that changes counts and every client
/// that arrives meanwhile is answered by the next read.
struct CountsState {
    /// A read is reused for new clients for at most this long, even with no event that changes
    /// counts (a change that emits none, such as a deleted contact's conversations, is then seen soon).
    static let maximumAge: Duration = .seconds(1)
    /// After a read, the next waits this many times as long as the read took, so that counting
    /// takes at most a fifth of one reader however large the inbox...
    static let pause = 4
    /// ...but never longer than this.
    static let longestPause: Duration = .seconds(10)

    /// Changes with each event that can change the counts.
    var generation: UInt64 = 0
    var latest: (counts: InboxCounts, generation: UInt64, readAt: ContinuousClock.Instant)?
    /// Every client of the workspace needs new counts (an event changed them).
    var broadcastDue = false
    /// Clients that connected and wait for their first counts.
    var waiting: [EventSubscriber] = []
    var reading = false
    var nextReadAt: ContinuousClock.Instant?

    /// The last read's counts, when nothing changed them since and they are recent.
    func current(now: ContinuousClock.Instant) -> InboxCounts? {
        guard let latest, latest.generation == generation, now - latest.readAt < Self.maximumAge else { return nil }
        return latest.counts
    }

    var hasWork: Bool { broadcastDue || !waiting.isEmpty }
}
