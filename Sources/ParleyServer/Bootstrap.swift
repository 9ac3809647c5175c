import Foundation
import ParleyCore
import ParleyStore

/// First start: a server with no workspace creates one with an owner. Unless a password is
/// given, the owner chooses one in the browser through a one-time setup link.
public enum Bootstrap {
    public struct FirstOwner: Sendable {
        public let workspace: Workspace
        public let owner: User
        /// The password given at start, if any.
        public let password: String?
    }

    /// A one-time link where the owner chooses their password.
    public struct SetupLink: Sendable {
        public let owner: User
        public let url: String
        public let expiresAt: Date
    }

    /// Creates the first workspace and owner when the database has none. `email` defaults to
    /// `owner@parley.local`. Without `password` the owner gets an unguessable one nobody knows,
    /// to be replaced through ``setupLink(services:)``.
    public static func ensureWorkspace(
        services: Services, email: String? = nil, password: String? = nil
    ) async throws -> FirstOwner? {
        guard try await services.workspaces.count() == 0 else { return nil }
        let hash = try await services.passwords.hash(password ?? randomPassword())
        let created = try await services.workspaces.createWithOwner(
            name: "My workspace", ownerEmail: email ?? "owner@parley.local", ownerName: "Owner", ownerPasswordHash: hash, at: services.clock.now()
        )
        if password == nil {
            _ = try await services.oneTimeTokens.issue(purpose: .ownerSetup, userId: created.owner.id,
                                                       expiresAt: services.clock.now(), at: services.clock.now())
        }
        return FirstOwner(workspace: created.workspace, owner: created.owner, password: password)
    }

    /// A fresh setup link for the owner who has not chosen a password yet (it voids the previous
    /// one), or nil once setup is done. Called at every start, so a lost or expired link is
    /// replaced by restarting the server.
    public static func setupLink(services: Services) async throws -> SetupLink? {
        guard let userId = try await services.oneTimeTokens.holders(purpose: .ownerSetup).first,
              let owner = try await services.users.find(id: userId) else { return nil }
        let now = services.clock.now()
        let expiresAt = now.addingTimeInterval(SessionController.setupLinkLifetime)
        let token = try await services.oneTimeTokens.issue(purpose: .ownerSetup, userId: userId, expiresAt: expiresAt, replacing: true, at: now)
        // The token rides in the fragment, which browsers never send to a server or a log.
        return SetupLink(owner: owner, url: "\(services.configuration.publicURL)/setup#\(token)", expiresAt: expiresAt)
    }

    /// 20 characters from an alphabet without look-alikes (~115 bits).
    public static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }
}
