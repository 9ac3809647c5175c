import Foundation
import ParleyCore
import Synchronization

/// Who is online, across instances. Each instance announces its connected users when they
/// arrive and leave, and again every 30 s; an announcement not renewed within 75 s (an
/// instance that died) lapses. Round-robin assignment will read the same book.
final class PresenceBook: Sendable {
    struct Person: Sendable, Equatable {
        let id: Int64
        let name: String
    }

    static let lapse: Duration = .seconds(75)

    private struct State {
        /// Connections of this instance per user.
        var local: [Int64: (count: Int, user: User)] = [:]
        /// Announcements per user, per instance.
        var seen: [Int64: (workspaceId: Int64, name: String, instances: [String: ContinuousClock.Instant])] = [:]
    }

    private let state = Mutex(State())

    /// Records a connection; true when it is the user's first on this instance.
    func connected(user: User) -> Bool {
        state.withLock { state in
            let count = (state.local[user.id]?.count ?? 0) + 1
            state.local[user.id] = (count, user)
            return count == 1
        }
    }

    /// Records a disconnection; true when it was the user's last on this instance.
    func disconnected(user: User) -> Bool {
        state.withLock { state in
            guard let entry = state.local[user.id] else { return false }
            if entry.count <= 1 {
                state.local[user.id] = nil
                return true
            }
            state.local[user.id] = (entry.count - 1, entry.user)
            return false
        }
    }

    var localUsers: [User] { state.withLock { $0.local.values.map(\.user) } }

    /// Applies an announcement; true when the workspace's online set changed.
    func record(_ signal: RealtimeSignal, now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            var entry = state.seen[signal.userId] ?? (signal.workspaceId, signal.userName, [:])
            let wasOnline = !entry.instances.isEmpty
            if signal.active { entry.instances[signal.instance] = now } else { entry.instances[signal.instance] = nil }
            state.seen[signal.userId] = entry.instances.isEmpty ? nil : entry
            return wasOnline != !entry.instances.isEmpty
        }
    }

    /// Drops lapsed announcements; returns the workspaces whose online set changed.
    func expire(now: ContinuousClock.Instant) -> Set<Int64> {
        state.withLock { state in
            var changed = Set<Int64>()
            for (userId, entry) in state.seen {
                let live = entry.instances.filter { now - $0.value < Self.lapse }
                if live.count != entry.instances.count {
                    state.seen[userId] = live.isEmpty ? nil : (entry.workspaceId, entry.name, live)
                    if live.isEmpty { changed.insert(entry.workspaceId) }
                }
            }
            return changed
        }
    }

    func online(workspaceId: Int64) -> [Person] {
        state.withLock { state in
            state.seen.filter { $0.value.workspaceId == workspaceId }.map { Person(id: $0.key, name: $0.value.name) }.sorted { $0.id < $1.id }
        }
    }
}
