import Foundation
import Synchronization
import VaporCSQLite

/// Copies the write-ahead log back into the database file on a connection and thread of its
/// own, so that the writer's commits never wait for it.
///
/// By default SQLite checkpoints inside the commit that pushes the log past 1,000 pages: that
/// commit copies the pages and syncs the file to disk while holding the only write lock, and
/// every write behind it waits. Here the writer's commit only notes the log's length (the WAL
/// hook); every few hundred new pages a passive checkpoint runs on the checkpointer's thread,
/// alongside the writer and the readers. Durability is unchanged: with `synchronous = NORMAL`
/// the log is synced at each checkpoint, whichever thread runs it.
final class SQLiteCheckpointer: Sendable {
    /// SQLite's own checkpoint threshold, in log pages; here the spacing of the writer's own
    /// checkpoints past `limit`.
    static let threshold: Int32 = 1_000
    /// New log pages after which a checkpoint is started beside the writer. Small, so that when
    /// the writer does checkpoint in its commit (see `limit`) few pages are left to copy.
    static let step: Int32 = 250

    private let worker: SQLiteWorker
    private let state = Mutex(State())
    private let completed = Atomic<Int>(0)

    private struct State {
        /// A checkpoint is queued or running; none other is started meanwhile.
        var busy = false
        /// The log's length when the last checkpoint beside the writer, and the last one in
        /// its commit, were started. The log keeps its length until it starts over (which it
        /// does only after a checkpoint copied every page and no reader needed them): only new
        /// pages call for another checkpoint. Checkpoints one after another would hold the
        /// log's locks all the time, and it could never start over.
        var startedAt: Int32 = 0
        var inlineAt: Int32 = 0
    }

    init(worker: SQLiteWorker) {
        self.worker = worker
    }

    /// Checkpoints finished so far (for tests).
    var checkpoints: Int { completed.load(ordering: .acquiring) }

    /// Log pages at which the writer checkpoints in its own commit after all. Under a steady
    /// stream of writes the checkpointer never catches up with the last page, and the log only
    /// starts over from its beginning once every page was copied: this bounds its size (about
    /// 16 MB). The checkpointer has copied most pages by then, so it is a short one.
    static let limit: Int32 = 4 * threshold

    /// Called on the writer's thread after each commit, with the log's length in pages; true
    /// when the writer should checkpoint now.
    func logGrew(to pages: Int32) -> Bool {
        enum Action { case none, beside, inline }
        let action = state.withLock { state -> Action in
            if pages < state.startedAt { state.startedAt = 0 }
            if pages < state.inlineAt { state.inlineAt = 0 }
            if pages >= Self.limit && pages - state.inlineAt >= Self.threshold {
                state.inlineAt = pages
                return .inline
            }
            guard !state.busy, pages - state.startedAt >= Self.step else { return .none }
            state.busy = true
            state.startedAt = pages
            return .beside
        }
        switch action {
        case .none: return false
        case .inline: return true
        case .beside: break
        }
        let queued = worker.submit { [self] in
            // PASSIVE: copies what no reader still needs, never waits for the writer or readers.
            try? worker.run("PRAGMA wal_checkpoint(PASSIVE)", binds: []) { _ in }
            completed.add(1, ordering: .releasing)
            state.withLock { $0.busy = false }
        }
        // Shut down: the connections are closing, and the last close checkpoints.
        if !queued { state.withLock { $0.busy = false } }
        return false
    }

    func stop() async {
        await worker.stop()
    }

    /// Makes `connection` (the writer's, on its thread) report its log's length here instead of
    /// checkpointing in its commits.
    func observe(_ connection: OpaquePointer) {
        sqlite_nio_sqlite3_wal_hook(connection, { context, connection, _, pages in
            guard let context else { return SQLITE_OK }
            if Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue().logGrew(to: pages) {
                // What SQLite's own hook does at every threshold: a checkpoint in the commit.
                sqlite_nio_sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            }
            return SQLITE_OK
        }, Unmanaged.passUnretained(self).toOpaque())
    }
}
