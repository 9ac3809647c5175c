import Foundation
import ParleyCore
@testable import ParleyServer
import ParleyStore
import ParleyTestSupport
import Prometheus
import Synchronization
import Testing

/// Inbox counts for connected clients, when counting is slow (a large inbox): events are
/// delivered without waiting for them, one read runs at a time, and the last change is seen.
@Suite("Realtime counts")
struct RealtimeCountsTests {
    /// A counts read that takes a while and reports how many changes had been made when it began.
    final class SlowCounts: Sendable {
        private struct State {
            var changes: Int64 = 0
            var running = 0
            var mostAtOnce = 0
            var reads = 0
            var finished = 0
        }
        private let state = Mutex(State())

        func changed(to value: Int64) { state.withLock { $0.changes = value } }
        var running: Int { state.withLock { $0.running } }
        var mostAtOnce: Int { state.withLock { $0.mostAtOnce } }
        var reads: Int { state.withLock { $0.reads } }
        var finished: Int { state.withLock { $0.finished } }

        func read() async throws -> InboxCounts {
            let open = state.withLock { state in
                state.running += 1
                state.reads += 1
                state.mostAtOnce = max(state.mostAtOnce, state.running)
                return state.changes
            }
            try await Task.sleep(for: .milliseconds(200))
            state.withLock { state in
                state.running -= 1
                state.finished += 1
            }
            return InboxCounts(byAssignee: [nil: .init(open: open, unread: 0)])
        }
    }

    struct QuietBus: EventBus {
        func run(wake: @escaping @Sendable () -> Void, receive: @escaping @Sendable (RealtimeSignal) async -> Void) async {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(1)) }
        }
        func publish(_ signal: RealtimeSignal) async {}
    }

    @Test func slowCountsNeitherHoldUpEventsNorRunTwiceAtOnce() async throws {
        try await TestBackend.sqlite.withDatabase { database in
            let counts = SlowCounts()
            let hub = EventHub(inbox: InboxRepository(database: database), metrics: RealtimeMetrics(registry: PrometheusCollectorRegistry()),
                               readCounts: { _ in try await counts.read() })
            await hub.start(at: .start, bus: QuietBus())
            let owner = User(id: 1, workspaceId: 1, email: "o@example.com", name: "O", role: .owner, createdAt: Date(), disabled: false)
            let (client, _) = await hub.register(user: owner, seesAll: true)

            for change in 1...10 {
                counts.changed(to: Int64(change))
                let event = HydratedEvent(position: EventPosition(tx: 0, id: Int64(change)), workspaceId: 1, type: .messageCreated, createdAt: Date(),
                                          audience: nil, changesCounts: true, agentsSeeAll: nil, frame: "{\"id\":\(change)}")
                await hub.deliver([event], through: event.position)
                // The event is out before any count: no read has ended yet.
                if change == 1 { #expect(counts.finished == 0) }
            }

            var events = 0
            var lastOpen: Int64?
            let deadline = ContinuousClock.now + .seconds(20)
            for await frame in client.frames {
                if frame.position != nil { events += 1 }
                if let data = frame.text.data(using: .utf8), let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                   object["type"] as? String == "counts" {
                    lastOpen = ((object["data"] as? [String: Any])?["all"] as? [String: Any])?["open"] as? Int64
                        ?? (((object["data"] as? [String: Any])?["all"] as? [String: Any])?["open"] as? NSNumber)?.int64Value
                }
                if lastOpen == 10 || ContinuousClock.now > deadline { break }
            }
            #expect(events == 10)
            #expect(lastOpen == 10)
            #expect(counts.mostAtOnce == 1)
            #expect(counts.reads <= 3, "10 changes ran \(counts.reads) count reads")
            await hub.unregister(client)
        }
    }

    @Test func aClientWhoseFirstCountsReadFailedGetsTheNext() async throws {
        try await TestBackend.sqlite.withDatabase { database in
            let attempts = Mutex(0)
            let hub = EventHub(inbox: InboxRepository(database: database), metrics: RealtimeMetrics(registry: PrometheusCollectorRegistry()),
                               readCounts: { _ in
                                   let attempt = attempts.withLock { $0 += 1; return $0 }
                                   if attempt == 1 { throw StoreError.conflict("the database is busy") }
                                   return InboxCounts(byAssignee: [nil: .init(open: 3, unread: 0)])
                               })
            await hub.start(at: .start, bus: QuietBus())
            let owner = User(id: 1, workspaceId: 1, email: "o@example.com", name: "O", role: .owner, createdAt: Date(), disabled: false)
            let (client, _) = await hub.register(user: owner, seesAll: true)
            await hub.sendCounts(to: client)
            let waiting = Task {
                for await frame in client.frames where frame.text.contains("\"counts\"") { return frame.text }
                return ""
            }
            let timeout = Task {
                try await Task.sleep(for: .seconds(10))
                waiting.cancel()
            }
            let text = await waiting.value
            timeout.cancel()
            #expect(text.contains("\"open\":3"), "counts after a failed read: \(text)")
            #expect(attempts.withLock { $0 } == 2)
            await hub.unregister(client)
        }
    }
}
