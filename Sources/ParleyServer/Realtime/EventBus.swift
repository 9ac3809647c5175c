import Foundation
import Logging
import ParleyStore

/// An ephemeral signal between instances: typing and presence. Never stored.
struct RealtimeSignal: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable {
        case typing
        case presence
        /// A website chat visitor typing; `userName` is theirs, `userId` 0.
        case visitorTyping
    }

    var kind: Kind
    var instance: String
    var workspaceId: Int64
    var userId: Int64
    var userName: String
    var contactId: Int64?
    /// typing: started (true) or stopped; presence: online (true) or gone.
    var active: Bool
}

/// Tells the hub when new events may be readable and carries ephemeral signals. In-process on
/// SQLite (one server); on PostgreSQL every instance LISTENs, so a change written through any
/// of them reaches the clients of all. Wake-ups carry no data: the hub reads the events table.
protocol EventBus: Sendable {
    /// Runs until cancelled, calling `wake` when events may have been written and `receive`
    /// for every signal (including this instance's own).
    func run(wake: @escaping @Sendable () -> Void, receive: @escaping @Sendable (RealtimeSignal) async -> Void) async
    func publish(_ signal: RealtimeSignal) async
}

/// One process: commits of this process wake the hub; signals go straight to it.
final class LocalEventBus: EventBus {
    let database: any Database
    private let signals: AsyncStream<RealtimeSignal>
    private let continuation: AsyncStream<RealtimeSignal>.Continuation

    init(database: any Database) {
        self.database = database
        (signals, continuation) = AsyncStream.makeStream(of: RealtimeSignal.self, bufferingPolicy: .bufferingNewest(1024))
    }

    func run(wake: @escaping @Sendable () -> Void, receive: @escaping @Sendable (RealtimeSignal) async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [database] in
                for await _ in database.commits.subscribe() { wake() }
            }
            group.addTask { [signals] in
                for await signal in signals { await receive(signal) }
            }
        }
    }

    func publish(_ signal: RealtimeSignal) async {
        continuation.yield(signal)
    }
}

/// Several instances on one PostgreSQL: a trigger NOTIFYs `parley_events` with each new event's
/// id when its transaction commits; signals travel on the same channel as JSON. The listener
/// reconnects by itself, and every (re)connect wakes the hub to catch up from the table.
final class PostgresEventBus: EventBus {
    static let channel = "parley_events"
    let database: PostgresDatabaseBackend
    let logger: Logger

    init(database: PostgresDatabaseBackend, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    func run(wake: @escaping @Sendable () -> Void, receive: @escaping @Sendable (RealtimeSignal) async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            // This instance's own commits need no round trip through the server.
            group.addTask { [database] in
                for await _ in database.commits.subscribe() { wake() }
            }
            group.addTask { [database, logger] in
                var delay = Duration.milliseconds(100)
                while !Task.isCancelled {
                    let started = ContinuousClock.now
                    do {
                        try await database.listen(channel: Self.channel, onListening: { wake() }, onNotification: { payload in
                            if payload.first == "{" {
                                if let signal = try? JSONDecoder().decode(RealtimeSignal.self, from: Data(payload.utf8)) { await receive(signal) }
                            } else {
                                wake()
                            }
                        })
                    } catch {
                        if Task.isCancelled { break }
                        logger.warning("event listener lost its connection; reconnecting", metadata: ["error": "\(loggableDescription(of: error))"])
                    }
                    // Back off while connecting keeps failing; start over after a connection that held.
                    delay = ContinuousClock.now - started > .seconds(10) ? .milliseconds(100) : min(delay * 2, .seconds(5))
                    try? await Task.sleep(for: delay)
                }
            }
        }
    }

    func publish(_ signal: RealtimeSignal) async {
        guard let data = try? JSONEncoder().encode(signal) else { return }
        do {
            try await database.notify(channel: Self.channel, payload: String(decoding: data, as: UTF8.self))
        } catch {
            logger.warning("could not publish a realtime signal", metadata: ["error": "\(loggableDescription(of: error))"])
        }
    }
}
