import Foundation
import HummingbirdWebSocket
import Logging
import ParleyCore
import ParleyStore

/// One client's WebSocket: hello, the replay after its last id (or a reset), then live frames;
/// typing and ping from the client. Everything the client receives goes through its queue in
/// the hub, written by one task, so frames never interleave.
struct EventStreamSession {
    let hub: EventHub
    let services: Services
    let user: User
    let seesAll: Bool
    /// The last event id the client has, if it is resuming.
    let after: Int64?
    let logger: Logger

    static let replayPage = 500
    /// Close code for a client that fell too far behind; the reason holds `{"after":ID}`.
    static let slowConsumer: UInt16 = 4000

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let (subscriber, live) = await hub.register(user: user, seesAll: seesAll)
        subscriber.markSent(live)
        do {
            let cursor = try await start(subscriber: subscriber, live: live, outbound: outbound)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await receive(inbound, subscriber: subscriber)
                }
                group.addTask {
                    // Live frames the replay already covered are skipped by position.
                    for await frame in subscriber.frames {
                        if let position = frame.position, position <= cursor { continue }
                        try await outbound.writeTextMessage(frame.text)
                        if let position = frame.position { subscriber.markSent(position) }
                    }
                }
                // Whichever ends first (client left, queue ended) ends the session.
                try await group.next()
                group.cancelAll()
            }
        } catch {
            logger.debug("event stream ended", metadata: ["error": "\(error)"])
        }
        let reason = FrameText.encode(FramePayload.Position(after: subscriber.lastSent))
        if subscriber.overflowed {
            hub.metrics.overflows.increment()
            try? await outbound.close(.unknown(Self.slowConsumer), reason: reason)
        } else {
            try? await outbound.close(.goingAway, reason: reason)
        }
        // After the close frame: a shutdown waits for every client to be gone, so by then each
        // has its resume id.
        await hub.unregister(subscriber)
    }

    /// Sends hello, presence and counts, then replays what the client missed; returns the
    /// position the replay reached.
    private func start(subscriber: EventSubscriber, live: EventPosition, outbound: WebSocketOutboundWriter) async throws -> EventPosition {
        let feed = services.eventFeed
        var cursor = live
        var resumeFrom: EventPosition?
        if let after {
            resumeFrom = after == 0 ? nil : try await feed.position(ofEvent: after, workspaceId: user.workspaceId)
        }
        try await outbound.writeTextMessage(FrameText.signal("hello", FramePayload.Position(after: resumeFrom?.id ?? live.id)))
        if let after, resumeFrom == nil {
            hub.metrics.resets.increment()
            logger.debug("event stream reset", metadata: ["after": "\(after)"])
            try await outbound.writeTextMessage(FrameText.signal("reset", FramePayload.Position(after: live.id)))
        }
        if let resumeFrom {
            hub.metrics.resumes.increment()
            cursor = resumeFrom
            let hydrator = EventHydrator(services: services)
            while true {
                let batch = try await feed.read(after: cursor, workspaceId: user.workspaceId, limit: Self.replayPage)
                guard let last = batch.events.last else { break }
                for event in try await hydrator.hydrate(batch.events) where subscriber.mayReceive(event) {
                    try await outbound.writeTextMessage(event.frame)
                }
                cursor = last.position
                subscriber.markSent(last.position)
                if batch.events.count < Self.replayPage { break }
            }
            if cursor < live { cursor = live }
        }
        subscriber.markSent(cursor)
        try await outbound.writeTextMessage(FrameText.signal("ready"))
        try await outbound.writeTextMessage(await hub.presenceFrame(workspaceId: user.workspaceId).text)
        await hub.sendCounts(to: subscriber)
        return cursor
    }

    private struct ClientFrame: Decodable {
        let type: String
        let contactId: Int64?
        let typing: Bool?
    }

    /// Client frames: typing and ping. Anything else is answered with an error frame; the
    /// connection stays open.
    private func receive(_ inbound: WebSocketInboundStream, subscriber: EventSubscriber) async throws {
        for try await message in inbound.messages(maxSize: 4096) {
            guard case .text(let text) = message,
                  let frame = try? JSONDecoder().decode(ClientFrame.self, from: Data(text.utf8)) else {
                reply(subscriber, error: "invalid_frame", "frames are JSON objects with a \"type\": typing or ping")
                continue
            }
            switch frame.type {
            case "ping":
                subscriber.offer(OutboundFrame(position: nil, text: FrameText.signal("pong")))
            case "typing":
                guard let contactId = frame.contactId, contactId > 0, let typing = frame.typing else {
                    reply(subscriber, error: "invalid_frame", "typing needs \"contactId\" (an id) and \"typing\" (true or false)")
                    continue
                }
                // "Stopped" always goes out; "started" at most once a second per client.
                if !typing || subscriber.allowTypingSignal(now: .now) {
                    await hub.typing(from: subscriber, contactId: contactId, typing: typing)
                }
            default:
                reply(subscriber, error: "unknown_frame", "unknown frame type '\(frame.type.prefix(40))'; expected typing or ping")
            }
        }
    }

    private func reply(_ subscriber: EventSubscriber, error code: String, _ message: String) {
        subscriber.offer(OutboundFrame(position: nil, text: FrameText.signal("error", FramePayload.Failure(code: code, message: message))))
    }
}
