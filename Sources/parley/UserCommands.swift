import ArgumentParser
import Foundation
import Logging
import ParleyCore
import ParleyServer
import ParleyStore

/// Opens the database, migrates it and hands the services to `body`.
func withServices<T>(_ options: DatabaseOptions, _ body: (Services) async throws -> T) async throws -> T {
    var logger = try options.makeLogger()
    logger.logLevel = max(logger.logLevel, .warning)
    let db = try await DatabaseFactory.open(url: options.resolvedDatabaseURL, logger: logger)
    do {
        try await Migrator(database: db, logger: logger).migrate()
        let cost = Environment.value("PARLEY_BCRYPT_COST").flatMap(UInt8.init) ?? 12
        let result = try await body(Services(configuration: ServerConfiguration(bcryptCost: cost), database: db, logger: logger))
        await db.shutdown()
        return result
    } catch {
        await db.shutdown()
        throw error
    }
}

/// Reads a password from the option, or asks for it without echo.
func readPassword(_ given: String?, prompt: String) throws -> String {
    if let given { return given }
    guard let typed = getpass(prompt).map({ String(cString: $0) }), !typed.isEmpty else {
        throw ValidationError("a password is required")
    }
    return typed
}

func checkPassword(_ password: String) throws {
    guard password.count >= Validation.minimumPasswordLength, password.utf8.count <= 72 else {
        throw ValidationError("the password must be \(Validation.minimumPasswordLength) to 72 bytes long")
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Create.self, List.self, Password.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user. With no workspace yet, creates one with this user as owner.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The user's email address") var email: String
        @Option(help: "The user's display name (default: the part of the email before @)") var name: String?
        @Option(help: "owner, manager or agent") var role: String = "agent"
        @Option(help: "Password (asked for when left out)") var password: String?
        @Option(help: "Workspace id (default: the first workspace)") var workspace: Int64?

        func run() async throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("role must be owner, manager or agent") }
            guard Validation.isPlausibleEmail(email) else { throw ValidationError("'\(email)' is not an email address") }
            let password = try readPassword(password, prompt: "Password for \(email): ")
            try checkPassword(password)
            let name = self.name ?? String(email.split(separator: "@").first ?? "")
            try await withServices(database) { services in
                let hash = try await services.passwords.hash(password)
                let now = services.clock.now()
                if try await services.workspaces.count() == 0 {
                    guard role == .owner else { throw ValidationError("there is no workspace yet: create the owner first (--role owner)") }
                    let created = try await services.workspaces.createWithOwner(name: "My workspace", ownerEmail: email, ownerName: name,
                                                                                 ownerPasswordHash: hash, at: now)
                    print("Created workspace \(created.workspace.id) with owner \(created.owner.email) (user \(created.owner.id)).")
                    return
                }
                let workspaceId = try await resolveWorkspace(workspace, services: services)
                do {
                    let user = try await services.users.create(workspaceId: workspaceId, email: email, name: name, passwordHash: hash,
                                                               role: role, actorUserId: nil, at: now)
                    print("Created \(user.role.rawValue) \(user.email) (user \(user.id)) in workspace \(workspaceId).")
                } catch StoreError.conflict(let message) {
                    throw ValidationError(message)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a workspace's users.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Workspace id (default: the first workspace)") var workspace: Int64?

        func run() async throws {
            try await withServices(database) { services in
                let workspaceId = try await resolveWorkspace(workspace, services: services)
                var after: Int64? = nil
                while true {
                    let page = try await services.users.list(workspaceId: workspaceId, afterId: after, limit: 200)
                    for user in page {
                        print("\(user.id)\t\(user.role.rawValue)\t\(user.email)\t\(user.name)")
                    }
                    guard page.count == 200, let last = page.last else { break }
                    after = last.id
                }
            }
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a user's password.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "The user's email address") var email: String
        @Option(help: "New password (asked for when left out)") var password: String?

        func run() async throws {
            let password = try readPassword(password, prompt: "New password for \(email): ")
            try checkPassword(password)
            try await withServices(database) { services in
                guard let found = try await services.users.credentials(email: email) else {
                    throw ValidationError("no user with email \(email)")
                }
                try await services.users.setPassword(userId: found.user.id, passwordHash: try await services.passwords.hash(password))
                print("Password changed for \(found.user.email).")
            }
        }
    }
}

func resolveWorkspace(_ id: Int64?, services: Services) async throws -> Int64 {
    if let id {
        guard try await services.workspaces.find(id: id) != nil else { throw ValidationError("no workspace \(id)") }
        return id
    }
    guard let first = try await services.workspaces.first() else { throw ValidationError("there is no workspace yet") }
    return first.id
}

struct WorkspaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "workspace", abstract: "Manage workspaces.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a workspace with its owner.")

        @OptionGroup var database: DatabaseOptions
        @Option(help: "Workspace name") var name: String
        @Option(name: .customLong("owner-email"), help: "The owner's email address") var ownerEmail: String
        @Option(name: .customLong("owner-name"), help: "The owner's display name") var ownerName: String?
        @Option(name: .customLong("owner-password"), help: "The owner's password (asked for when left out)") var ownerPassword: String?

        func run() async throws {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            guard (1...200).contains(trimmed.count) else { throw ValidationError("the name must be 1 to 200 characters") }
            guard Validation.isPlausibleEmail(ownerEmail) else { throw ValidationError("'\(ownerEmail)' is not an email address") }
            let password = try readPassword(ownerPassword, prompt: "Password for \(ownerEmail): ")
            try checkPassword(password)
            try await withServices(database) { services in
                let hash = try await services.passwords.hash(password)
                do {
                    let created = try await services.workspaces.createWithOwner(
                        name: trimmed, ownerEmail: ownerEmail, ownerName: ownerName ?? String(ownerEmail.split(separator: "@").first ?? ""),
                        ownerPasswordHash: hash, at: services.clock.now()
                    )
                    print("Created workspace \(created.workspace.id) \"\(created.workspace.name)\" with owner \(created.owner.email).")
                } catch StoreError.conflict(let message) {
                    throw ValidationError(message)
                }
            }
        }
    }
}
