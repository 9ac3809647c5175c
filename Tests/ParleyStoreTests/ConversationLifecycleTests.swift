import Foundation
import ParleyCore
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

@Suite("Conversation lifecycle in the store")
struct ConversationLifecycleTests {
    struct World {
        let database: any Database
        let workspaceId: Int64
        let owner: User
        let channel: Channel
        var inbound: InboundRecorder { InboundRecorder(database: database) }
        var conversations: ConversationRepository { ConversationRepository(database: database) }

        func message(_ id: String, from sender: String = "15550001", at timestamp: Date, text: String = "hola") -> InboundMessage {
            InboundMessage(channelId: channel.id, externalId: sender, displayName: "Ana Pérez", providerMessageId: id,
                           providerTimestamp: timestamp, text: text)
        }

        func identity(_ contactId: Int64) async throws -> ContactIdentity {
            try #require(try await ContactRepository(database: database).find(id: contactId, workspaceId: workspaceId)?.identities.first)
        }
    }

    static func world(_ database: any Database) async throws -> World {
        let created = try await WorkspaceRepository(database: database).createWithOwner(
            name: "Acme", ownerEmail: "o@example.com", ownerName: "O", ownerPasswordHash: "h", at: Date())
        let channel = try await ChannelRepository(database: database).create(
            workspaceId: created.workspace.id, kind: .whatsapp, name: "WA", credentials: [:], apiBaseUrl: nil, actorUserId: nil, at: Date())
        return World(database: database, workspaceId: created.workspace.id, owner: created.owner, channel: channel)
    }

