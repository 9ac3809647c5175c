import Synchronization

/// Tells the other instances that this one committed, with one notification at a time: commits
/// that happen while one is being sent are covered by a single one sent after it.
///
/// PostgreSQL takes one lock for the whole server while a transaction that issued `NOTIFY`
/// commits, so a notification sent inside every writing transaction (as a trigger on `events`
/// did) made all of them commit one after another. Sent after the commit instead, at most one per
/// instance is in flight, and the writing transactions no longer wait for each other.
final class CommitNotifier: Sendable {
    private enum State {
        case idle
        case sending(Task<Void, Never>)
        /// Commits came while sending: one more notification is due after this one.
        case sendingWithMore(Task<Void, Never>)
    }

    private let state = Mutex<State>(.idle)
    private let send: @Sendable () async -> Void

    /// `send` delivers one notification; it must not throw (a lost one is caught up by the
    /// listeners' periodic read).
    init(send: @escaping @Sendable () async -> Void) {
        self.send = send
    }

    /// A transaction committed: makes sure a notification starts after this moment.
    func committed() {
        state.withLock { state in
            switch state {
            case .idle:
                state = .sending(Task { await self.sendUntilCaughtUp() })
            case .sending(let task), .sendingWithMore(let task):
                state = .sendingWithMore(task)
            }
        }
    }

    /// Waits for the notification in flight, if any (and the one due after it).
    func finish() async {
        let task: Task<Void, Never>? = state.withLock { state in
            switch state {
            case .idle: return nil
            case .sending(let task), .sendingWithMore(let task): return task
            }
        }
        await task?.value
    }

    private func sendUntilCaughtUp() async {
        while true {
            await send()
            let again = state.withLock { state -> Bool in
                switch state {
                case .sendingWithMore(let task):
                    state = .sending(task)
                    return true
                case .sending, .idle:
                    state = .idle
                    return false
                }
            }
            if !again { return }
        }
    }
}
