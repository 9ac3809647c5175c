import Synchronization

/// Whose turn it is on SQLite's one writer: a first-come, first-served lock for async code
/// that also tells whether anyone is queued behind the holder (who may then leave its commit
/// to them, see ``CommitGroup``). A plain mutex, so taking a free turn costs no hop to another
/// executor.
final class WriterTurns: Sendable {
    private struct State {
        var held = false
        var queue: [CheckedContinuation<Void, Never>] = []
        var head = 0
    }

    private let state = Mutex(State())

    func acquire() async {
        let taken = state.withLock { state in
            if state.held { return false }
            state.held = true
            return true
        }
        if taken { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let takenMeanwhile = state.withLock { state in
                if !state.held {
                    state.held = true
                    return true
                }
                state.queue.append(continuation)
                return false
            }
            if takenMeanwhile { continuation.resume() }
        }
    }

    /// Hands the turn to the first one queued, or frees it.
    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.head < state.queue.count else {
                state.held = false
                return nil
            }
            let next = state.queue[state.head]
            state.head += 1
            if state.head == state.queue.count {
                state.queue.removeAll(keepingCapacity: true)
                state.head = 0
            }
            return next
        }
        next?.resume()
    }

    /// Transactions waiting for the turn.
    var queued: Int {
        state.withLock { $0.queue.count - $0.head }
    }
}

/// The writer's open transaction while transactions share it: each one after the first runs
/// inside a savepoint of it, and those done wait for its `COMMIT`.
///
/// A commit writes every page its transaction changed to the log. Transactions that follow one
/// another change many of the same pages (the last pages of the messages and events tables and
/// of their indexes, the same conversations), so one commit for those that queued up together
/// writes each of those pages once. A transaction alone in the queue commits at once, as before.
///
/// Touched only by the holder of the writer's turn (``WriterTurns``): handing the turn over
/// goes through its mutex, which orders every access here.
final class CommitGroup: @unchecked Sendable {
    /// Transactions in one commit at most, and how long the first may wait for it: a holder
    /// leaves the commit to the next only within both. The first may still wait for one more
    /// transaction past the window (the one it was left to), which it would have waited for
    /// anyway had it been queued behind it.
    static let limit = 32
    var window = Duration.milliseconds(5)

    private(set) var isOpen = false
    private(set) var members = 0
    private var startedAt = ContinuousClock.now
    private var waiting: [CheckedContinuation<Void, any Error>] = []

    func begin() {
        isOpen = true
        members = 0
        startedAt = .now
    }

    func add() {
        members += 1
    }

    /// Whether the holder, done, may leave the commit to a transaction queued behind it.
    var hasRoom: Bool {
        isOpen && members < Self.limit && ContinuousClock.now - startedAt < window
    }

    /// `continuation` resumes when the group's commit succeeded, or throws why it did not.
    func waitForCommit(_ continuation: CheckedContinuation<Void, any Error>) {
        waiting.append(continuation)
    }

    /// Ends the group; returns the transactions waiting for its outcome.
    func close() -> [CheckedContinuation<Void, any Error>] {
        isOpen = false
        members = 0
        defer { waiting = [] }
        return waiting
    }
}

/// What one transaction's turn on the writer ended with.
enum WriterTurnEnd<T: Sendable>: Sendable {
    /// Still open: a transaction queued behind commits it (a failed body was undone already).
    case leftOpen(Result<T, any Error>)
    /// The group ended: committed (or rolled back) with `commit`'s outcome, `waiting` to hear it.
    case closed(Result<T, any Error>, commit: Result<Bool, any Error>, waiting: [CheckedContinuation<Void, any Error>])
}

/// A transaction's changes were lost with the commit it shared: a later transaction in it
/// failed, and undoing that one alone failed too, so the whole commit was rolled back.
public struct SharedCommitLost: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { "the shared commit was rolled back: \(reason)" }
}
