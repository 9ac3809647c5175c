import Foundation
import ParleyCore
import ParleyStore

/// First start: a server with no workspace creates one, with an owner whose login is printed once.
public enum Bootstrap {
    public struct FirstOwner: Sendable {
        public let workspace: Workspace
        public let owner: User
        public let password: String
    }

    /// Creates the first workspace and owner when the database has none. `email` and `password`
    /// default to `owner@parley.local` and a random password.
    public static func ensureWorkspace(
        services: Services, email: String? = nil, password: String? = nil
    ) async throws -> FirstOwner? {
        guard try await services.workspaces.count() == 0 else { return nil }
        let password = password ?? randomPassword()
        let hash = try await services.passwords.hash(password)
        let email = email ?? "owner@parley.local"
        let created = try await services.workspaces.createWithOwner(
            name: "My workspace", ownerEmail: email, ownerName: "Owner", ownerPasswordHash: hash, at: services.clock.now()
        )
        return FirstOwner(workspace: created.workspace, owner: created.owner, password: password)
    }

    /// 20 characters from an alphabet without look-alikes (~115 bits).
    public static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}
