import Foundation
import Hummingbird
import ParleyCore
@testable import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

@Suite("Realtime event stream")
struct RealtimeStreamTests {
    @Test(arguments: TestBackend.all)
    func liveEventsCarryWhatTheUINeeds(backend: TestBackend) async throws {
        try await LiveHarness.run(backend) { live in
            let api = live.api
            let client = try await live.stream()
            let hello = try await client.next("hello")
            #expect((hello.data["after"] as? NSNumber) != nil)
            _ = try await client.next("ready")

            let contactId = try #require((try await api.send(.post, "/api/v1/contacts", json: ["firstName": "Lucía", "lastName": "Núñez"]).json["id"] as? NSNumber)?.int64Value)
            let created = try await client.next("contact.created")
            #expect(created.eventId != nil)
            #expect((created.data["contact"] as? [String: Any])?["name"] as? String == "Lucía Núñez")

            #expect(try await api.send(.post, "/api/v1/contacts/\(contactId)/conversation/open").status == .created)
            let opened = try await client.next("conversation.opened")
            let row = try #require(opened.data["conversation"] as? [String: Any])
            #expect((row["contact"] as? [String: Any])?["name"] as? String == "Lucía Núñez")
            #expect(row["status"] as? String == "open")
            #expect((opened.data["activity"] as? [String: Any])?["kind"] as? String == "opened")
            let counts = try await client.next("counts")
            #expect(((counts.data["all"] as? [String: Any])?["open"] as? NSNumber)?.intValue == 1)
            #expect(((counts.data["unassigned"] as? [String: Any])?["open"] as? NSNumber)?.intValue == 1)

            #expect(try await api.send(.put, "/api/v1/contacts/\(contactId)/conversation/assignee", json: ["userId": 1]).status == .ok)
            let assigned = try await client.next("conversation.assigned")
            #expect(((assigned.data["conversation"] as? [String: Any])?["assignee"] as? [String: Any])?["id"] as? NSNumber == 1)
            #expect(((assigned.data["activity"] as? [String: Any])?["actor"] as? [String: Any])?["name"] as? String == "Owner")
            let mine = try await client.next("counts")
            #expect(((mine.data["mine"] as? [String: Any])?["open"] as? NSNumber)?.intValue == 1)
            await client.close()
        }
    }

    /// Clients that connect together (a restart, a reconnect storm) share one read of the
    /// counts; a change is still seen by the next client.
    @Test(arguments: TestBackend.all)
    func clientsConnectingTogetherShareOneCountsRead(backend: TestBackend) async throws {
        try await LiveHarness.run(backend) { live in
            let api = live.api
            let first = try #require((try await api.send(.post, "/api/v1/contacts", json: ["firstName": "Ama"]).json["id"] as? NSNumber)?.int64Value)
            #expect(try await api.send(.post, "/api/v1/contacts/\(first)/conversation/open").status == .created)
            let clients = try await withThrowingTaskGroup(of: StreamClient.self) { group in
                for _ in 0..<20 { group.addTask { try await live.stream() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Generous waits: with the whole suite on one PostgreSQL a counts read has taken
            // 1.7 s, and each client may wait for the read after the one it arrived during.
            for client in clients {
                let counts = try await client.next("counts", timeout: .seconds(30))
                #expect(((counts.data["all"] as? [String: Any])?["open"] as? NSNumber)?.intValue == 1)
            }
            let reads = try #require(Self.countsReads(try await api.send(.get, "/metrics", token: "").text))
            #expect(reads < 10, "20 clients connecting together ran \(reads) count queries")

            let second = try #require((try await api.send(.post, "/api/v1/contacts", json: ["firstName": "Kofi"]).json["id"] as? NSNumber)?.int64Value)
            #expect(try await api.send(.post, "/api/v1/contacts/\(second)/conversation/open").status == .created)
            // Counts are a stream of the latest figures: a count read before the change may still
            // arrive first (an event delivered while the clients connected), then the new one.
            var open = 0
            for _ in 0..<5 where open != 2 {
                let broadcast = try await clients[0].next("counts", timeout: .seconds(30))
                open = ((broadcast.data["all"] as? [String: Any])?["open"] as? NSNumber)?.intValue ?? 0
            }
            #expect(open == 2)
            let late = try await live.stream()
            let counts = try await late.next("counts", timeout: .seconds(30))
            #expect(((counts.data["all"] as? [String: Any])?["open"] as? NSNumber)?.intValue == 2)
            for client in clients + [late] { await client.close() }
        }
    }

    private static func countsReads(_ metrics: String) -> Int? {
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("parley_realtime_counts_reads_total ") }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) }
    }

