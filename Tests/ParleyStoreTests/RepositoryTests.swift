import Foundation
import ParleyCore
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

@Suite("Repositories")
struct RepositoryTests {
    @Test(arguments: TestBackend.all)
    func userEmailsAreUniqueIgnoringCase(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let created = try await WorkspaceRepository(database: database).createWithOwner(
                name: "Acme", ownerEmail: "Owner@Example.com", ownerName: "O", ownerPasswordHash: "h", at: Date()
            )
            let users = UserRepository(database: database)
            await #expect(throws: StoreError.self) {
                _ = try await users.create(workspaceId: created.workspace.id, email: "owner@example.COM", name: "Dup",
                                           passwordHash: "h", role: .agent, actorUserId: nil, at: Date())
            }
            let found = try await users.credentials(email: " OWNER@example.com")
            #expect(found?.user.id == created.owner.id)
            #expect(found?.user.email == "Owner@Example.com")
            #expect(found?.user.role == .owner)
            #expect(try await users.list(workspaceId: created.workspace.id, afterId: nil, limit: 10).count == 1)
        }
    }

    @Test(arguments: TestBackend.all)
    func usersOfAnotherWorkspaceAreNotFound(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let workspaces = WorkspaceRepository(database: database)
            let a = try await workspaces.createWithOwner(name: "A", ownerEmail: "a@example.com", ownerName: "A", ownerPasswordHash: "h", at: Date())
            let b = try await workspaces.createWithOwner(name: "B", ownerEmail: "b@example.com", ownerName: "B", ownerPasswordHash: "h", at: Date())
            let users = UserRepository(database: database)
            #expect(try await users.find(id: b.owner.id, workspaceId: a.workspace.id) == nil)
            #expect(try await users.find(id: b.owner.id, workspaceId: b.workspace.id)?.email == "b@example.com")
        }
    }

    @Test(arguments: TestBackend.all)
    func tokensAreStoredHashedAndExpire(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let created = try await WorkspaceRepository(database: database).createWithOwner(
                name: "Acme", ownerEmail: "o@example.com", ownerName: "O", ownerPasswordHash: "h", at: Date()
            )
            let tokens = TokenRepository(database: database)
            let now = Date()
            let issued = try await tokens.issue(workspaceId: created.workspace.id, userId: created.owner.id, kind: .session, name: "login",
                                                expiresAt: now.addingTimeInterval(60), at: now)
            #expect(issued.token.hasPrefix("pk_"))
            #expect(issued.token.count == 46)
            let stored = try await database.read { db in
                try await db.raw("SELECT token_hash FROM api_tokens").all().map { try $0.decode(column: "token_hash", as: String.self) }
            }
            #expect(stored == [TokenRepository.hash(issued.token)])
            #expect(!stored.contains(issued.token))

            #expect(try await tokens.authenticate(token: issued.token, at: now)?.user.id == created.owner.id)
            #expect(try await tokens.authenticate(token: issued.token, at: now.addingTimeInterval(61)) == nil)
            #expect(try await tokens.authenticate(token: issued.token + "x", at: now) == nil)

            #expect(try await tokens.revoke(tokenId: issued.info.id, userId: created.owner.id))
            #expect(try await tokens.authenticate(token: issued.token, at: now) == nil)
            #expect(try await tokens.revoke(tokenId: issued.info.id, userId: created.owner.id) == false)
        }
    }

    @Test(arguments: TestBackend.all)
    func channelCredentialsStayInTheStore(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let channel = try await Fixtures.channel(in: database, kind: .telegram)
            let channels = ChannelRepository(database: database)
            #expect(channel.credentialKeys == ["authToken"])
            let encoded = String(decoding: try JSONEncoder().encode(channel), as: UTF8.self)
            #expect(!encoded.contains("s3cret"))

            let updated = try await channels.update(
                id: channel.id, workspaceId: channel.workspaceId,
                .init(name: "Renamed", credentials: ["botToken": "t0k", "authToken": ""], apiBaseUrl: .some("http://127.0.0.1:9"), commercialTermsAccepted: true),
                actorUserId: nil, at: Date()
            )
            #expect(updated?.name == "Renamed")
            #expect(updated?.credentialKeys == ["botToken"])
            #expect(updated?.apiBaseUrl == "http://127.0.0.1:9")
            #expect(updated?.commercialTermsAccepted == true)
            #expect(try await channels.credentials(channelId: channel.id, workspaceId: channel.workspaceId) == ["botToken": "t0k"])

            #expect(try await channels.find(id: channel.id, workspaceId: channel.workspaceId + 1) == nil)
            #expect(try await channels.update(id: channel.id, workspaceId: channel.workspaceId + 1, .init(name: "x"), actorUserId: nil, at: Date()) == nil)
            #expect(try await channels.delete(id: channel.id, workspaceId: channel.workspaceId + 1, actorUserId: nil, at: Date()) == false)
            #expect(try await channels.delete(id: channel.id, workspaceId: channel.workspaceId, actorUserId: nil, at: Date()))
            #expect(try await channels.find(id: channel.id, workspaceId: channel.workspaceId) == nil)
        }
    }

    @Test(arguments: TestBackend.all)
    func workspaceSettingsRoundTrip(backend: TestBackend) async throws {
        try await backend.withDatabase { database in
            let workspaces = WorkspaceRepository(database: database)
            let created = try await workspaces.createWithOwner(name: "Acme", ownerEmail: "o@example.com", ownerName: "O", ownerPasswordHash: "h", at: Date())
            #expect(created.workspace.settings == WorkspaceSettings())
            let settings = WorkspaceSettings(closingNoteMode: .bothRequired, closingCategories: ["Sale", "Support"], closingLogic: .unassign, agentsSeeAll: false)
            _ = try await workspaces.updateSettings(workspaceId: created.workspace.id, settings: settings, actorUserId: created.owner.id, at: Date())
            #expect(try await workspaces.find(id: created.workspace.id)?.settings == settings)
            let events = try await EventLog.list(in: database, workspaceId: created.workspace.id, after: 0, limit: 10)
            #expect(events.map(\.type) == [.workspaceCreated, .userCreated, .workspaceSettingsUpdated])
        }
    }
}
