import Foundation
import ParleyCore
import ParleyStore
import Synchronization

/// What the hub hands one WebSocket: a stored event (with its place in the stream, to skip what
/// the replay already sent) or an ephemeral frame.
struct OutboundFrame: Sendable {
    let position: EventPosition?
    let text: String
}

/// One connected client as the hub sees it: who it is, what it may see, and a bounded queue.
/// The hub never waits for a client: a frame that does not fit ends the queue, and the session
/// then closes the socket with the id to resume from.
final class EventSubscriber: Sendable {
    let id: UInt64
    let user: User
    let frames: AsyncStream<OutboundFrame>
    private let continuation: AsyncStream<OutboundFrame>.Continuation
    private let state: Mutex<State>

    struct State {
        var seesAll: Bool
        var overflowed = false
        var lastTyping: ContinuousClock.Instant?
        var lastSent = EventPosition.start
    }

    init(id: UInt64, user: User, seesAll: Bool, capacity: Int) {
        self.id = id
        self.user = user
        (frames, continuation) = AsyncStream.makeStream(of: OutboundFrame.self, bufferingPolicy: .bufferingOldest(capacity))
        state = Mutex(State(seesAll: seesAll))
    }

    var workspaceId: Int64 { user.workspaceId }
    var overflowed: Bool { state.withLock { $0.overflowed } }

    var seesAll: Bool { state.withLock { $0.seesAll } }

    /// The id of the last event written to the socket, in stream order: where the client
    /// resumes from. (On PostgreSQL the stream is not in id order, so this is not the largest id.)
    var lastSent: Int64 { state.withLock { $0.lastSent.id } }

    func markSent(_ position: EventPosition) {
        state.withLock { if position > $0.lastSent { $0.lastSent = position } }
    }

    func setSeesAll(_ value: Bool) {
        state.withLock { $0.seesAll = value }
    }

    /// Whether this client may receive an event meant for `audience` (nil: everyone).
    func mayReceive(_ event: HydratedEvent) -> Bool {
        // A notification is its recipient's alone, whatever the others may see.
        if let recipient = event.recipient { return recipient == user.id }
        guard let audience = event.audience else { return true }
        return state.withLock { $0.seesAll } || audience.contains(user.id)
    }

    func offer(_ frame: OutboundFrame) {
        if case .dropped = continuation.yield(frame) {
            state.withLock { $0.overflowed = true }
            continuation.finish()
        }
    }

    /// Ends the queue (the server is stopping or the client left).
    func finish() {
        continuation.finish()
    }

    /// Rate-limits a client's typing signals to one per second.
    func allowTypingSignal(now: ContinuousClock.Instant) -> Bool {
        state.withLock { state in
            if let last = state.lastTyping, now - last < .seconds(1) { return false }
            state.lastTyping = now
            return true
        }
    }
}
