import Foundation
import Logging
import ParleyCore
import ParleyStore

/// Fans events and signals out to this instance's WebSocket clients. The pump (see
/// ``RealtimeService``) reads each new event once, and the hub gives the same encoded frame to
/// every client allowed to see it; a client's own replay covers what came before it connected.
public actor EventHub {
    let metrics: RealtimeMetrics
    let instance = UUID().uuidString
    /// Frames a client may fall behind by before it is closed with its resume id.
    let clientCapacity: Int
    var bus: (any EventBus)?

    /// The last event delivered live; a new client's replay runs at least this far.
    private(set) var position = EventPosition.start
    private var subscribers: [Int64: [UInt64: EventSubscriber]] = [:]
    private var nextId: UInt64 = 0
    private var counts: [Int64: CountsState] = [:]
    /// Reads a workspace's counts (the tests slow it down).
    let readCounts: @Sendable (Int64) async throws -> InboxCounts
    let presence = PresenceBook()
    /// Website chat visitors connected to this instance.
    let visitors = VisitorRegistry()

    init(inbox: InboxRepository, metrics: RealtimeMetrics, clientCapacity: Int = 1024,
         readCounts: (@Sendable (Int64) async throws -> InboxCounts)? = nil) {
        self.metrics = metrics
        self.clientCapacity = clientCapacity
        self.readCounts = readCounts ?? { workspaceId in try await inbox.counts(workspaceId: workspaceId) }
    }

    private let started = StartGate()

    func start(at position: EventPosition, bus: any EventBus) {
        self.position = position
        self.bus = bus
        started.open()
    }

    /// Adds a client; it receives every live event after the returned position. A client that
    /// arrives while the server is still starting waits for the stream's first position.
    func register(user: User, seesAll: Bool) async -> (EventSubscriber, EventPosition) {
        await started.wait()
        nextId += 1
        let subscriber = EventSubscriber(id: nextId, user: user, seesAll: seesAll, capacity: clientCapacity)
        subscribers[user.workspaceId, default: [:]][subscriber.id] = subscriber
        metrics.clients.increment()
        if presence.connected(user: user) { await publish(presence: user, online: true) }
        return (subscriber, position)
    }

    func unregister(_ subscriber: EventSubscriber) async {
        guard subscribers[subscriber.workspaceId]?.removeValue(forKey: subscriber.id) != nil else { return }
        if subscribers[subscriber.workspaceId]?.isEmpty == true { subscribers[subscriber.workspaceId] = nil }
        subscriber.finish()
        metrics.clients.decrement()
        if presence.disconnected(user: subscriber.user) { await publish(presence: subscriber.user, online: false) }
    }

    /// Delivers a batch read from the feed, then advances to `end` (the batch's last position,
    /// even when some of its events had nothing left to show).
    func deliver(_ events: [HydratedEvent], through end: EventPosition) async {
        let now = Date()
        for event in events {
            let clients = subscribers[event.workspaceId] ?? [:]
            if let seesAll = event.agentsSeeAll {
                for client in clients.values where client.user.role == .agent { client.setSeesAll(seesAll) }
            }
            if let visitor = event.visitor { visitors.deliver(visitor) }
            let frame = OutboundFrame(position: event.position, text: event.frame)
            var count = 0
            for client in clients.values where client.mayReceive(event) {
                client.offer(frame)
                count += 1
            }
            metrics.delivered.increment(by: Int64(count))
            metrics.lag.record(.milliseconds(max(0, Int64(now.timeIntervalSince(event.createdAt) * 1000))))
        }
        if end > position { position = end }
        // Delivery never waits for counts: they follow from a read of their own.
        for workspaceId in Set(events.filter(\.changesCounts).map(\.workspaceId)) where subscribers[workspaceId] != nil {
            counts[workspaceId, default: CountsState()].broadcastDue = true
            startCountsReads(workspaceId)
        }
    }

    /// A new client's All / Mine / Unassigned counts, from the next read to start: one that
    /// started earlier could predate a change the client has already seen in its replay.
    func sendCounts(to client: EventSubscriber) {
        counts[client.workspaceId, default: CountsState()].waiting.append(client)
        startCountsReads(client.workspaceId)
    }

    private func offer(_ tally: InboxCounts, to clients: [EventSubscriber]) {
        for client in clients {
            let view = CountsView(tally, userId: client.user.id, seesAll: client.seesAll)
            client.offer(OutboundFrame(position: nil, text: FrameText.signal("counts", view)))
        }
    }

    private func startCountsReads(_ workspaceId: Int64) {
        guard counts[workspaceId]?.reading == false else { return }
        counts[workspaceId]?.reading = true
        Task { await runCountsReads(workspaceId) }
    }

    /// Reads counts, one read at a time, until every change and every waiting client has been
    /// answered; each read waits out the pause its predecessor earned (see ``CountsState``).
    /// A read answers the changes and the clients that came before it started; those that come
    /// while it runs are answered by the next.
    private func runCountsReads(_ workspaceId: Int64) async {
        while counts[workspaceId]?.hasWork == true {
            // In short steps: a client arriving meanwhile brings the read forward.
            while let next = counts[workspaceId]?.nextReadAt, next > .now {
                try? await Task.sleep(until: min(next, .now + CountsState.shortestPause), clock: .continuous)
            }
            guard var before = counts[workspaceId] else { return }
            let (waiting, broadcast) = (before.waiting, before.broadcastDue)
            (before.waiting, before.broadcastDue) = ([], false)
            counts[workspaceId] = before
            let started = ContinuousClock.now
            metrics.countsReads.increment()
            let tally = try? await readCounts(workspaceId)
            let ended = ContinuousClock.now
            counts[workspaceId]?.lastRead = (ended, ended - started)
            guard let tally else {
                // Its clients would otherwise never get their first counts: the next read answers them.
                counts[workspaceId]?.failedReads += 1
                counts[workspaceId]?.waiting.insert(contentsOf: waiting, at: 0)
                if broadcast { counts[workspaceId]?.broadcastDue = true }
                continue
            }
            counts[workspaceId]?.failedReads = 0
            var recipients = waiting
            if broadcast {
                // Clients that arrived during the read wait for the next one, not for these.
                let arrived = Set((counts[workspaceId]?.waiting ?? []).map(\.id))
                recipients = (subscribers[workspaceId] ?? [:]).values.filter { !arrived.contains($0.id) }
            }
            offer(tally, to: recipients)
        }
        counts[workspaceId]?.reading = false
    }

    // MARK: Signals

    func typing(from subscriber: EventSubscriber, contactId: Int64, typing: Bool) async {
        await bus?.publish(RealtimeSignal(kind: .typing, instance: instance, workspaceId: subscriber.workspaceId, userId: subscriber.user.id,
                                          userName: subscriber.user.name, contactId: contactId, active: typing))
    }

    func receive(_ signal: RealtimeSignal) {
        switch signal.kind {
        case .typing:
            guard let contactId = signal.contactId else { return }
            let frame = OutboundFrame(position: nil, text: FrameText.signal("typing", FramePayload.Typing(
                contactId: contactId, user: .init(id: signal.userId, name: signal.userName), typing: signal.active, expiresInSeconds: 6)))
            for client in (subscribers[signal.workspaceId] ?? [:]).values where client.user.id != signal.userId {
                client.offer(frame)
            }
            deliverToVisitors(typing: signal, contactId: contactId)
        case .visitorTyping:
            guard let contactId = signal.contactId else { return }
            let frame = OutboundFrame(position: nil, text: FrameText.signal("typing", FramePayload.Typing(
                contactId: contactId, user: .init(id: 0, name: signal.userName), typing: signal.active, expiresInSeconds: 6, visitor: true)))
            for client in (subscribers[signal.workspaceId] ?? [:]).values { client.offer(frame) }
        case .presence:
            if presence.record(signal, now: .now) { broadcastPresence(workspaceId: signal.workspaceId) }
        }
    }

    /// Re-announces this instance's users and forgets instances that stopped announcing.
    func heartbeat() async {
        for user in presence.localUsers {
            await publish(presence: user, online: true)
        }
        for workspaceId in presence.expire(now: .now) { broadcastPresence(workspaceId: workspaceId) }
    }

    func online(workspaceId: Int64) -> [ConversationsController.Reference] {
        presence.online(workspaceId: workspaceId).map { .init(id: $0.id, name: $0.name) }
    }

    func presenceFrame(workspaceId: Int64) -> OutboundFrame {
        OutboundFrame(position: nil, text: FrameText.signal("presence", FramePayload.Presence(online: online(workspaceId: workspaceId))))
    }

    private func broadcastPresence(workspaceId: Int64) {
        let frame = presenceFrame(workspaceId: workspaceId)
        for client in (subscribers[workspaceId] ?? [:]).values { client.offer(frame) }
    }

    private func publish(presence user: User, online: Bool) async {
        await bus?.publish(RealtimeSignal(kind: .presence, instance: instance, workspaceId: user.workspaceId, userId: user.id,
                                          userName: user.name, contactId: nil, active: online))
    }

    /// Ends every client's queue; their sessions close with the id to resume from.
    /// WebSocket clients still connected to this instance (a shutdown waits for none).
    var clientCount: Int { subscribers.values.reduce(0) { $0 + $1.count } }

    func closeAll() {
        visitors.closeAll()
        for clients in subscribers.values {
            for client in clients.values { client.finish() }
        }
    }
}
