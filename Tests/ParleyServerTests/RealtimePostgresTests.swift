import Foundation
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// What only PostgreSQL can do: concurrent writers, and several instances on one database.
@Suite("Realtime on PostgreSQL", .enabled(if: TestBackend.all.contains(.postgres), "needs PARLEY_TEST_POSTGRES_URL"))
struct RealtimePostgresTests {
    /// Transaction A draws an event id, transaction B draws a later one and commits first. The
    /// feed must not hand out B and move past A: it holds B back until A is final.
    @Test func aLaterIdCommittedFirstDoesNotHideTheEarlierOne() async throws {
        try await TestBackend.postgres.withDatabase { database in
            let workspace = try await WorkspaceRepository(database: database).createWithOwner(
                name: "W", ownerEmail: "o@example.com", ownerName: "O", ownerPasswordHash: "x", at: Date()).workspace
            let feed = EventFeed(database: database)
            let start = try await feed.head()
            let (aInserted, aInsertedSignal) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
            let a = Task {
                // A failure ends the signal stream, so the test fails instead of waiting forever.
                defer { aInsertedSignal.finish() }
                try await database.transaction { db in
                    try await EventLog.append(on: db, workspaceId: workspace.id, type: .contactCreated, subjectId: 1, payload: NoPayload(), at: Date())
                    aInsertedSignal.yield()
                    for await _ in release { break }
                }
            }
            for await _ in aInserted { break }
            let b = try await database.transaction { db in
                try await EventLog.append(on: db, workspaceId: workspace.id, type: .contactCreated, subjectId: 2, payload: NoPayload(), at: Date())
            }
            let early = try await feed.read(after: start, limit: 10)
            #expect(early.events.isEmpty)
            #expect(early.heldBack)
            releaseSignal.yield()
            try await a.value
            let later = try await feed.read(after: start, limit: 10)
            #expect(later.events.map(\.event.subjectId) == [1, 2])
            #expect(later.events.last?.event.id == b)
            #expect(!later.heldBack)
        }
    }

    /// The same through a live server: a client receives both, each once.
    @Test func theStreamDeliversAnEventCommittedLateAfterALaterOne() async throws {
        try await LiveHarness.run(.postgres) { live in
            let services = live.services
            let early = try await services.contacts.create(workspaceId: 1, fields: ContactFields(firstName: .some("Early")), actorUserId: nil, at: Date())
            let late = try await services.contacts.create(workspaceId: 1, fields: ContactFields(firstName: .some("Late")), actorUserId: nil, at: Date())
            let client = try await live.stream()
            _ = try await client.next("ready")
            let (aInserted, aInsertedSignal) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
            let a = Task {
                defer { aInsertedSignal.finish() }
                try await services.database.transaction { db in
                    try await EventLog.append(on: db, workspaceId: 1, type: .contactUpdated, subjectId: early.id, payload: NoPayload(), at: Date())
                    aInsertedSignal.yield()
                    for await _ in release { break }
                }
            }
            for await _ in aInserted { break }
            _ = try await services.database.transaction { db in
                try await EventLog.append(on: db, workspaceId: 1, type: .contactUpdated, subjectId: late.id, payload: NoPayload(), at: Date())
            }
            // Give the stream time to (wrongly) deliver the later event and move past the earlier.
            try await Task.sleep(for: .milliseconds(200))
            releaseSignal.yield()
            try await a.value
            var names: [String] = []
            while names.count < 2 {
                let frame = try await client.next("contact.updated")
                names.append(((frame.data["contact"] as? [String: Any])?["firstName"] as? String) ?? "?")
            }
            #expect(names == ["Early", "Late"])
            try await Task.sleep(for: .milliseconds(100))
            #expect(!client.drain().contains { $0.frameType == "contact.updated" })
            await client.close()
        }
    }

    @Test func anEventWrittenThroughOneInstanceReachesAClientOfTheOther() async throws {
        try await TestBackend.postgres.withSharedDatabase { first, second in
            try await LiveHarness.run(.postgres, database: first) { one in
                try await LiveHarness.run(.postgres, database: second) { two in
                    let client = try await two.stream()
                    _ = try await client.next("ready")
                    let created = try await one.api.send(.post, "/api/v1/contacts", json: ["firstName": "Across"])
                    #expect(created.status == .created)
                    let frame = try await client.next("contact.created")
                    #expect((frame.data["contact"] as? [String: Any])?["firstName"] as? String == "Across")
                    // Typing crosses instances too.
                    let local = try await one.stream()
                    _ = try await local.next("ready")
                    let agent = try await one.api.user(.agent)
                    let typist = try await two.stream(token: agent.token)
                    _ = try await typist.next("ready")
                    try await typist.send(#"{"type":"typing","contactId":1,"typing":true}"#)
                    #expect(try await local.next("typing").data["contactId"] as? NSNumber == 1)
                    await local.close()
                    await typist.close()
                    await client.close()
                }
            }
        }
    }
}