    /// A client that drops in the middle of a burst and resumes with its last id receives every
    /// event exactly once, in order.
    @Test(arguments: TestBackend.all)
    func resumeInTheMiddleOfABurstLosesNothing(backend: TestBackend) async throws {
        try await LiveHarness.run(backend) { live in
            let first = try await live.stream()
            _ = try await first.next("ready", timeout: .seconds(30))
            let writer = Task {
                for index in 0..<1000 {
                    _ = try await live.services.contacts.create(workspaceId: 1, fields: ContactFields(firstName: .some("Burst \(index)")),
                                                                actorUserId: nil, at: live.api.clock.now())
                }
            }
            var ids: [Int64] = []
            while ids.count < 250 {
                let frame: [String: Any]
                // Generous waits: a thousand writes racing the whole suite on one loaded
                // PostgreSQL can pause the burst for seconds; this test is about order and
                // exactly-once, not speed (parley-bench measures fan-out latency).
                do { frame = try await first.next("contact.created", timeout: .seconds(30)) } catch {
                    throw PhaseFailure(phase: "first stream, \(ids.count) events in", error: error)
                }
                ids.append(try #require(frame.eventId))
            }
            await first.close()
            let second = try await live.stream(after: ids.last)
            #expect((try await second.next("hello", timeout: .seconds(30)).data["after"] as? NSNumber)?.int64Value == ids.last)
            while ids.count < 1000 {
                let frame: [String: Any]
                do { frame = try await second.next(timeout: .seconds(30)) } catch {
                    throw PhaseFailure(phase: "resumed stream, \(ids.count) events in", error: error)
                }
                #expect(frame.frameType != "reset")
                if frame.frameType == "contact.created" { ids.append(try #require(frame.eventId)) }
            }
            try await writer.value
            #expect(Set(ids).count == 1000)
            #expect(ids == ids.sorted())
            await second.close()
        }
    }

    @Test(arguments: TestBackend.all)
    func anIdNoLongerKeptIsAReset(backend: TestBackend) async throws {
        try await LiveHarness.run(backend) { live in
            _ = try await live.api.send(.post, "/api/v1/contacts", json: ["firstName": "Old"])
            let oldest = try #require(try await live.services.eventFeed.head().id as Int64?)
            live.api.clock.advance(by: 8 * 24 * 3600)
            _ = try await live.api.send(.post, "/api/v1/contacts", json: ["firstName": "New"])
            // The server's own pruning may get there first; either way the old event is gone.
            try await live.services.eventFeed.prune(olderThan: live.api.clock.now().addingTimeInterval(-7 * 24 * 3600))
            #expect(try await live.services.eventFeed.position(ofEvent: oldest, workspaceId: 1) == nil)
            // The reset names the live position: wait until the hub has delivered the new event
            // (on PostgreSQL its pump may still be behind the write).
            let deadline = ContinuousClock.now + .seconds(10)
            while await live.services.eventHub.position.id <= oldest, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let client = try await live.stream(after: oldest)
            _ = try await client.next("hello")
            let reset = try await client.next()
            #expect(reset.frameType == "reset")
            #expect((reset.data["after"] as? NSNumber)?.int64Value ?? 0 > oldest)
            _ = try await client.next("ready")
            // Another workspace's or an unknown id is not kept either.
            let unknown = try await live.stream(after: 999_999)
            _ = try await unknown.next("hello")
            #expect(try await unknown.next().frameType == "reset")
            await client.close()
            await unknown.close()
        }
    }

    @Test(arguments: TestBackend.all)
    func agentsWithoutAllSeeOnlyTheirOwnAndUnassigned(backend: TestBackend) async throws {
        try await LiveHarness.run(backend) { live in
            let world = try await InboxWorld.seed(live.api)
            _ = try await live.api.send(.patch, "/api/v1/workspace/settings", json: ["agentsSeeAll": false])
            let agent = try await live.stream(token: world.agent.token)
            _ = try await agent.next("ready")
            let owner = try await live.stream()
            _ = try await owner.next("ready")
            let counts = try await agent.next("counts")
            #expect(counts.data["all"] is NSNull)

            // Pedro is the agent's, Lucía unassigned; Carmen (reopened) goes to the other agent.
            let carmen = try #require(world.contacts["Carmen Ruiz"])
            _ = try await live.services.conversations.open(contactId: carmen, workspaceId: 1, actorUserId: nil, at: live.api.clock.now())
            _ = try await live.services.conversations.assign(contactId: carmen, workspaceId: 1, actor: nil, assigneeId: world.otherAgent.id, at: live.api.clock.now())
            let pedro = try #require(world.contacts["Pedro Alvarez"])
            #expect(try await live.api.send(.post, "/api/v1/contacts/\(pedro)/conversation/read").status == .noContent)

            // The owner sees all three changes; the agent only the one about Pedro.
            _ = try await owner.next("conversation.opened")
            _ = try await owner.next("conversation.assigned")
            _ = try await owner.next("conversation.read")
            let frame = try await agent.next("conversation.read")
            #expect(frame.data["contactId"] as? NSNumber == NSNumber(value: pedro))
            let seen = agent.drain().compactMap { $0.frameType }
            #expect(!seen.contains("conversation.opened"))
            #expect(!seen.contains("conversation.assigned"))
            await agent.close()
            await owner.close()
        }
    }

    @Test(arguments: TestBackend.all)
    func typingReachesOtherAgentsAndBadFramesGetAnError(backend: TestBackend) async throws {
        try await LiveHarness.run(backend) { live in
            let agent = try await live.api.user(.agent)
            let owner = try await live.stream()
            _ = try await owner.next("ready")
            let other = try await live.stream(token: agent.token)
            _ = try await other.next("ready")
            // Presence settles on both users (the first frame may predate the second's arrival).
            _ = try await owner.next("presence") { ($0.data["online"] as? [[String: Any]])?.count == 2 }

            try await owner.send(#"{"type":"typing","contactId":7,"typing":true}"#)
            let typing = try await other.next("typing")
            #expect(typing.data["contactId"] as? NSNumber == 7)
            #expect((typing.data["user"] as? [String: Any])?["name"] as? String == "Owner")
            #expect(typing.data["typing"] as? Bool == true)

            try await other.send("not json")
            #expect((try await other.next("error").data["code"] as? String) == "invalid_frame")
            try await other.send(#"{"type":"subscribe"}"#)
            #expect((try await other.next("error").data["code"] as? String) == "unknown_frame")
            try await other.send(#"{"type":"typing","contactId":"x"}"#)
            #expect((try await other.next("error").data["code"] as? String) == "invalid_frame")
            // Still open, for this client and the others.
            try await other.send(#"{"type":"ping"}"#)
            _ = try await other.next("pong")
            try await owner.send(#"{"type":"ping"}"#)
            _ = try await owner.next("pong")
            #expect(!owner.drain().contains { $0.frameType == "typing" })

            await other.close()
            let gone = try await owner.next("presence") { ($0.data["online"] as? [[String: Any]])?.count == 1 }
            #expect(((gone.data["online"] as? [[String: Any]])?.first?["name"] as? String) == "Owner")
            await owner.close()
        }
    }
}

/// Where a long test stopped, with the error that stopped it.
struct PhaseFailure: Error, CustomStringConvertible {
    let phase: String
    let error: any Error
    var description: String { "\(phase): \(error)" }
}
