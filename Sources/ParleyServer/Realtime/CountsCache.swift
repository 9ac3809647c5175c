import Foundation
import ParleyStore

/// The hub's last read of each workspace's inbox counts, shared by the clients that need them
/// until an event changes them.
///
/// Counting scans the workspace's open conversations, so it grows with the inbox; every new
/// client needs the counts once. Without sharing, a few hundred clients connecting at once
/// queue a few hundred scans in front of the readers, and the event stream's own reads wait
/// behind them.
struct CountsCache {
    /// A read is reused for at most this long, even with no event that changes counts (a
    /// change that emits none, such as a deleted contact's conversations, is then seen soon).
    static let maximumAge: Duration = .seconds(1)

    private struct Entry {
        let generation: UInt64
        let startedAt: ContinuousClock.Instant
        let reading: Task<InboxCounts?, Never>
    }

    private var entries: [Int64: Entry] = [:]
    private var generations: [Int64: UInt64] = [:]

    /// Changes with each event that can change the workspace's counts.
    func generation(of workspaceId: Int64) -> UInt64 {
        generations[workspaceId] ?? 0
    }

    /// A read started since the last change, and recently enough to reuse.
    func pending(_ workspaceId: Int64, now: ContinuousClock.Instant) -> Task<InboxCounts?, Never>? {
        guard let entry = entries[workspaceId], entry.generation == generation(of: workspaceId),
              now - entry.startedAt < Self.maximumAge else { return nil }
        return entry.reading
    }

    mutating func store(_ reading: Task<InboxCounts?, Never>, for workspaceId: Int64, now: ContinuousClock.Instant) {
        entries[workspaceId] = Entry(generation: generation(of: workspaceId), startedAt: now, reading: reading)
    }

    mutating func forget(_ workspaceId: Int64) {
        entries[workspaceId] = nil
    }

    /// An event changed the counts: reads started before it are not reused.
    mutating func invalidate(_ workspaceId: Int64) {
        generations[workspaceId, default: 0] &+= 1
        entries[workspaceId] = nil
    }
}