    @Test(arguments: TestBackend.all)
    func inboundCreatesContactIdentityAndConversationOnce(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let world = try await Self.world(database)
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            let first = try await world.inbound.record(world.message("wamid.1", at: t0), workspaceId: world.workspaceId, receivedAt: t0)
            #expect(first.stored)
            #expect(first.openedConversation)
            let replay = try await world.inbound.record(world.message("wamid.1", at: t0), workspaceId: world.workspaceId, receivedAt: t0.addingTimeInterval(5))
            #expect(!replay.stored)
            #expect(replay.messageId == first.messageId)
            let second = try await world.inbound.record(world.message("wamid.2", at: t0.addingTimeInterval(60)), workspaceId: world.workspaceId,
                                                        receivedAt: t0.addingTimeInterval(60))
            #expect(second.contactId == first.contactId)
            #expect(second.conversationId == first.conversationId)
            #expect(!second.openedConversation)

            let contact = try #require(try await ContactRepository(database: database).find(id: first.contactId, workspaceId: world.workspaceId))
            #expect(contact.firstName == "Ana")
            #expect(contact.lastName == "Pérez")
            let conversation = try #require(try await world.conversations.latest(contactId: first.contactId, workspaceId: world.workspaceId))
            #expect(conversation.status == .open)
            #expect(conversation.unreadCount == 2)
            #expect(conversation.waitingSince == t0)
            let count = try await database.read { db in try await db.raw("SELECT COUNT(*) AS n FROM messages").first()?.decode(column: "n", as: Int.self) }
            #expect(count == 2)
        }
    }

    @Test(arguments: TestBackend.all)
    func threadStateFollowsTheNewestProviderTimestamp(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let world = try await Self.world(database)
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            let result = try await world.inbound.record(world.message("m1", at: t0), workspaceId: world.workspaceId, receivedAt: t0)
            #expect(try await world.identity(result.contactId).lastInboundAt == t0)
            // Outbound messages since then are counted (here written directly; sending comes with the outbox).
            try await database.transaction { db in
                try await db.raw("UPDATE contact_identities SET outbound_since_inbound = 3").run()
            }
            // A late, older message arrives: the window does not move back and the count stays.
            _ = try await world.inbound.record(world.message("m0", at: t0.addingTimeInterval(-3600)), workspaceId: world.workspaceId, receivedAt: t0.addingTimeInterval(10))
            var identity = try await world.identity(result.contactId)
            #expect(identity.lastInboundAt == t0)
            #expect(identity.outboundSinceInbound == 3)
            // A newer one moves it forward and resets the count.
            _ = try await world.inbound.record(world.message("m2", at: t0.addingTimeInterval(7200)), workspaceId: world.workspaceId, receivedAt: t0.addingTimeInterval(7200))
            identity = try await world.identity(result.contactId)
            #expect(identity.lastInboundAt == t0.addingTimeInterval(7200))
            #expect(identity.outboundSinceInbound == 0)
        }
    }

    @Test(arguments: TestBackend.all)
    func aReplyAfterClosingOpensANewEpisode(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let world = try await Self.world(database)
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            let first = try await world.inbound.record(world.message("m1", at: t0), workspaceId: world.workspaceId, receivedAt: t0)
            _ = try await world.conversations.assign(contactId: first.contactId, workspaceId: world.workspaceId, actor: world.owner, assigneeId: world.owner.id, at: t0)
            let closed = try await world.conversations.close(contactId: first.contactId, workspaceId: world.workspaceId, actorUserId: world.owner.id,
                                                             category: nil, summary: "done", logic: .keep, at: t0.addingTimeInterval(10))
            #expect(closed.status == .closed)
            #expect(closed.assigneeId == world.owner.id)
            let reply = try await world.inbound.record(world.message("m2", at: t0.addingTimeInterval(100)), workspaceId: world.workspaceId, receivedAt: t0.addingTimeInterval(100))
            #expect(reply.openedConversation)
            #expect(reply.conversationId != first.conversationId)
            let latest = try #require(try await world.conversations.latest(contactId: first.contactId, workspaceId: world.workspaceId))
            #expect(latest.id == reply.conversationId)
            #expect(latest.status == .open)
            #expect(latest.assigneeId == nil)
            #expect(latest.channelId == world.channel.id)
            let flags = try await database.read { db in
                try await db.raw("SELECT id, status FROM conversations ORDER BY id").all().map { try $0.decode(column: "status", as: String.self) }
            }
            #expect(flags == ["closed", "open"])
        }
    }

    @Test(arguments: TestBackend.all)
    func concurrentOpensLeaveOneOpenConversation(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let world = try await Self.world(database)
            let contact = try await ContactRepository(database: database).create(
                workspaceId: world.workspaceId, fields: ContactFields(firstName: "Race"), actorUserId: nil, at: Date())
            let created = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await world.conversations.open(contactId: contact.id, workspaceId: world.workspaceId, actorUserId: world.owner.id, at: Date()).created
                    }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(created == 1)
            let counts = try await database.read { db in
                (try await db.raw("SELECT COUNT(*) AS n FROM conversations WHERE contact_id = \(bind: contact.id)").first()?.decode(column: "n", as: Int.self),
                 try await db.raw("SELECT COUNT(*) AS n FROM conversation_activities WHERE kind = 'opened'").first()?.decode(column: "n", as: Int.self))
            }
            #expect(counts.0 == 1)
            #expect(counts.1 == 1)
        }
    }

    @Test(arguments: TestBackend.all)
    func concurrentInboundFromANewSenderCreatesOneContact(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let world = try await Self.world(database)
            let t0 = Date(timeIntervalSince1970: 1_790_000_000)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        _ = try await world.inbound.record(world.message("burst-\(index % 5)", from: "15559999", at: t0.addingTimeInterval(Double(index))),
                                                           workspaceId: world.workspaceId, receivedAt: t0)
                    }
                }
                try await group.waitForAll()
            }
            let counts = try await database.read { db in
                (try await db.raw("SELECT COUNT(*) AS n FROM contacts").first()?.decode(column: "n", as: Int.self),
                 try await db.raw("SELECT COUNT(*) AS n FROM messages").first()?.decode(column: "n", as: Int.self),
                 try await db.raw("SELECT COUNT(*) AS n FROM conversations").first()?.decode(column: "n", as: Int.self))
            }
            #expect(counts.0 == 1)
            #expect(counts.1 == 5)
            #expect(counts.2 == 1)
        }
    }
}
