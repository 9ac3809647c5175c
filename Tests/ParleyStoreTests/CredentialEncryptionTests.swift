import Crypto
import Foundation
import ParleyCore
@testable import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// Channel credentials at rest: AES-GCM under the installation's key, plain rows encrypted at
/// start, and key rotation.
@Suite("Credential encryption")
struct CredentialEncryptionTests {
    /// One key for the whole test process: other suites may write channels at the same time.
    static let processKey: SecretBox = {
        let box = SecretBox(key: SymmetricKey(size: .bits256))
        CredentialEncryption.install(box)
        return box
    }()

    @Test func sealedTextOpensOnlyWithItsKeyAndUntampered() throws {
        let box = SecretBox(key: SymmetricKey(size: .bits256))
        let sealed = try box.seal("{\"botToken\":\"123:secret\"}")
        #expect(sealed.hasPrefix(SecretBox.prefix) && !sealed.contains("secret"))
        #expect(try box.open(sealed) == "{\"botToken\":\"123:secret\"}")
        #expect(throws: (any Error).self) { try SecretBox(key: SymmetricKey(size: .bits256)).open(sealed) }
        var bytes = Array(sealed.utf8)
        bytes[bytes.count - 3] = bytes[bytes.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: (any Error).self) { try box.open(String(decoding: bytes, as: UTF8.self)) }
    }

    /// Opened credentials are kept by their stored text, for the key that opened them: under
    /// another key the same text must fail as it would unopened, and a text that fails is not kept.
    @Test func openedCredentialsAreKeptForTheirKeyOnly() throws {
        let opened = OpenedCredentials()
        let first = SecretBox(key: SymmetricKey(size: .bits256))
        let sealed = try first.seal("{\"botToken\":\"123:secret\"}")
        #expect(try opened.credentials(sealed, box: first, id: 1) == ["botToken": "123:secret"])
        #expect(try opened.credentials(sealed, box: first, id: 1) == ["botToken": "123:secret"])
        let other = SecretBox(key: SymmetricKey(size: .bits256))
        #expect(throws: CorruptStoredValue.self) { try opened.credentials(sealed, box: other, id: 1) }
        #expect(throws: CorruptStoredValue.self) { try opened.credentials(sealed, box: nil, id: 1) }
        #expect(try opened.credentials(sealed, box: first, id: 1) == ["botToken": "123:secret"])
        // Plain JSON (a row from before there was a key) opens with or without one.
        #expect(try opened.credentials("{\"a\":\"b\"}", box: nil, id: 2) == ["a": "b"])
        #expect(throws: CorruptStoredValue.self) { try opened.credentials("not json", box: first, id: 3) }
        #expect(throws: CorruptStoredValue.self) { try opened.credentials("not json", box: first, id: 3) }
    }

    @Test(arguments: TestBackend.all)
    func credentialsAreStoredEncryptedAndRotate(backend: TestBackend) async throws {
        let key = Self.processKey
        try await backend.withDatabase { database in
            let channels = ChannelRepository(database: database)
            let workspace = try await WorkspaceRepository(database: database).createWithOwner(
                name: "W", ownerEmail: "o@example.com", ownerName: "O", ownerPasswordHash: "x", at: Date()).workspace
            let channel = try await channels.create(workspaceId: workspace.id, kind: .telegram, name: "Bot", credentials: ["botToken": "123:secret"],
                                                    apiBaseUrl: nil, actorUserId: nil, at: Date())
            func stored() async throws -> String {
                try await database.read { db in
                    try await db.raw("SELECT credentials FROM channels WHERE id = \(bind: channel.id)").first()?.decode(column: "credentials", as: String.self) ?? ""
                }
            }
            #expect(try await stored().hasPrefix(SecretBox.prefix))
            #expect(!(try await stored()).contains("secret"))
            #expect(try await channels.credentials(channelId: channel.id, workspaceId: workspace.id) == ["botToken": "123:secret"])

            // A row written before there was a key is encrypted by the start-up pass.
            try await database.transaction { db in
                try await db.raw("UPDATE channels SET credentials = '{\"botToken\":\"123:secret\"}' WHERE id = \(bind: channel.id)").run()
            }
            #expect(try await channels.encryptStoredCredentials(with: key) == 1)
            #expect(try await stored().hasPrefix(SecretBox.prefix))

            // Rotation: everything is readable with the new key only.
            let next = SecretBox(key: SymmetricKey(size: .bits256))
            #expect(try await channels.encryptStoredCredentials(with: next, readingWith: key) == 1)
            #expect(try next.open(try await stored()) == "{\"botToken\":\"123:secret\"}")
            let rotated = try await stored()
            #expect(throws: (any Error).self) { try key.open(rotated) }
        }
    }
}
